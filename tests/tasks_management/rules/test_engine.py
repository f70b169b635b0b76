"""The engine on the database (task_rules.md §7, §13, §14, §8 "Integration", §18): persistence, temporal
decay, purge, freshness, the statement count per chunk, the lock and the emission-key constraint."""
import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import bulk

from tasks_management.models import RuleState, Task, TaskRuleContactState
from tasks_management.rules import engine, registry
from tasks_management.rules.schema import TaskAction, TaskEvent, TaskRule
from tests.individual.factories import IndividualDataSourceFactory, IndividualFactory
from tests.tasks_management.rules.conftest import rule_tasks

pytestmark = pytest.mark.django_db
LABEL = "individual.individual"


def aware(*args):
    return timezone.make_aware(datetime.datetime(*args))


@pytest.fixture
def follow_rule(set_config):
    """Report rule: an uploaded record of kind "trigger" asks for a follow-up record a week later (days 7,
    start 2, end 2); any later record inside the window resolves it (the resolving form is the trigger's)."""
    from grievance_social_protection.apps import TicketConfig

    set_config(TicketConfig, grievance_follow_up_task_enabled=False)
    rule = TaskRule(name="test_follow", title="task.test.follow", applies_to="reports",
                    applies_to_type=["individual_data_source"],
                    applies_if=lambda rule, bundle, report: report.fields.get("kind") == "trigger",
                    events=[TaskEvent(id="week", days=7, start=2, end=2)],
                    actions=[TaskAction(form="individual_data_source")])
    registry.register_rule(rule, replace=True)
    yield rule
    registry.unregister_rule(rule.name)


def person(admin_user, created=None, **fields):
    individual = IndividualFactory(first_name="P", last_name="Q", dob="1990-01-01", json_ext=fields,
                                   acting_user=admin_user)
    if created:
        type(individual).objects.filter(id=individual.id).update(date_created=created)
    return individual


def record(admin_user, individual, when, kind="trigger"):
    obj = IndividualDataSourceFactory(individual=individual, json_ext={"kind": kind}, acting_user=admin_user)
    type(obj).objects.filter(id=obj.id).update(date_created=when)
    return obj


def refresh(admin_user, at, subjects=None, **kwargs):
    return engine.refresh(subjects=subjects, at=at, everything=subjects is None, user=admin_user, **kwargs)


def test_lifecycle_over_time(follow_rule, admin_user):
    p = person(admin_user)
    trigger = record(admin_user, p, aware(2026, 3, 10, 14))
    stats = refresh(admin_user, aware(2026, 3, 10, 15))
    assert stats.created == 1
    (task,) = rule_tasks()
    assert task.rule_state == RuleState.DRAFT and task.status == Task.Status.RECEIVED
    assert (task.start_date, task.due_date, task.end_date) == (datetime.date(2026, 3, 15),
                                                               datetime.date(2026, 3, 17), datetime.date(2026, 3, 19))
    assert task.emission_key == f"individual.individualdatasource:{trigger.id}~week~test_follow"
    # same inputs: the same row, nothing written (emission key stable across refreshes)
    again = refresh(admin_user, aware(2026, 3, 10, 16))
    assert (again.created, again.updated) == (0, 0) and [t.id for t in rule_tasks()] == [task.id]
    # temporal decay without re-evaluating: Draft → Ready → Failed; Failed never goes back
    assert engine.update_temporal_states(at=aware(2026, 3, 16, 9), user=admin_user) == 1
    task.refresh_from_db()
    assert task.rule_state == RuleState.READY and task.status == Task.Status.ACCEPTED
    engine.update_temporal_states(at=aware(2026, 3, 20, 9), user=admin_user)
    task.refresh_from_db()
    assert task.rule_state == RuleState.FAILED
    engine.update_temporal_states(at=aware(2026, 3, 16, 9), user=admin_user)
    task.refresh_from_db()
    assert task.rule_state == RuleState.FAILED
    assert [h["state"] for h in task.json_ext["task_rules"]["state_history"]] == ["Draft", "Ready", "Failed"]
    assert task.history.count() == 3  # created + two decays, with history rows (core.bulk)


