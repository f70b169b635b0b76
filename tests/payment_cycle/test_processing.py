"""Processing of a payment cycle through the service: entitlements, idempotence, chunks, approvals, refusals."""
import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payment_cycle.models import Entitlement, EntitlementStatus, PaymentCycle, PaymentPlan
from payment_cycle.processing import BenefitPlanPaymentCycleService, entitlement_code
from payment_cycle.services import EntitlementService
from payment_cycle.tasks import dispatch
from tasks_management.models import Task
from tasks_management.services import TaskService
from tests.payment_cycle.factories import PaymentCycleFactory, PaymentPlanFactory
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
FLAT_RULE = None  # set by the rule module's uuid lookup below


def flat_rule_uuid():
    from calcrule_social_protection.calculation_rule import FlatPerMemberCalculationRule

    return FlatPerMemberCalculationRule.uuid


@pytest.fixture
def benefit_plan(admin_user):
    return BenefitPlanFactory(code="SP1", acting_user=admin_user,
                              date_valid_from=datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc),
                              date_valid_to=datetime.datetime(2043, 12, 31, tzinfo=datetime.timezone.utc))


def enrol(plan, admin_user, count, status="ACTIVE", **json_ext):
    return [BeneficiaryFactory(benefit_plan=plan, status=status, acting_user=admin_user,
                               date_valid_from=datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc),
                               json_ext=dict(json_ext)) for _ in range(count)]


def payment_plan(benefit_plan, admin_user, fixed=1500, limit=0, criteria=(), **extra):
    return PaymentPlanFactory(benefit_plan=benefit_plan, acting_user=admin_user, json_ext={
        "calculation_rule": {"fixed_batch": fixed, "limit_per_single_transaction": limit},
        "advanced_criteria": list(criteria)}, **extra)


def process(user, **kwargs):
    if "year" not in kwargs and "payment_cycle_id" not in kwargs:
        kwargs.update(year=TODAY.year, month=TODAY.month)
    return BenefitPlanPaymentCycleService(user).process(**kwargs)


def rows(cycle_id):
    return sorted((str(e.beneficiary_id), e.amount, e.status)
                  for e in Entitlement.objects.filter(payment_cycle_id=cycle_id, is_deleted=False))


def test_upstream_generation_1_example(admin_user, benefit_plan):
    """Spec §7: two ACTIVE beneficiaries, fixed 1500, a +2000 criterion they do not carry → 2 entitlements, 1 cycle."""
    enrol(benefit_plan, admin_user, 2)
    plan = payment_plan(benefit_plan, admin_user, fixed=1500, limit=100000, criteria=[
        {"custom_filter_condition": "able_bodied__exact__boolean=False", "amount": 2000, "count_to_max": False}])
    result = process(admin_user)
    assert result["success"], result
    cycle = PaymentCycle.objects.get(id=result["data"]["payment_cycle"]["id"])
    assert PaymentCycle.objects.filter(is_deleted=False).count() == 1
    assert cycle.code == f"{TODAY.year}-{TODAY.strftime('%B')}" and cycle.status == "PENDING"
    assert cycle.start_date == TODAY.replace(day=1) and cycle.type.model == "benefitplan"
    entitlements = Entitlement.objects.filter(payment_cycle=cycle)
    assert entitlements.count() == 2
    assert {e.amount for e in entitlements} == {Decimal("1500.00")}
    assert {e.status for e in entitlements} == {EntitlementStatus.ACCEPTED}
    summary = result["data"]["benefit_plans"][str(benefit_plan.id)]["payment_plans"][str(plan.id)]
    assert summary == {"entitlements": 2, "total_amount": "3000.00", "pending_approval": 0}
    first = entitlements.first()
    assert len(first.code) == 8 and first.currency == "USD" and first.date_due == cycle.end_date
    assert first.json_ext["base"] == "1500.00" and first.history.count() == 1
    assert cycle.json_ext["processing"]["status"] == "DONE"


def test_a_matching_criterion_adds_its_amount(admin_user, benefit_plan):
    enrol(benefit_plan, admin_user, 1, able_bodied=False)
    enrol(benefit_plan, admin_user, 1, able_bodied=True)
    payment_plan(benefit_plan, admin_user, criteria=[
        {"custom_filter_condition": "able_bodied__exact__boolean=False", "amount": "2000.50"}])
    result = process(admin_user)
    amounts = sorted(e.amount for e in Entitlement.objects.all())
    assert amounts == [Decimal("1500.00"), Decimal("3500.50")], result


