"""payment_cycle mutations through the GraphQL endpoint and the mutation-log pipeline: cycles (maker-checker for
ACTIVE creation and every update, approved by another user over HTTP), processing, payment plans, entitlement
decisions, and every refusal an attacker would meet (anonymous, no right, someone else's rows)."""
import datetime
import json
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import MutationLog
from core.test_helpers import Enum, assert_anonymous_refused, assert_log_error, assert_log_success
from payment_cycle.models import Entitlement, EntitlementStatus, PaymentCycle, PaymentPlan
from payment_cycle.services import PaymentCycleService
from tasks_management.models import Task, TaskExecutor, TaskGroup
from tests.individual.factories import IndividualFactory
from tests.payment_cycle.conftest import CYCLE_RIGHTS, PLAN_RIGHTS
from tests.payment_cycle.factories import (
    SOCIAL_PROTECTION_RULE,
    EntitlementFactory,
    PaymentCycleFactory,
    PaymentPlanFactory,
)
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory

pytestmark = pytest.mark.django_db

ACTIVE, PENDING = PaymentCycle.PaymentCycleStatus.ACTIVE, PaymentCycle.PaymentCycleStatus.PENDING
CREATE = {"code": "ELOO", "startDate": "2021-05-01", "endDate": "2021-06-01", "status": Enum("PENDING")}
RULE_PARAMETERS = {"calculation_rule": {"fixed_batch": 1500, "limit_per_single_transaction": 100000},
                   "advanced_criteria": []}


def nodes(data, name):
    return [edge["node"] for edge in data[name]["edges"]]


def find_by_client_mutation_id(client, client_mutation_id):
    data = client.data('{ paymentCycle(clientMutationId: "%s") { edges { node { uuid code status startDate '
                       'endDate } } } }' % client_mutation_id)
    return nodes(data, "paymentCycle")


def vote(client, user, task_id, decision="APPROVED"):
    return client.mutate("resolveTask", {"id": str(task_id), "businessStatus": json.dumps({str(user.id): decision})})


# --- createPaymentCycle -------------------------------------------------------------------------------------
def test_create_pending_cycle_at_once_and_find_it_by_client_mutation_id(gql, cycle_officer):
    """Upstream behaviour (spec §7): one live row with the returned uuid; the frontend then redirects to it."""
    client = gql(cycle_officer)
    assert_log_success(client.mutate("createPaymentCycle", CREATE, client_mutation_id="pc-create-1"))
    [cycle] = PaymentCycle.objects.filter(is_deleted=False)
    assert (cycle.code, cycle.start_date, cycle.end_date, cycle.status) == (
        "ELOO", datetime.date(2021, 5, 1), datetime.date(2021, 6, 1), PENDING)
    assert cycle.user_created_id == cycle_officer.id and cycle.history.count() == 1
    [found] = find_by_client_mutation_id(client, "pc-create-1")
    assert found == {"uuid": str(cycle.id), "code": "ELOO", "status": "PENDING", "startDate": "2021-05-01",
                     "endDate": "2021-06-01"}
    assert not Task.objects.exists()


def test_create_errors_are_logged_and_nothing_is_written(gql, cycle_officer, admin_user):
    PaymentCycleFactory(code="ELOO", acting_user=admin_user)
    client = gql(cycle_officer)
    assert_log_error(client.mutate("createPaymentCycle", CREATE), "ELOO already exists")
    assert_log_error(client.mutate("createPaymentCycle", {**CREATE, "code": "NEW", "endDate": "2021-04-30"}),
                     "end date must be on or after")
    assert_log_error(client.mutate("createPaymentCycle", {**CREATE, "code": " NEW"}), "spaces")
    assert PaymentCycle.objects.count() == 1


