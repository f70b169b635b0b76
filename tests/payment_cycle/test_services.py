"""PaymentCycleService and PaymentPlanService: validation, result dicts, maker-checker tasks and their completion."""
import datetime
import uuid

import pytest

from payment_cycle.models import PaymentCycle, PaymentPlan
from payment_cycle.services import PaymentCycleService, PaymentPlanService, code_validity
from tasks_management.models import Task
from tasks_management.services import TaskService
from tests.payment_cycle.factories import EntitlementFactory, PaymentCycleFactory
from tests.social_protection.factories import BenefitPlanFactory

pytestmark = pytest.mark.django_db

RULE = "32d96b58-898a-460a-b357-5fd4b95cd87c"


def test_create_then_update_as_upstream_tests_do(admin_user):
    """Spec §7: ELOO 2021-05-01 → 2021-06-01 PENDING, then ACTIVE through the service (no maker-checker)."""
    service = PaymentCycleService(admin_user)
    created = service.create({"code": "ELOO", "start_date": "2021-05-01", "end_date": "2021-06-01",
                              "status": "PENDING"})
    assert created["success"] and created["message"] == "Ok"
    assert created["data"]["uuid"] == created["data"]["id"]
    assert PaymentCycle.objects.filter(id=created["data"]["id"], is_deleted=False).count() == 1
    updated = service.update({"id": created["data"]["id"], "status": "ACTIVE"})
    assert updated["success"], updated
    assert PaymentCycle.objects.get(id=created["data"]["id"]).status == "ACTIVE"
    assert PaymentCycle.objects.filter(is_deleted=False).count() == 1


def test_camel_case_payload_keys_are_accepted(admin_user):
    result = PaymentCycleService(admin_user).create({"code": "CAMEL", "startDate": "2025-01-01",
                                                     "endDate": "2025-01-31", "status": "PENDING"})
    assert result["success"], result
    assert PaymentCycle.objects.get(code="CAMEL").end_date == datetime.date(2025, 1, 31)


@pytest.mark.parametrize("payload, message", [
    ({"code": "X", "start_date": "2025-02-01", "end_date": "2025-01-31"}, "end date must be on or after"),
    ({"code": " X", "start_date": "2025-01-01", "end_date": "2025-01-31"}, "must not start or end with spaces"),
    ({"code": "", "start_date": "2025-01-01", "end_date": "2025-01-31"}, "code is required"),
    ({"code": "X", "start_date": "2025-13-01", "end_date": "2025-01-31"}, "is not a date"),
    ({"code": "X", "start_date": "2025-01-01", "end_date": "2025-01-31", "status": "DONE"}, "Unknown payment cycle"),
])
def test_invalid_cycles_are_refused_with_a_business_message(admin_user, payload, message):
    result = PaymentCycleService(admin_user).create(payload)
    assert not result["success"] and result["message"] == "Failed to create PaymentCycle"
    assert message in result["detail"]
    assert not PaymentCycle.objects.exists()


def test_codes_are_unique_among_live_cycles(admin_user):
    cycle = PaymentCycleFactory(code="DUP", acting_user=admin_user)
    result = PaymentCycleService(admin_user).create({"code": "DUP", "start_date": "2025-01-01",
                                                     "end_date": "2025-01-31"})
    assert not result["success"] and "already exists" in result["detail"]
    assert code_validity("DUP") == (False, "payment_cycle.validation.payment_cycle.code_exists")
    assert code_validity(" NEW") == (False, "payment_cycle.validation.payment_cycle.code_whitespace")
    assert code_validity("NEW") == (True, None)
    cycle.delete(user=admin_user)
    assert code_validity("DUP") == (True, None)


def test_the_dates_of_an_active_cycle_do_not_change(admin_user):
    cycle = PaymentCycleFactory(status="ACTIVE", acting_user=admin_user)
    result = PaymentCycleService(admin_user).update({"id": str(cycle.id), "end_date": "2030-01-01"})
    assert not result["success"] and "ACTIVE" in result["detail"]
    assert PaymentCycleService(admin_user).update({"id": str(cycle.id), "status": "SUSPENDED"})["success"]


def test_delete_is_soft_and_refused_once_entitlements_are_payable(admin_user):
    cycle = PaymentCycleFactory(acting_user=admin_user)
    assert PaymentCycleService(admin_user).delete({"id": str(cycle.id)})["success"]
    cycle.refresh_from_db()
    assert cycle.is_deleted and cycle.history.count() == 2
    active = PaymentCycleFactory(status="ACTIVE", acting_user=admin_user)
    EntitlementFactory(payment_cycle=active, status="APPROVE_FOR_PAYMENT", acting_user=admin_user)
    refused = PaymentCycleService(admin_user).delete({"id": str(active.id)})
    assert not refused["success"] and "cannot be deleted" in refused["detail"]


def test_unauthenticated_calls_are_refused():
    assert PaymentCycleService(None).create({"code": "X"}) == {
        "success": False, "message": "Authentication required", "detail": "PermissionDenied"}