def test_second_run_of_the_same_month_is_refused_and_writes_nothing(admin_user, benefit_plan):
    enrol(benefit_plan, admin_user, 2)
    payment_plan(benefit_plan, admin_user)
    assert process(admin_user)["success"]
    before = (PaymentCycle.history.count(), Entitlement.history.count())
    again = process(admin_user)
    assert not again["success"]
    assert again["detail"] == f"PaymentCycle already processed for {TODAY.month}-{TODAY.year}"
    assert (PaymentCycle.history.count(), Entitlement.history.count()) == before
    assert PaymentCycle.objects.count() == 1


def test_inactive_enrolments_and_other_plans_are_not_paid(admin_user, benefit_plan):
    enrol(benefit_plan, admin_user, 2)
    enrol(benefit_plan, admin_user, 1, status="POTENTIAL")
    enrol(benefit_plan, admin_user, 1, status="SUSPENDED")
    other = BenefitPlanFactory(code="OTHER", acting_user=admin_user)
    enrol(other, admin_user, 3)  # no payment plan
    payment_plan(benefit_plan, admin_user)
    process(admin_user)
    assert Entitlement.objects.count() == 2


def test_periodicity_selects_the_payment_months(admin_user, benefit_plan):
    enrol(benefit_plan, admin_user, 1)
    quarterly = payment_plan(benefit_plan, admin_user, periodicity=3)
    february = process(admin_user, year=2025, month=2)
    plan_result = february["data"]["benefit_plans"][str(benefit_plan.id)]["payment_plans"][str(quarterly.id)]
    assert "not a payment month" in plan_result["skipped"]
    assert not Entitlement.objects.exists()
    march = process(admin_user, year=2025, month=3)
    assert march["success"]
    entitlement = Entitlement.objects.get()
    assert (entitlement.period_start, entitlement.period_end) == (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))


def test_every_payment_plan_of_a_benefit_plan_is_processed(admin_user, benefit_plan):
    enrol(benefit_plan, admin_user, 2)
    first = payment_plan(benefit_plan, admin_user, fixed=100)
    second = payment_plan(benefit_plan, admin_user, fixed=200)
    result = process(admin_user)
    plans = result["data"]["benefit_plans"][str(benefit_plan.id)]["payment_plans"]
    assert plans[str(first.id)]["total_amount"] == "200.00" and plans[str(second.id)]["total_amount"] == "400.00"


def test_recomputation_keeps_unchanged_rows_and_replaces_changed_ones(admin_user, benefit_plan):
    kept, changed, leaving = enrol(benefit_plan, admin_user, 3, able_bodied=True)
    payment_plan(benefit_plan, admin_user, criteria=[
        {"custom_filter_condition": "able_bodied__exact__boolean=False", "amount": 2000}])
    cycle_id = process(admin_user)["data"]["payment_cycle"]["id"]
    kept_id = Entitlement.objects.get(beneficiary=kept).id
    changed.json_ext = {"able_bodied": False}
    changed.save(user=admin_user)
    leaving.status = "SUSPENDED"
    leaving.save(user=admin_user)
    newcomer, = enrol(benefit_plan, admin_user, 1, able_bodied=True)
    result = process(admin_user, payment_cycle_id=cycle_id)
    assert result["success"], result
    live = {e.beneficiary_id: e for e in Entitlement.objects.filter(is_deleted=False)}
    assert set(live) == {kept.id, changed.id, newcomer.id}
    assert live[kept.id].id == kept_id and live[kept.id].version == 1
    assert live[changed.id].amount == Decimal("3500.00")
    replaced = Entitlement.objects.filter(is_deleted=True)
    assert {e.beneficiary_id for e in replaced} == {changed.id, leaving.id}
    assert all(e.history.filter(history_type="~").exists() for e in replaced)


def test_an_idempotent_rerun_writes_nothing(admin_user, benefit_plan):
    enrol(benefit_plan, admin_user, 4)
    payment_plan(benefit_plan, admin_user)
    cycle_id = process(admin_user)["data"]["payment_cycle"]["id"]
    before = sorted(Entitlement.history.values_list("history_id", flat=True))
    assert process(admin_user, payment_cycle_id=cycle_id)["success"]
    assert sorted(Entitlement.history.values_list("history_id", flat=True)) == before