def test_create_active_cycle_is_a_task_approved_by_another_user(gql, make_user, admin_user, cycle_checker):
    """Spec §4.3 maker-checker, entirely over HTTP: no cycle before approval; the maker cannot approve it, even as
    an executor of the group; the checker (an executor of the group routing PaymentCycleService) approves and the
    cycle exists."""
    cycle_officer = make_user("maker", rights=[*CYCLE_RIGHTS, 191001, 191003])
    TaskExecutor(user=cycle_officer, task_group=TaskGroup.objects.get(code="PaymentCycleService checkers")).save(
        user=admin_user)
    maker, checker = gql(cycle_officer), gql(cycle_checker)
    payload = {**CREATE, "code": "2025-March", "status": Enum("ACTIVE"), "startDate": "2025-03-01",
               "endDate": "2025-03-31"}
    assert_log_success(maker.mutate("createPaymentCycle", payload, client_mutation_id="pc-active-1"))
    assert not PaymentCycle.objects.exists() and find_by_client_mutation_id(maker, "pc-active-1") == []

    data = checker.data('{ task(source: "PaymentCycleService", status: ACCEPTED) { edges { node { uuid '
                        'businessEvent data } } } }')
    [task] = nodes(data, "task")
    assert task["businessEvent"] == "PaymentCycleService.create"
    task_data = json.loads(task["data"])
    assert task_data["current_data"] == {}
    assert {k: task_data["incoming_data"][k] for k in ("code", "start_date", "end_date", "status")} == {
        "code": "2025-March", "start_date": "2025-03-01", "end_date": "2025-03-31", "status": "ACTIVE"}

    # the maker is not a checker of their own request
    assert_log_error(vote(maker, cycle_officer, task["uuid"]), "maker")
    assert not PaymentCycle.objects.exists()

    assert_log_success(vote(checker, cycle_checker, task["uuid"]))
    [cycle] = PaymentCycle.objects.all()
    assert (cycle.code, cycle.status, cycle.user_created_id) == ("2025-March", ACTIVE, cycle_checker.id)
    assert Task.objects.get(id=task["uuid"]).status == Task.Status.COMPLETED


def test_create_active_cycle_task_refused_for_a_duplicate_code(gql, cycle_officer, admin_user):
    PaymentCycleFactory(code="DUP", acting_user=admin_user)
    assert_log_error(gql(cycle_officer).mutate("createPaymentCycle", {**CREATE, "code": "DUP",
                                                                     "status": Enum("ACTIVE")}), "already exists")
    assert not Task.objects.exists()


def test_create_active_cycle_directly_when_the_check_is_off(gql, cycle_officer, cycle_config):
    cycle_config(gql_check_payment_cycle=False)
    assert_log_success(gql(cycle_officer).mutate("createPaymentCycle", {**CREATE, "status": Enum("ACTIVE")}))
    assert PaymentCycle.objects.get().status == ACTIVE and not Task.objects.exists()


# --- updatePaymentCycle -------------------------------------------------------------------------------------
def test_every_update_is_a_task_when_the_check_is_on(gql, cycle_officer, cycle_checker, admin_user):
    cycle = PaymentCycleFactory(code="2025-April", status=PENDING, acting_user=admin_user)
    maker = gql(cycle_officer)
    assert_log_success(maker.mutate("updatePaymentCycle", {"id": str(cycle.id), "code": "2025-04",
                                                           "status": Enum("PENDING")}))
    cycle.refresh_from_db()
    assert cycle.code == "2025-April"  # nothing changes before approval, even for a PENDING cycle
    task = Task.objects.get(business_event="PaymentCycleService.update")
    assert task.entity_id == str(cycle.id) and task.source == "PaymentCycleService"
    assert task.data["incoming_data"]["code"] == "2025-04" and task.data["current_data"]["code"] == "2025-April"
    assert_log_success(vote(gql(cycle_checker), cycle_checker, task.id))
    cycle.refresh_from_db()
    assert cycle.code == "2025-04" and cycle.user_updated_id == cycle_checker.id