def test_a_create_task_creates_the_cycle_once_a_checker_approves(admin_user, make_checker):
    checker = make_checker("cycle-approver", "PaymentCycleService", rights=[191001, 191003])
    result = PaymentCycleService(admin_user).create_create_task({
        "code": "MC-1", "start_date": "2025-04-01", "end_date": "2025-04-30", "status": "ACTIVE"})
    assert result["success"], result
    assert not PaymentCycle.objects.exists()
    task = Task.objects.get(business_event="PaymentCycleService.create")
    assert task.source == "PaymentCycleService"
    assert task.data["incoming_data"] == {"code": "MC-1", "start_date": "2025-04-01", "end_date": "2025-04-30",
                                          "status": "ACTIVE"}
    # the maker cannot approve; the checker can
    assert not TaskService(admin_user).resolve_task(
        {"id": str(task.id), "business_status": {str(admin_user.id): "APPROVED"}})["success"]
    assert TaskService(checker).resolve_task(
        {"id": str(task.id), "business_status": {str(checker.id): "APPROVED"}})["success"]
    cycle = PaymentCycle.objects.get(code="MC-1")
    assert cycle.status == "ACTIVE" and cycle.user_created == checker
    # a duplicate code is refused when the task is asked for, before anyone approves
    duplicate = PaymentCycleService(admin_user).create_create_task({
        "code": "MC-1", "start_date": "2025-04-01", "end_date": "2025-04-30", "status": "ACTIVE"})
    assert not duplicate["success"] and "already exists" in duplicate["detail"]


def test_an_update_task_keeps_the_current_values(admin_user):
    cycle = PaymentCycleFactory(code="UPD", acting_user=admin_user)
    result = PaymentCycleService(admin_user).create_update_task({"id": str(cycle.id), "status": "ACTIVE"})
    assert result["success"], result
    task = Task.objects.get(business_event="PaymentCycleService.update")
    assert task.entity_id == str(cycle.id)
    assert task.data["current_data"] == {"status": "PENDING"}
    assert PaymentCycle.objects.get(id=cycle.id).status == "PENDING"


# --- payment plans -----------------------------------------------------------------------------------------------
def plan_payload(benefit_plan, **changes):
    return {"code": "PP-1", "name": "Monthly", "benefit_plan_id": str(benefit_plan.id), "calculation": RULE,
            "periodicity": 1, "date_valid_from": "2025-01-01",
            "json_ext": {"calculation_rule": {"fixed_batch": 1500, "limit_per_single_transaction": 0},
                         "advanced_criteria": [{"custom_filter_condition": "able_bodied__exact__boolean=False",
                                                "amount": 2000, "count_to_max": False}]}, **changes}


def test_a_payment_plan_is_created_and_updated(admin_user):
    benefit_plan = BenefitPlanFactory(acting_user=admin_user)
    created = PaymentPlanService(admin_user).create(plan_payload(benefit_plan))
    assert created["success"], created
    plan = PaymentPlan.objects.get(id=created["data"]["id"])
    assert plan.rule_parameters["fixed_batch"] == 1500 and plan.benefit_plan == benefit_plan
    updated = PaymentPlanService(admin_user).update({"id": str(plan.id), "periodicity": 3,
                                                     "json_ext": '{"calculation_rule": {"fixed_batch": 10}}'})
    assert updated["success"], updated
    plan.refresh_from_db()
    assert plan.periodicity == 3 and plan.rule_parameters == {"fixed_batch": 10} and plan.version == 2


@pytest.mark.parametrize("changes, message", [
    ({"calculation": str(uuid.uuid4())}, "is not registered"),
    ({"periodicity": 5}, "Periodicity must be one of"),
    ({"benefit_plan_id": str(uuid.uuid4())}, "Benefit plan"),
    ({"date_valid_to": "2024-01-01"}, "date valid to must be on or after"),
    ({"json_ext": {"calculation_rule": {"fixed_batch": -5}}}, "fixed_batch must be zero or more"),
    ({"json_ext": {"calculation_rule": {"fixed_batch": "abc"}}}, "is not a number"),
    ({"json_ext": {"calculation_rule": {"bonus": 1}}}, "unknown parameter"),
    ({"json_ext": {"advanced_criteria": [{"custom_filter_condition": "age__between__integer=1"}]}},
     "advanced_criteria 1"),
    ({"code": ""}, "code is required"),
])
def test_invalid_payment_plans_are_refused_with_every_problem(admin_user, changes, message):
    benefit_plan = BenefitPlanFactory(acting_user=admin_user)
    result = PaymentPlanService(admin_user).create(plan_payload(benefit_plan, **changes))
    assert not result["success"] and message in result["detail"], result
    assert not PaymentPlan.objects.exists()


def test_payment_plan_codes_are_unique_among_live_plans(admin_user):
    benefit_plan = BenefitPlanFactory(acting_user=admin_user)
    first = PaymentPlanService(admin_user).create(plan_payload(benefit_plan))
    assert not PaymentPlanService(admin_user).create(plan_payload(benefit_plan))["success"]
    assert PaymentPlanService(admin_user).delete({"id": first["data"]["id"]})["success"]
    assert PaymentPlanService(admin_user).create(plan_payload(benefit_plan))["success"]


def test_a_benefit_plan_with_a_payment_plan_says_so(admin_user, gql):
    benefit_plan = BenefitPlanFactory(acting_user=admin_user)
    PaymentPlanService(admin_user).create(plan_payload(benefit_plan))
    data = gql(admin_user).data('{ benefitPlan(code: "%s") { edges { node { hasPaymentPlans } } } }'
                                % benefit_plan.code)
    assert data["benefitPlan"]["edges"][0]["node"]["hasPaymentPlans"] is True