def test_only_a_pending_cycle_is_recomputed(admin_user, benefit_plan):
    cycle = PaymentCycleFactory(status="ACTIVE", acting_user=admin_user)
    result = process(admin_user, payment_cycle_id=str(cycle.id))
    assert not result["success"] and "only a PENDING cycle" in result["detail"]


def _statements(admin_user, benefit_plan, count, chunk_size=0):
    from payment_cycle.apps import PaymentCycleConfig

    enrol(benefit_plan, admin_user, count, able_bodied=False)
    payment_plan(benefit_plan, admin_user, limit=2000, criteria=[
        {"custom_filter_condition": "able_bodied__exact__boolean=False", "amount": 2000}])
    cycle = PaymentCycleFactory(acting_user=admin_user, start_date=TODAY.replace(day=1),
                                end_date=TODAY.replace(day=28))
    saved, PaymentCycleConfig.processing_chunk_size = PaymentCycleConfig.processing_chunk_size, chunk_size
    try:
        with CaptureQueriesContext(connection) as first:
            assert process(admin_user, payment_cycle_id=str(cycle.id))["success"]
        with CaptureQueriesContext(connection) as rerun:
            assert process(admin_user, payment_cycle_id=str(cycle.id))["success"]
    finally:
        PaymentCycleConfig.processing_chunk_size = saved
    assert Entitlement.objects.filter(status="PENDING_APPROVAL").count() == count
    return len(first.captured_queries), len(rerun.captured_queries)


def test_statement_count_does_not_depend_on_the_number_of_beneficiaries(admin_user, benefit_plan):
    def reset():
        Entitlement.objects.all().delete()
        Task.objects.all().delete()
        PaymentCycle.objects.all().delete()
        PaymentPlan.objects.all().delete()
        benefit_plan.beneficiary_set.all().delete()

    _statements(admin_user, benefit_plan, 2)  # warms the per-process caches (content types …)
    reset()
    small = _statements(admin_user, benefit_plan, 3)
    reset()
    large = _statements(admin_user, benefit_plan, 15)
    assert small == large


def test_the_result_is_the_same_whatever_the_chunks(admin_user, benefit_plan, cycle_config):
    enrol(benefit_plan, admin_user, 7, able_bodied=False)
    enrol(benefit_plan, admin_user, 6, able_bodied=True)
    plan = payment_plan(benefit_plan, admin_user, limit=3000, criteria=[
        {"custom_filter_condition": "able_bodied__exact__boolean=False", "amount": 2000}])
    outcomes = []
    for chunk_size in (0, 2, 5):
        cycle = PaymentCycleFactory(acting_user=admin_user, start_date=TODAY.replace(day=1),
                                    end_date=TODAY.replace(day=28))
        summary = BenefitPlanPaymentCycleService(admin_user).process_payment_plan(cycle, plan, chunk_size=chunk_size)
        outcomes.append((rows(cycle.id), summary))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert outcomes[0][1]["pending_approval"] == 7 and outcomes[0][1]["entitlements"] == 13


def test_the_celery_chord_gives_the_in_process_result(admin_user, benefit_plan):
    """dispatch(): the chunks as a chord (eager here; a real worker in .ci/run's end-to-end step)."""
    enrol(benefit_plan, admin_user, 5, able_bodied=False)
    enrol(benefit_plan, admin_user, 4)
    plan = payment_plan(benefit_plan, admin_user, limit=3000, criteria=[
        {"custom_filter_condition": "able_bodied__exact__boolean=False", "amount": 2000}])
    in_process = PaymentCycleFactory(acting_user=admin_user, start_date=TODAY.replace(day=1),
                                     end_date=TODAY.replace(day=28))
    BenefitPlanPaymentCycleService(admin_user).process_payment_plan(in_process, plan, chunk_size=0)
    chorded = PaymentCycleFactory(acting_user=admin_user, start_date=TODAY.replace(day=1),
                                  end_date=TODAY.replace(day=28))
    dispatch(BenefitPlanPaymentCycleService(admin_user), chorded, chunk_size=2)
    chorded.refresh_from_db()
    assert rows(chorded.id) == rows(in_process.id)
    assert chorded.json_ext["processing"]["status"] == "DONE"
    assert chorded.json_ext["processing"]["result"]["benefit_plans"][str(benefit_plan.id)]["payment_plans"][
        str(plan.id)]["pending_approval"] == 5
    assert Task.objects.filter(entity_id=str(chorded.id), status="RECEIVED").count() == 1