def test_update_directly_when_the_check_is_off(gql, cycle_officer, admin_user, cycle_config):
    cycle_config(gql_check_payment_cycle=False)
    cycle = PaymentCycleFactory(code="2025-May", acting_user=admin_user)
    client = gql(cycle_officer)
    assert_log_success(client.mutate("updatePaymentCycle", {"id": str(cycle.id), "status": Enum("SUSPENDED"),
                                                            "endDate": "2025-06-15"},
                                     client_mutation_id="pc-update-1"))
    cycle.refresh_from_db()
    assert (cycle.status, cycle.end_date, cycle.code) == ("SUSPENDED", datetime.date(2025, 6, 15), "2025-May")
    assert [n["uuid"] for n in find_by_client_mutation_id(client, "pc-update-1")] == [str(cycle.id)]
    assert_log_error(client.mutate("updatePaymentCycle", {"id": str(uuid.uuid4()), "code": "X"}), "does not exist")


def test_service_update_to_active_keeps_one_row(admin_user):
    """Upstream behaviour (spec §7): the service (no maker-checker there) updates the status in place."""
    created = PaymentCycleService(admin_user).create({"code": "ELOO", "start_date": "2021-05-01",
                                                      "end_date": "2021-06-01", "status": "PENDING"})
    assert created["success"], created
    updated = PaymentCycleService(admin_user).update({"id": created["data"]["id"], "status": "ACTIVE"})
    assert updated["success"], updated
    assert list(PaymentCycle.objects.filter(is_deleted=False).values_list("id", "status")) == [
        (uuid.UUID(created["data"]["id"]), ACTIVE)]


# --- deletePaymentCycle -------------------------------------------------------------------------------------
def test_delete_cycles(gql, cycle_officer, admin_user):
    first, second = PaymentCycleFactory(acting_user=admin_user), PaymentCycleFactory(acting_user=admin_user)
    client = gql(cycle_officer)
    assert_log_error(client.mutate("deletePaymentCycle", {"ids": []}), "No IDs to delete")
    assert_log_success(client.mutate("deletePaymentCycle", {"ids": [str(first.id), str(second.id)]}))
    assert PaymentCycle.objects.filter(is_deleted=True).count() == 2
    data = client.data("{ paymentCycle(isDeleted: false) { totalCount } }")
    assert data["paymentCycle"]["totalCount"] == 0


def test_delete_refused_for_an_active_cycle_with_payable_entitlements(gql, cycle_officer, admin_user):
    cycle = PaymentCycleFactory(status=ACTIVE, acting_user=admin_user)
    other = PaymentCycleFactory(acting_user=admin_user)
    EntitlementFactory(payment_cycle=cycle, status=EntitlementStatus.APPROVE_FOR_PAYMENT, acting_user=admin_user)
    log = gql(cycle_officer).mutate("deletePaymentCycle", {"ids": [str(other.id), str(cycle.id)]})
    assert_log_error(log, "cannot be deleted")
    # the whole mutation rolled back: the other cycle is not deleted either
    assert not PaymentCycle.objects.filter(is_deleted=True).exists()


# --- processBenefitPlanPaymentCycle -------------------------------------------------------------------------
@pytest.fixture
def programme(admin_user):
    """Upstream's Generation 1 case (spec §7): one plan valid 2023 → 2043, two ACTIVE individuals, a monthly
    payment plan of the social-protection rule paying 1500 (+2000 for a criterion nobody meets)."""
    plan = BenefitPlanFactory(code="GEN1", date_valid_from=timezone.make_aware(datetime.datetime(2023, 1, 1)),
                              date_valid_to=timezone.make_aware(datetime.datetime(2043, 12, 31)),
                              acting_user=admin_user)
    for name in ("Amina", "Bashir"):
        BeneficiaryFactory(individual=IndividualFactory(first_name=name, acting_user=admin_user,
                                                        json_ext={"able_bodied": True}),
                           benefit_plan=plan, status="ACTIVE", acting_user=admin_user)
    PaymentPlanFactory(code="GEN1-M", benefit_plan=plan, date_valid_from=datetime.date(2023, 1, 1),
                       json_ext={**RULE_PARAMETERS, "advanced_criteria": [
                           {"custom_filter_condition": "able_bodied__exact__boolean=False", "amount": 2000,
                            "count_to_max": False}]}, acting_user=admin_user)
    return plan


