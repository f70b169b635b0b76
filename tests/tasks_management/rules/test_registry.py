"""Rule registration (task_rules.md §10): every problem listed, discovery, rules_hash, the shipped rules."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from tasks_management.rules import registry
from tasks_management.rules.schema import TaskAction, TaskEvent, TaskRule, validate_rule


def rule(**overrides):
    values = dict(name="r", title="t", applies_to="reports", events=[TaskEvent(days=1, start=0, end=0)],
                  actions=[TaskAction(form="f")])
    values.update(overrides)
    return TaskRule(**values)


def test_a_valid_rule_has_no_problem():
    assert validate_rule(rule()) == []
    assert validate_rule(rule(actions=[TaskAction(type="contact")], resolved_if=lambda *a: True)) == []


def test_every_problem_is_listed():
    bad = rule(name="x" * 101, title="", applies_to="people", applies_to_type=[],
               events=[TaskEvent(id="a", days=1, due_date=lambda *a: None, start=-1),
                       TaskEvent(id="a" * 65, start=0, end=0), TaskEvent(days=1, start=0, end=0)],
               actions=[TaskAction(type="contact", form="f"), TaskAction(type="report")],
               priority={"level": "urgent"}, contact_label="")
    problems = validate_rule(bad)
    text = "\n".join(problems)
    for expected in ("longer than 100", "title must be", "applies_to must be", "applies_to_type must be",
                     "exactly one of days / due_date", "start must be a number >= 0", "end is required",
                     "longer than 64", "id is required when a rule has several events",
                     "form is not allowed on a contact action", "form is required for a report action",
                     "priority level", "contact_label must be"):
        assert expected in text, expected
    with pytest.raises(ImproperlyConfigured) as error:
        registry.register_rule(bad)
    assert str(error.value).count("\n- ") == len(problems)


def test_contact_actions_need_resolved_if_and_names_are_unique():
    assert any("resolved_if is required" in p for p in validate_rule(rule(actions=[TaskAction(type="contact")])))
    assert any("not unique" in p for p in validate_rule(rule(name="taken"), taken_names=("taken",)))
    assert any("not supported" in p for p in validate_rule(rule(applies_to="scheduled_tasks")))
    assert any("event ids must be unique" in p for p in validate_rule(rule(events=[
        TaskEvent(id="a", days=1, start=0, end=0), TaskEvent(id="a", days=2, start=0, end=0)])))
    with pytest.raises(ImproperlyConfigured):
        registry.register_rule(rule(name="grievance_follow_up"))  # already registered by grievance


def test_discovery_registers_the_shipped_rules_and_sources():
    assert {"grievance_follow_up", "post_enrolment_check_in", "household_reverification"} <= set(registry.RULES)
    assert {"grievance_ticket", "grievance_comment", "beneficiary", "group_beneficiary",
            "individual_data_source"} <= set(registry.REPORT_SOURCES)
    assert {"individual", "group"} <= set(registry.contact_adapters())
    active = {r.name for r in registry.active_rules()}
    assert "grievance_follow_up" in active  # on by default
    assert not {"post_enrolment_check_in", "household_reverification"} & active  # off by default


def test_rules_hash_is_stable_and_follows_the_code():
    first = registry.rules_hash([rule()])
    assert first == registry.rules_hash([rule()])
    assert first != registry.rules_hash([rule(title="other")])
    assert registry.rules_hash([rule(resolved_if=lambda *a: True)]) != registry.rules_hash(
        [rule(resolved_if=lambda *a: False)])


def test_default_resolved_if_and_definition():
    r = rule()
    assert r.definition == r and r.definition is not r
    assert r.resolving_form() == "f"
    with pytest.raises(ValueError):
        rule(actions=[TaskAction(type="contact")], resolved_if=lambda *a: True).resolving_form()
