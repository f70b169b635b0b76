"""Every report against the figures of the conftest's programme, computed by hand: as the administrator (every
location) and as a user restricted to district RPD1 (RPD1 and rows without location)."""
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from reports.services import ReportFilters, run_report

pytestmark = pytest.mark.django_db

D1, D2, NONE = "RPD1 District one", "RPD2 District two", "(no location)"


def rows(name, user, keys, **filters):
    result = run_report(name, user, ReportFilters(**filters))
    return [tuple(row[k] for k in keys) for row in result.rows]


# --- registry -------------------------------------------------------------------------------------------------
REGISTRY = ("location", "households", "individuals", "age_0_17", "age_18_59", "age_60_plus")


def test_registry_by_district(world):
    assert rows("registry_by_location", world.admin, REGISTRY) == [
        (D1, 1, 3, 1, 1, 1), (D2, 1, 2, 0, 2, 0), (NONE, 1, 1, 0, 1, 0)]


def test_registry_by_village_and_region(world):
    assert rows("registry_by_location", world.admin, REGISTRY, level="V") == [
        ("RPV1 Village one", 1, 3, 1, 1, 1), ("RPV2 Village two", 1, 2, 0, 2, 0), (NONE, 1, 1, 0, 1, 0)]
    assert rows("registry_by_location", world.admin, REGISTRY, level="R") == [
        ("RPR Region", 2, 5, 1, 3, 1), (NONE, 1, 1, 0, 1, 0)]


def test_registry_district_user_sees_their_district_and_unlocated_rows(world, district_user):
    assert rows("registry_by_location", district_user, REGISTRY) == [(D1, 1, 3, 1, 1, 1), (NONE, 1, 1, 0, 1, 0)]


def test_location_filter_narrows_and_leaves_unlocated_rows_out(world, district_user):
    assert rows("registry_by_location", world.admin, REGISTRY, location_uuid=world.d2.uuid) == [(D2, 1, 2, 0, 2, 0)]
    # the region holds both districts: the restricted user still gets only theirs
    assert rows("registry_by_location", district_user, REGISTRY, location_uuid=world.region.uuid) == [
        (D1, 1, 3, 1, 1, 1)]


def test_location_filter_outside_the_users_districts_is_refused(world, district_user):
    with pytest.raises(PermissionDenied):
        run_report("registry_by_location", district_user, ReportFilters(location_uuid=world.d2.uuid))


def test_registry_new_per_month(world):
    month = world.today.strftime("%Y-%m")
    assert rows("registry_new_per_month", world.admin, ("month", "individuals", "households")) == [(month, 6, 3)]
    before = world.today.replace(day=1).replace(year=world.today.year - 1)
    assert rows("registry_new_per_month", world.admin, ("month",), date_to=before) == []


# --- enrolment ------------------------------------------------------------------------------------------------
ENROLMENT = ("benefit_plan", "location", "total", "potential", "active", "graduated", "suspended")


def test_enrolment_by_status(world):
    assert rows("enrolment_by_status", world.admin, ENROLMENT) == [
        ("GP Household", D1, 1, 0, 1, 0, 0), ("GP Household", D2, 1, 0, 0, 0, 1),
        ("P Cash", D1, 2, 1, 0, 1, 0), ("P Cash", D2, 1, 0, 0, 0, 1)]


def test_enrolment_by_status_plan_filter_and_district_user(world, district_user):
    assert rows("enrolment_by_status", world.admin, ENROLMENT, benefit_plan_id=world.plan.id) == [
        ("P Cash", D1, 2, 1, 0, 1, 0), ("P Cash", D2, 1, 0, 0, 0, 1)]
    assert rows("enrolment_by_status", district_user, ENROLMENT) == [
        ("GP Household", D1, 1, 0, 1, 0, 0), ("P Cash", D1, 2, 1, 0, 1, 0)]


def test_graduations_and_suspensions_per_month_from_history(world, district_user):
    month = world.today.strftime("%Y-%m")
    keys = ("month", "benefit_plan", "graduations", "suspensions")
    # d was suspended twice (ACTIVE → SUSPENDED → ACTIVE → SUSPENDED); G2 was created SUSPENDED: no change
    assert rows("enrolment_changes_per_month", world.admin, keys) == [(month, "P Cash", 1, 2)]
    assert rows("enrolment_changes_per_month", district_user, keys) == [(month, "P Cash", 1, 0)]
    assert rows("enrolment_changes_per_month", world.admin, keys, benefit_plan_id=world.group_plan.id) == []


# --- payments -------------------------------------------------------------------------------------------------
CYCLE = ("payment_cycle", "payment_plan", "entitlements", "amount", "approved_for_payment", "paid", "paid_amount",
         "reconciled", "reconciled_amount", "failures")


def test_payments_by_cycle(world):
    assert rows("payments_by_cycle", world.admin, CYCLE) == [
        ("C1", "PP", 3, Decimal("220.00"), 1, 1, Decimal("100.00"), 1, Decimal("100.00"), 1),
        ("C1", "PP2", 1, Decimal("30.00"), 0, 0, Decimal("0.00"), 0, Decimal("0.00"), 0)]


def test_payments_district_user_by_household_location_first(world, district_user):
    # PP2's entitlement belongs to household G2 (district two) although its individual f has no location
    assert rows("payments_by_cycle", district_user, CYCLE) == [
        ("C1", "PP", 2, Decimal("150.00"), 1, 1, Decimal("100.00"), 1, Decimal("100.00"), 1)]