def test_process_a_month_through_graphql(gql, make_user, programme, django_capture_on_commit_callbacks):
    officer = make_user("processor", rights=[200001, 200005])
    client = gql(officer)
    today = datetime.date.today()
    with django_capture_on_commit_callbacks(execute=True):
        log = client.mutate("processBenefitPlanPaymentCycle", {"year": today.year, "month": today.month},
                            client_mutation_id="pc-process-1")
    assert_log_success(log)
    [cycle] = PaymentCycle.objects.all()
    assert (cycle.start_date.year, cycle.start_date.month, cycle.status) == (today.year, today.month, PENDING)
    entitlements = Entitlement.objects.filter(payment_cycle=cycle, is_deleted=False)
    assert sorted(entitlements.values_list("individual__first_name", "amount")) == [
        ("Amina", Decimal("1500.00")), ("Bashir", Decimal("1500.00"))]
    # the frontend finds the cycle by its clientMutationId, its progress in jsonExt
    data = client.data('{ paymentCycle(clientMutationId: "pc-process-1") { edges { node { uuid jsonExt } } } }')
    [node] = nodes(data, "paymentCycle")
    assert node["uuid"] == str(cycle.id) and "processing" in json.loads(node["jsonExt"])

    # a second run for the same month is refused and writes nothing (spec §9)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.mutate("processBenefitPlanPaymentCycle", {"year": today.year, "month": today.month})
    assert_log_error(again, "already processed")
    assert PaymentCycle.objects.count() == 1 and entitlements.count() == 2


def test_process_an_existing_pending_cycle_by_id(gql, make_user, programme, admin_user,
                                                 django_capture_on_commit_callbacks):
    today = datetime.date.today()
    start = today.replace(day=1)
    cycle = PaymentCycleFactory(code="CUSTOM", start_date=start, end_date=start + datetime.timedelta(days=27),
                                acting_user=admin_user)
    client = gql(make_user("processor", rights=[200005]))
    with django_capture_on_commit_callbacks(execute=True):
        assert_log_success(client.mutate("processBenefitPlanPaymentCycle", {"paymentCycleId": str(cycle.id)}))
    assert Entitlement.objects.filter(payment_cycle=cycle).count() == 2
    assert_log_error(client.mutate("processBenefitPlanPaymentCycle", {"paymentCycleId": str(uuid.uuid4())}))


# --- payment plans ------------------------------------------------------------------------------------------
def plan_input(benefit_plan, **extra):
    return {"code": "PP-1", "name": "Monthly cash", "benefitPlanId": str(benefit_plan.id),
            "calculation": SOCIAL_PROTECTION_RULE, "periodicity": 3, "dateValidFrom": "2025-01-01",
            "jsonExt": json.dumps(RULE_PARAMETERS), **extra}