def test_a_rule_error_fails_only_its_payment_plan(admin_user, benefit_plan):
    enrol(benefit_plan, admin_user, 2)
    good = payment_plan(benefit_plan, admin_user, fixed=10)
    bad = payment_plan(benefit_plan, admin_user, fixed=10)
    bad.json_ext = {**bad.json_ext, "advanced_criteria": [{"custom_filter_condition": "age__between__integer=3",
                                                           "amount": 1}]}
    bad.save(user=admin_user)
    result = process(admin_user)
    assert result["success"] is False
    plans = result["data"]["benefit_plans"][str(benefit_plan.id)]["payment_plans"]
    assert "age__between__integer=3" in plans[str(bad.id)]["error"]
    assert plans[str(good.id)]["entitlements"] == 2
    assert not Entitlement.objects.filter(payment_plan=bad).exists()


def test_a_plan_of_another_registered_rule_is_paid_through_python_rows(admin_user, benefit_plan):
    enrol(benefit_plan, admin_user, 3)
    PaymentPlanFactory(benefit_plan=benefit_plan, calculation=flat_rule_uuid(), acting_user=admin_user,
                       json_ext={"calculation_rule": {"amount_per_member": "12.345"}})
    result = process(admin_user)
    assert result["success"], result
    assert sorted(Entitlement.objects.values_list("amount", flat=True)) == [Decimal("12.35")] * 3
    cycle_id = result["data"]["payment_cycle"]["id"]
    before = Entitlement.history.count()
    assert process(admin_user, payment_cycle_id=cycle_id)["success"]
    assert Entitlement.history.count() == before  # the rows path is idempotent too