def test_resolving_record_completes_and_deleting_the_trigger_cancels(follow_rule, admin_user):
    p = person(admin_user)
    trigger = record(admin_user, p, aware(2026, 3, 10, 14))
    refresh(admin_user, aware(2026, 3, 16, 9))
    (task,) = rule_tasks()
    assert task.rule_state == RuleState.READY
    record(admin_user, p, aware(2026, 3, 16, 10), kind="visit")
    refresh(admin_user, aware(2026, 3, 16, 11))
    task.refresh_from_db()
    assert task.rule_state == RuleState.COMPLETED and task.status == Task.Status.COMPLETED

    p = person(admin_user)  # another individual, without the resolving record
    other = record(admin_user, p, aware(2026, 3, 17, 8))
    refresh(admin_user, aware(2026, 3, 17, 9))
    live = Task.objects.get(emission_key__startswith=f"individual.individualdatasource:{other.id}")
    other.delete(user=admin_user)  # soft delete: the report is still read, flagged deleted
    refresh(admin_user, aware(2026, 3, 17, 10))
    live.refresh_from_db()
    assert live.rule_state == RuleState.CANCELLED
    record(admin_user, p, aware(2026, 3, 17, 11))  # a new trigger: a new document
    refresh(admin_user, aware(2026, 3, 17, 12))
    assert Task.objects.filter(rule_state__in=["Draft", "Ready"]).count() == 1
    assert trigger.id  # the first trigger's task stays Completed
    assert Task.objects.filter(rule_state="Completed").count() == 1


def test_config_change_without_the_rule_and_a_failing_rule(follow_rule, admin_user, caplog):
    p = person(admin_user)
    record(admin_user, p, aware(2026, 3, 10, 14))
    refresh(admin_user, aware(2026, 3, 10, 15))
    broken = TaskRule(name="test_follow", title="t", applies_to="reports", events=[TaskEvent(days=1, start=0, end=0)],
                      actions=[TaskAction(form="x")], applies_if=lambda *a: 1 / 0)
    registry.register_rule(broken, replace=True)
    stats = refresh(admin_user, aware(2026, 3, 10, 16))
    assert stats.errors == 1 and "test_follow" in caplog.text
    assert [t.rule_state for t in rule_tasks()] == ["Draft"]  # left untouched
    registry.unregister_rule("test_follow")
    stats = refresh(admin_user, aware(2026, 3, 10, 17))
    assert stats.errors == 0 and [t.rule_state for t in rule_tasks()] == ["Cancelled"]


def test_clock_rewind_creates_a_new_document(follow_rule, admin_user):
    p = person(admin_user)
    record(admin_user, p, aware(2026, 3, 10, 14))
    refresh(admin_user, aware(2026, 3, 12, 9))
    refresh(admin_user, aware(2026, 3, 11, 9))
    assert sorted(t.rule_state for t in rule_tasks()) == ["Cancelled", "Draft"]


def test_purged_tasks_are_not_recreated(follow_rule, admin_user):
    p = person(admin_user)
    record(admin_user, p, aware(2026, 3, 10, 14))
    refresh(admin_user, aware(2026, 3, 16, 9))
    engine.update_temporal_states(at=aware(2026, 3, 21), user=admin_user)
    assert engine.purge(at=aware(2026, 4, 30)) == 0  # ended 42 days ago: kept
    assert engine.purge(at=aware(2026, 6, 18)) == 1  # 90 days later: gone
    refresh(admin_user, aware(2026, 6, 18, 9))
    assert rule_tasks() == []  # the emission is not timely any more


def test_freshness(follow_rule, admin_user, set_config):
    p = person(admin_user)
    at = aware(2026, 3, 30, 9)
    assert engine.dirty_subjects(at)[LABEL] == [str(p.id)]  # no record yet: dirty
    refresh(admin_user, at, subjects=[(LABEL, p.id)])
    state = TaskRuleContactState.objects.get(contact_id=str(p.id))
    assert not state.is_dirty and state.expire_at == aware(2026, 4, 1)  # reporting interval ends first
    assert LABEL not in engine.dirty_subjects(at + datetime.timedelta(hours=1))
    assert LABEL in engine.dirty_subjects(aware(2026, 4, 1, 0, 1))  # crossing the interval boundary
    assert LABEL in engine.dirty_subjects(aware(2026, 3, 29))  # clock rewound before calculatedAt
    assert LABEL in engine.dirty_subjects(aware(2026, 4, 30))  # fresh a month ago
    from tasks_management.apps import TasksManagementConfig

    set_config(TasksManagementConfig, task_rules_month_start_day=15)
    assert engine.expire_at(aware(2026, 3, 10, 9)) == aware(2026, 3, 15)
    assert engine.expire_at(aware(2026, 3, 20, 9)) == aware(2026, 3, 27, 9)  # 7 days first
    engine.mark_dirty([(LABEL, p.id)], at=at + datetime.timedelta(hours=2))
    assert engine.dirty_subjects(at + datetime.timedelta(hours=3), include_stale=False)[LABEL] == [str(p.id)]


def test_rules_hash_change_marks_everything_dirty(follow_rule, admin_user):
    p = person(admin_user)
    at = aware(2026, 3, 10, 9)
    refresh(admin_user, at, subjects=[(LABEL, p.id)])
    assert not engine.check_rules_hash()  # reloading the same rules keeps the records
    registry.register_rule(TaskRule(name="test_follow", title="changed", applies_to="reports",
                                    events=[TaskEvent(days=1, start=0, end=0)], actions=[TaskAction(form="x")]),
                           replace=True)
    assert engine.check_rules_hash()
    assert TaskRuleContactState.objects.get(contact_id=str(p.id)).is_dirty