def test_payment_plan_create_update_delete(gql, make_user, admin_user):
    benefit_plan = BenefitPlanFactory(acting_user=admin_user)
    client = gql(make_user("planner", rights=PLAN_RIGHTS))
    assert_log_success(client.mutate("createPaymentPlan", plan_input(benefit_plan), client_mutation_id="pp-1"))
    plan = PaymentPlan.objects.get()
    assert (plan.code, plan.periodicity, plan.benefit_plan_id, str(plan.calculation)) == (
        "PP-1", 3, benefit_plan.id, SOCIAL_PROTECTION_RULE)
    assert plan.json_ext["calculation_rule"]["fixed_batch"] == 1500
    data = client.data('{ paymentPlan(clientMutationId: "pp-1") { edges { node { uuid } } } }')
    assert [n["uuid"] for n in nodes(data, "paymentPlan")] == [str(plan.id)]

    assert_log_success(client.mutate("updatePaymentPlan", {"id": str(plan.id), "name": "Quarterly cash",
                                                           "dateValidTo": "2025-12-31"}))
    plan.refresh_from_db()
    assert (plan.name, plan.date_valid_to, plan.periodicity) == ("Quarterly cash", datetime.date(2025, 12, 31), 3)

    assert_log_success(client.mutate("deletePaymentPlan", {"ids": [str(plan.id)]}))
    plan.refresh_from_db()
    assert plan.is_deleted


@pytest.mark.parametrize("change, message", [
    ({"calculation": str(uuid.uuid4())}, "is not registered"),
    ({"periodicity": 5}, "Periodicity"),
    ({"benefitPlanId": str(uuid.uuid4())}, "does not exist"),
    ({"jsonExt": json.dumps({"advanced_criteria": [{"amount": 1}]})}, "custom_filter_condition"),
])
def test_payment_plan_validation_errors_are_logged(gql, make_user, admin_user, change, message):
    benefit_plan = BenefitPlanFactory(acting_user=admin_user)
    log = gql(make_user("planner", rights=PLAN_RIGHTS)).mutate("createPaymentPlan", plan_input(benefit_plan, **change))
    assert_log_error(log, message)
    assert not PaymentPlan.objects.exists()


# --- entitlement decisions ----------------------------------------------------------------------------------
@pytest.fixture
def decisions(admin_user, districts):
    """An ACTIVE cycle with entitlements of individuals in district PCD1 (two) and PCD2 (one)."""
    cycle = PaymentCycleFactory(status=ACTIVE, acting_user=admin_user)
    rows = [EntitlementFactory(payment_cycle=cycle, acting_user=admin_user,
                               beneficiary__individual__location=districts[district])
            for district in ("PCD1", "PCD1", "PCD2")]
    return cycle, rows


def statuses(rows):
    return [Entitlement.objects.get(id=row.id).status for row in rows]


def test_approve_reject_and_mark_paid(gql, cycle_officer, admin_user, decisions):
    cycle, (first, second, third) = decisions
    client = gql(admin_user)
    assert_log_success(client.mutate("approveEntitlements", {"ids": [str(first.id), str(second.id)]}))
    assert_log_success(client.mutate("rejectEntitlements", {"ids": [str(third.id)]}))
    assert statuses([first, second, third]) == ["APPROVE_FOR_PAYMENT", "APPROVE_FOR_PAYMENT", "REJECTED"]
    assert_log_success(client.mutate("markEntitlementsPaid", {"ids": [str(first.id)], "receipt": "RCPT-1"}))
    paid = Entitlement.objects.get(id=first.id)
    assert (paid.status, paid.receipt, paid.paid_amount) == ("PAID", "RCPT-1", paid.amount)
    # a wrong transition fails the whole call: the approved one is not paid with the rejected one
    assert_log_error(client.mutate("markEntitlementsPaid", {"ids": [str(second.id), str(third.id)]}), "REJECTED")
    assert statuses([second]) == ["APPROVE_FOR_PAYMENT"]
    assert_log_error(client.mutate("approveEntitlements", {"ids": []}), "No IDs given")


def test_decisions_need_an_active_cycle(gql, admin_user):
    pending = EntitlementFactory(payment_cycle=PaymentCycleFactory(status=PENDING, acting_user=admin_user),
                                 acting_user=admin_user)
    assert_log_error(gql(admin_user).mutate("approveEntitlements", {"ids": [str(pending.id)]}), "not ACTIVE")
    assert statuses([pending]) == ["ACCEPTED"]