def test_codes_are_unique_and_follow_the_counter(admin_user, benefit_plan):
    enrol(benefit_plan, admin_user, 20)
    payment_plan(benefit_plan, admin_user)
    process(admin_user)
    codes = list(Entitlement.objects.values_list("code", flat=True))
    assert len(set(codes)) == 20
    assert set(codes) <= {entitlement_code(n) for n in range(1, 200)}
    assert all(set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ123456789") for code in codes)


def test_entitlement_codes_never_repeat_in_python():
    codes = {entitlement_code(n, 6) for n in range(1, 50_000)}
    assert len(codes) == 49_999


# --- over-limit approvals ---------------------------------------------------------------------------------------
@pytest.fixture
def over_limit_checker(make_checker):
    return make_checker("limit-checker", "calcrule_social_protection")


def _over_limit(admin_user, benefit_plan, plans=1):
    enrol(benefit_plan, admin_user, 2, able_bodied=False)
    enrol(benefit_plan, admin_user, 1)
    for _ in range(plans):
        payment_plan(benefit_plan, admin_user, limit=3000, criteria=[
            {"custom_filter_condition": "able_bodied__exact__boolean=False", "amount": 2000}])
    result = process(admin_user)
    assert result["success"], result
    return PaymentCycle.objects.get(id=result["data"]["payment_cycle"]["id"])


def test_over_limit_entitlements_wait_in_one_task_per_payment_plan(admin_user, benefit_plan, over_limit_checker):
    cycle = _over_limit(admin_user, benefit_plan, plans=2)
    tasks = Task.objects.filter(entity_id=str(cycle.id), business_event="calcrule_social_protection.calculate")
    assert tasks.count() == 2 and {t.status for t in tasks} == {"ACCEPTED"}
    for task in tasks:
        ids = task.json_ext["entitlement_ids"]
        assert len(ids) == 2 and task.json_ext["entitlement_count"] == 2
        assert set(Entitlement.objects.filter(id__in=ids).values_list("status", flat=True)) == {"PENDING_APPROVAL"}
    # a recomputation does not open a second task for the same payment plan
    assert process(admin_user, payment_cycle_id=str(cycle.id))["success"]
    assert tasks.count() == 2


def vote(user, task, decision):
    return TaskService(user).resolve_task({"id": str(task.id), "business_status": {str(user.id): decision}})


def test_approval_accepts_and_failure_rejects(admin_user, benefit_plan, over_limit_checker):
    cycle = _over_limit(admin_user, benefit_plan)
    task = Task.objects.get(entity_id=str(cycle.id), business_event="calcrule_social_protection.calculate")
    assert not vote(admin_user, task, "APPROVED")["success"]  # the maker (who processed the cycle) cannot approve
    assert vote(over_limit_checker, task, "APPROVED")["success"]
    task.refresh_from_db()
    assert task.status == "COMPLETED"
    assert set(Entitlement.objects.values_list("status", flat=True)) == {"ACCEPTED"}

    Entitlement.objects.all().delete()
    Task.objects.all().delete()
    PaymentCycle.objects.all().delete()
    PaymentPlan.objects.all().delete()
    cycle = _over_limit(admin_user, benefit_plan)
    task = Task.objects.get(entity_id=str(cycle.id), business_event="calcrule_social_protection.calculate")
    assert vote(over_limit_checker, task, "FAILED")["success"]
    statuses = sorted(cycle.entitlements.values_list("status", flat=True))
    assert statuses == ["ACCEPTED", "ACCEPTED", "REJECTED", "REJECTED", "REJECTED", "REJECTED"]


def test_partial_votes_decide_some_and_complete_the_task_when_none_waits(admin_user, benefit_plan,
                                                                           over_limit_checker):
    cycle = _over_limit(admin_user, benefit_plan)
    task = Task.objects.get(entity_id=str(cycle.id), business_event="calcrule_social_protection.calculate")
    first, second = task.json_ext["entitlement_ids"]
    assert vote(over_limit_checker, task, {"REJECT": [first]})["success"]
    assert Entitlement.objects.get(id=first).status == "REJECTED"
    task.refresh_from_db()
    assert task.status == "ACCEPTED"
    assert vote(over_limit_checker, task, {"ACCEPT": [second, str(uuid.uuid4())]})["success"]
    assert Entitlement.objects.get(id=second).status == "ACCEPTED"
    task.refresh_from_db()
    assert task.status == "COMPLETED"


# --- decisions on an ACTIVE cycle --------------------------------------------------------------------------------
def test_approve_then_mark_paid_only_in_an_active_cycle(admin_user, benefit_plan):
    enrol(benefit_plan, admin_user, 2)
    payment_plan(benefit_plan, admin_user)
    cycle = PaymentCycle.objects.get(id=process(admin_user)["data"]["payment_cycle"]["id"])
    ids = [str(i) for i in Entitlement.objects.values_list("id", flat=True)]
    service = EntitlementService(admin_user)
    refused = service.approve(ids)
    assert not refused["success"] and "not ACTIVE" in refused["detail"]
    PaymentCycle.objects.filter(id=cycle.id).update(status="ACTIVE")
    assert service.approve(ids)["success"]
    assert not service.approve(ids)["success"]  # already approved: not ACCEPTED any more
    paid = service.mark_paid(ids[:1], receipt="R-1")
    assert paid["success"], paid
    entitlement = Entitlement.objects.get(id=ids[0])
    assert (entitlement.status, entitlement.receipt, entitlement.paid_amount) == ("PAID", "R-1", entitlement.amount)
    assert entitlement.history.count() == 3
    assert service.reject(ids[1:])["success"]
    assert not service.reject(ids[:1])["success"]  # a paid entitlement is not rejected


def test_management_command_processes_a_month(admin_user, benefit_plan, capsys):
    enrol(benefit_plan, admin_user, 2)
    payment_plan(benefit_plan, admin_user)
    call_command("process_payment_cycle", year=2025, month=6, username=admin_user.username)
    assert '"success": true' in capsys.readouterr().out
    assert Entitlement.objects.filter(payment_cycle__code="2025-June").count() == 2


def test_queued_processing_runs_after_commit(admin_user, benefit_plan, django_capture_on_commit_callbacks):
    enrol(benefit_plan, admin_user, 2)
    payment_plan(benefit_plan, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        result = BenefitPlanPaymentCycleService(admin_user).queue_processing(year=2025, month=7)
    assert result["success"], result
    cycle = PaymentCycle.objects.get(id=result["data"]["payment_cycle"]["id"])
    assert cycle.json_ext["processing"]["status"] == "DONE"
    assert cycle.entitlements.count() == 2
