"""Enrolments as reports for the rules engine, and two programme rules (off by default) that show the API
(task_rules.md §11, issue 15):

* ``post_enrolment_check_in``: a week after an individual is enrolled, visit them (report rule on
  ``beneficiary``); resolved when the individual's ``json_ext.last_visit_date`` falls inside the window.
  Config ``social_protection.post_enrolment_check_in_task_enabled`` (default False).
* ``household_reverification``: every 6 months after a household is registered, re-verify it (contact rule
  on ``group`` with a ``due_date`` callable); resolved when ``json_ext.last_verified_at`` falls inside the
  window, after which the next cycle's task appears. Config
  ``social_protection.household_reverification_task_enabled`` (default False).
"""
import datetime
import math

from tasks_management.services import (
    ReportSource,
    TaskAction,
    TaskEvent,
    TaskRule,
    register_report_source,
    register_rule,
    rule_utils,
)

register_report_source(ReportSource(
    name="beneficiary", model="social_protection.Beneficiary", form="beneficiary",
    subject_type="individual", subject_field="individual",
    fields=lambda obj: {"status": obj.status, "benefit_plan_id": str(obj.benefit_plan_id), **(obj.json_ext or {})},
    only=("id", "individual_id", "benefit_plan_id", "status", "json_ext", "date_created", "is_deleted"),
))
register_report_source(ReportSource(
    name="group_beneficiary", model="social_protection.GroupBeneficiary", form="group_beneficiary",
    subject_type="group", subject_field="group",
    fields=lambda obj: {"status": obj.status, "benefit_plan_id": str(obj.benefit_plan_id), **(obj.json_ext or {})},
    only=("id", "group_id", "benefit_plan_id", "status", "json_ext", "date_created", "is_deleted"),
))


def _date_field(fields, key):
    value = (fields or {}).get(key)
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _in_window(day, due, event):
    if day is None:
        return False
    start = rule_utils.local_date(rule_utils.add_date(due, -event.start))
    end = rule_utils.local_date(rule_utils.add_date(due, event.end))
    return start <= day <= end


def visited_in_window(rule, bundle, report, event, due):
    return _in_window(_date_field(bundle.contact.fields if bundle.contact else None, "last_visit_date"), due, event)


register_rule(TaskRule(
    name="post_enrolment_check_in", title="task.social_protection.post_enrolment_check_in", icon="beneficiary",
    applies_to="reports", applies_to_type=["beneficiary"],
    applies_if=lambda rule, bundle, report: bundle.contact is not None,
    events=[TaskEvent(id="check-in", days=7, start=3, end=7)],
    actions=[TaskAction(type="contact", label="Visit the beneficiary")],
    resolved_if=visited_in_window,
    priority={"level": "medium", "label": "task.priority.routine"},
    enabled="social_protection.post_enrolment_check_in_task_enabled",
))

CYCLE_DAYS = 182  # six months


def reverification_due(rule, event, bundle, report):
    """The due date of the current six-month cycle since registration: cycle n's window stays the current one
    until it has ended (so an unverified household's task fails before the next cycle's task appears)."""
    registered = rule_utils.local_date(bundle.contact.reported_date)
    today = rule_utils.local_date(rule_utils.now())
    elapsed = (today - registered).days - event.end
    cycle = max(1, math.ceil(elapsed / CYCLE_DAYS)) if elapsed > 0 else 1
    if registered + datetime.timedelta(days=cycle * CYCLE_DAYS + event.end) < today:
        cycle += 1
    return rule_utils.add_date(registered, cycle * CYCLE_DAYS)


def verified_in_window(rule, bundle, report, event, due):
    return _in_window(_date_field(bundle.contact.fields, "last_verified_at"), due, event)


register_rule(TaskRule(
    name="household_reverification", title="task.social_protection.household_reverification", icon="household",
    applies_to="contacts", applies_to_type=["group"],
    applies_if=lambda rule, bundle, report: not bundle.contact.deleted,
    events=[TaskEvent(id="reverify", due_date=reverification_due, start=14, end=30)],
    actions=[TaskAction(type="contact", label="Re-verify the household")],
    resolved_if=verified_in_window,
    enabled="social_protection.household_reverification_task_enabled",
))