def test_statements_per_chunk_do_not_depend_on_emissions(follow_rule, admin_user):
    few = [person(admin_user) for _ in range(3)]
    many = [person(admin_user) for _ in range(3)]
    for p in few:
        record(admin_user, p, aware(2026, 3, 10, 14))
    for p in many:
        for hour in range(10):
            record(admin_user, p, aware(2026, 3, 10, 8 + hour))
    ctx = engine._Context(aware(2026, 3, 10, 20), registry.active_rules(), admin_user)
    ctx.rule_names = None
    costs = []
    for group in (few, many):
        with CaptureQueriesContext(connection) as queries:
            stats = engine.refresh_chunk(LABEL, [str(p.id) for p in group], ctx)
        costs.append((len(queries), stats.created))
    assert costs[0][1] == 3 and costs[1][1] == 30
    assert costs[0][0] == costs[1][0], costs
    # a second pass that cancels every task (the rule disappears) costs the same for both chunks too
    ctx.rules = []
    costs = []
    for group in (few, many):
        with CaptureQueriesContext(connection) as queries:
            stats = engine.refresh_chunk(LABEL, [str(p.id) for p in group], ctx)
        costs.append(len(queries))
    assert costs[0] == costs[1]
    assert Task.objects.filter(rule_state="Cancelled").count() == 33


def test_one_live_task_per_emission_key_and_one_refresh_at_a_time(follow_rule, admin_user):
    p = person(admin_user)
    record(admin_user, p, aware(2026, 3, 10, 14))
    refresh(admin_user, aware(2026, 3, 10, 15))
    (task,) = rule_tasks()
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_rows(Task, [{"emission_key": task.emission_key, "rule_name": "test_follow",
                                 "rule_state": "Ready"}], user=admin_user)
    with engine.refresh_lock():
        with pytest.raises(engine.RefreshBusy):
            refresh(admin_user, aware(2026, 3, 10, 16))
    refresh(admin_user, aware(2026, 3, 10, 16))  # released


def test_state_changed_signal(follow_rule, admin_user):
    from core.signals import ServiceSignalBindType, bind_service_signal, unbind_service_signal

    seen = []

    def handler(**kwargs):
        seen.append(kwargs["result"])

    bind_service_signal("task_rules.state_changed", handler, ServiceSignalBindType.AFTER)
    try:
        p = person(admin_user)
        record(admin_user, p, aware(2026, 3, 10, 14))
        refresh(admin_user, aware(2026, 3, 10, 15))
        engine.update_temporal_states(at=aware(2026, 3, 16), user=admin_user)
    finally:
        unbind_service_signal("task_rules.state_changed", handler)
    assert [(c["old_state"], c["new_state"]) for c in seen] == [(None, "Draft"), ("Draft", "Ready")]
    assert seen[0]["task"].rule_name == "test_follow"


def test_headless_ticket_task(admin_user, set_config):
    from tests.grievance_social_protection.factories import TicketFactory

    ticket = TicketFactory(reporter=admin_user, attending_staff=admin_user, acting_user=admin_user)
    refresh(admin_user, timezone.now())
    (task,) = rule_tasks(rule_name="grievance_follow_up")
    assert task.entity_id == str(ticket.id) and task.entity_type.model == "ticket"
    assert task.data["contact_label"] == ticket.title and task.rule_state == RuleState.READY


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_refreshes_leave_no_duplicate(admin_user):
    import threading

    from tests.grievance_social_protection.factories import TicketFactory

    from tests.individual.factories import IndividualFactory as Ind

    for _ in range(20):
        individual = Ind(acting_user=admin_user)
        TicketFactory(reporter=individual, attending_staff=admin_user, acting_user=admin_user)
    errors = []

    def work():
        try:
            engine.refresh(everything=True, user=admin_user, wait=60)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    live = Task.objects.filter(rule_state__in=["Draft", "Ready"])
    assert live.count() == 20 and live.values("emission_key").distinct().count() == 20


def test_subject_ids_are_canonical(follow_rule, admin_user):
    p = person(admin_user)
    record(admin_user, p, aware(2026, 3, 10, 14))
    refresh(admin_user, aware(2026, 3, 10, 15), subjects=[(LABEL, str(p.id))])
    stats = refresh(admin_user, aware(2026, 3, 10, 16), subjects=[("Individual.Individual", p.id.hex.upper()),
                                                                  (LABEL, "not-a-uuid"), ("nope.model", "1")])
    assert stats.subjects == 1 and (stats.created, stats.updated) == (0, 0)
    assert len(rule_tasks()) == 1