def test_decisions_follow_the_registrys_row_security(gql, district_clerk, decisions):
    """A clerk of district PCD1 cannot decide on a PCD2 entitlement, even by mixing it with their own ids."""
    _, (first, second, third) = decisions
    client = gql(district_clerk)
    assert_log_error(client.mutate("approveEntitlements", {"ids": [str(first.id), str(third.id)]}), "unauthorized")
    assert_log_error(client.mutate("rejectEntitlements", {"ids": [str(third.id)]}), "unauthorized")
    assert statuses([first, second, third]) == ["ACCEPTED"] * 3
    assert_log_success(client.mutate("approveEntitlements", {"ids": [str(first.id), str(second.id)]}))
    assert statuses([first, second, third]) == ["APPROVE_FOR_PAYMENT", "APPROVE_FOR_PAYMENT", "ACCEPTED"]


# --- refusals -----------------------------------------------------------------------------------------------
@pytest.fixture
def targets(admin_user):
    cycle = PaymentCycleFactory(status=ACTIVE, acting_user=admin_user)
    entitlement = EntitlementFactory(payment_cycle=cycle, status=EntitlementStatus.APPROVE_FOR_PAYMENT,
                                     acting_user=admin_user)
    return {"cycle": cycle, "entitlement": entitlement, "plan": entitlement.payment_plan,
            "benefit_plan": entitlement.benefit_plan}


def refusal_cases(targets):
    today = datetime.date.today()
    ids = {"ids": [str(targets["entitlement"].id)]}
    return {
        "createPaymentCycle": ("200002", {**CREATE, "code": "ATTACK"}),
        "updatePaymentCycle": ("200003", {"id": str(targets["cycle"].id), "code": "ATTACK"}),
        "deletePaymentCycle": ("200004", {"ids": [str(targets["cycle"].id)]}),
        "processBenefitPlanPaymentCycle": ("200005", {"year": today.year, "month": today.month}),
        "createPaymentPlan": ("157102", plan_input(targets["benefit_plan"], code="ATTACK")),
        "updatePaymentPlan": ("157103", {"id": str(targets["plan"].id), "name": "ATTACK"}),
        "deletePaymentPlan": ("157104", {"ids": [str(targets["plan"].id)]}),
        "approveEntitlements": ("200003", ids),
        "rejectEntitlements": ("200003", ids),
        "markEntitlementsPaid": ("200003", {**ids, "receipt": "ATTACK"}),
    }


def snapshot():
    return (list(PaymentCycle.objects.order_by("id").values()), list(PaymentPlan.objects.order_by("id").values()),
            list(Entitlement.objects.order_by("id").values()), Task.objects.count())


MUTATIONS = ["createPaymentCycle", "updatePaymentCycle", "deletePaymentCycle", "processBenefitPlanPaymentCycle",
             "createPaymentPlan", "updatePaymentPlan", "deletePaymentPlan", "approveEntitlements",
             "rejectEntitlements", "markEntitlementsPaid"]


@pytest.mark.parametrize("name", MUTATIONS)
def test_mutation_refused_without_its_right(gql, make_user, targets, name, cycle_config):
    """Anonymous: refused visibly, no log. Logged in with every right of the module but this one: a failed log
    reading ``unauthorized`` (spec §8) and nothing changed (direct writes, so nothing hides behind a task)."""
    cycle_config(gql_check_payment_cycle=False)
    right, params = refusal_cases(targets)[name]
    before = snapshot()
    assert_anonymous_refused(gql(None), name, params)
    others = [r for r in CYCLE_RIGHTS + PLAN_RIGHTS if str(r) != right]
    if name in ("approveEntitlements", "rejectEntitlements", "markEntitlementsPaid", "updatePaymentCycle"):
        others = [r for r in others if r != 200003]
    attacker = make_user("attacker", rights=others)
    log = gql(attacker).mutate(name, params)
    assert_log_error(log, "unauthorized")
    assert snapshot() == before
    assert MutationLog.objects.filter(user=attacker).count() == 1