def test_payments_by_status_and_period(world):
    keys = ("payment_cycle", "payment_plan", "status", "entitlements", "amount")
    assert rows("payments_by_status", world.admin, keys) == [
        ("C1", "PP", "ACCEPTED", 1, Decimal("70.00")), ("C1", "PP", "APPROVE_FOR_PAYMENT", 1, Decimal("50.00")),
        ("C1", "PP", "PAID", 1, Decimal("100.00")), ("C1", "PP2", "ACCEPTED", 1, Decimal("30.00"))]
    import datetime

    assert rows("payments_by_status", world.admin, keys, date_from=datetime.date(2025, 4, 1)) == []
    assert len(rows("payments_by_status", world.admin, keys, date_from=datetime.date(2025, 3, 1),
                    date_to=datetime.date(2025, 3, 31))) == 4


# --- grievances -----------------------------------------------------------------------------------------------
def test_open_and_overdue_grievances(world, district_user):
    keys = ("location", "category", "channel", "priority", "open", "overdue")
    assert rows("grievances_open", world.admin, keys) == [
        (D1, "Payment", "phone", "High", 1, 1), (D2, "Payment", "phone", "High", 1, 0)]
    assert rows("grievances_open", district_user, keys) == [(D1, "Payment", "phone", "High", 1, 1)]


def test_median_time_to_resolution(world, district_user):
    keys = ("category", "resolved", "median_days")
    assert rows("grievance_resolution", world.admin, keys) == [("Other", 1, 2.0), ("Payment", 2, 2.5)]
    # t5's reporter d lives in district two; t3's reporter is a user (no location)
    assert rows("grievance_resolution", district_user, keys) == [("Other", 1, 2.0), ("Payment", 1, 4.0)]


# --- follow-up tasks ------------------------------------------------------------------------------------------
def test_follow_up_tasks_due(world, district_user):
    import datetime

    from tasks_management.models import RuleState
    from tests.tasks_management.factories import TaskFactory

    day, rule = datetime.timedelta(days=1), "grievance_follow_up"

    def rule_task(key, state, due, location):
        TaskFactory(source=f"task_rules.{rule}", rule_name=rule, rule_state=state, due_date=due, location=location,
                    emission_key=key, acting_user=world.admin)

    # the world's follow-up: Ready, overdue, district one
    rule_task("k2", RuleState.READY, world.today + day, world.v2)     # due, district two
    rule_task("k3", RuleState.DRAFT, world.today + 10 * day, None)    # coming, no location
    rule_task("k4", RuleState.COMPLETED, world.today - day, world.v1)  # done: not counted
    TaskFactory(acting_user=world.admin)  # a maker-checker task: not a follow-up
    keys = ("location", "rule_name", "ready", "overdue", "coming")
    assert rows("follow_up_tasks_due", world.admin, keys) == [
        (D1, rule, 1, 1, 0), (D2, rule, 1, 0, 0), (NONE, rule, 0, 0, 1)]
    assert rows("follow_up_tasks_due", district_user, keys) == [(D1, rule, 1, 1, 0), (NONE, rule, 0, 0, 1)]
    assert rows("follow_up_tasks_due", world.admin, keys, date_to=world.today) == [(D1, rule, 1, 1, 0)]


# --- notifications --------------------------------------------------------------------------------------------
def test_notifications_by_type(world, district_user):
    keys = ("notification_type", "total", "sent", "failed", "pending", "not_sent")
    assert rows("notifications_by_type", world.admin, keys) == [
        ("activation_of_policy", 3, 1, 0, 1, 1), ("starting_of_policy", 1, 0, 1, 0, 0)]
    assert rows("notifications_by_type", district_user, keys) == [
        ("activation_of_policy", 2, 1, 0, 0, 1), ("starting_of_policy", 1, 0, 1, 0, 0)]


# --- rights and filters ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,right", [("registry_by_location", 159001), ("enrolment_by_status", 170001),
                                        ("payments_by_cycle", 200001), ("grievances_open", 127000),
                                        ("notifications_by_type", 131224), ("follow_up_tasks_due", 191001)])
def test_each_report_needs_its_modules_search_right(world, make_user, name, right):
    others = [r for r in (159001, 170001, 200001, 127000, 131224, 191001) if r != right]
    with pytest.raises(PermissionDenied):
        run_report(name, make_user(f"rp-no-{right}", rights=others))
    assert run_report(name, make_user(f"rp-only-{right}", rights=[right], districts=["RPD1", "RPD2"])).rows


def test_unknown_report_and_bad_filters(world):
    with pytest.raises(ValidationError):
        run_report("no_such_report", world.admin)
    with pytest.raises(ValidationError):
        run_report("registry_by_location", world.admin, ReportFilters(level="X"))
    import datetime

    with pytest.raises(ValidationError):
        run_report("registry_by_location", world.admin,
                   ReportFilters(date_from=datetime.date(2025, 2, 1), date_to=datetime.date(2025, 1, 1)))


def test_totals(world):
    result = run_report("payments_by_cycle", world.admin)
    assert result.totals["amount"] == Decimal("250.00") and result.totals["entitlements"] == 4
    assert "payment_cycle" not in result.totals
