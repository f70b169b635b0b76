"""End to end: a cycle's entitlements computed as a chord of chunks by a real celery worker on Redis (run by
.ci/run, which starts the worker); the result equals the in-process computation of the same cycle."""
import datetime
import time

import pytest

from payment_cycle.models import Entitlement, PaymentCycle
from payment_cycle.processing import BenefitPlanPaymentCycleService
from tests.payment_cycle.factories import PaymentCycleFactory, PaymentPlanFactory
from tests.social_protection.factories import BeneficiaryFactory, BenefitPlanFactory

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_cycle_is_processed_in_chunks_by_the_worker(admin_user):
    from openimis_be.celery import app
    from payment_cycle.tasks import process_payment_cycle

    app.conf.task_always_eager = False
    plan = BenefitPlanFactory(code="E2E-PC", acting_user=admin_user,
                              date_valid_from=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
    for index in range(9):
        BeneficiaryFactory(benefit_plan=plan, status="ACTIVE", acting_user=admin_user,
                           date_valid_from=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
                           json_ext={"able_bodied": index % 2 == 0})
    payment_plan = PaymentPlanFactory(benefit_plan=plan, acting_user=admin_user, json_ext={
        "calculation_rule": {"fixed_batch": 1500, "limit_per_single_transaction": 3000},
        "advanced_criteria": [{"custom_filter_condition": "able_bodied__exact__boolean=False", "amount": 2000}]})
    worker_cycle = PaymentCycleFactory(code="E2E-WORKER", acting_user=admin_user, start_date=datetime.date(2025, 5, 1),
                                       end_date=datetime.date(2025, 5, 31))
    process_payment_cycle.delay(str(worker_cycle.id), str(admin_user.id), 2)  # chunks of two enrolments
    deadline = time.time() + 90
    while time.time() < deadline:
        worker_cycle.refresh_from_db()
        if (worker_cycle.json_ext or {}).get("processing", {}).get("status") in ("DONE", "FAILED"):
            break
        time.sleep(0.5)
    processing = worker_cycle.json_ext["processing"]
    assert processing["status"] == "DONE", processing
    local_cycle = PaymentCycleFactory(code="E2E-LOCAL", acting_user=admin_user, start_date=datetime.date(2025, 5, 1),
                                      end_date=datetime.date(2025, 5, 31))
    BenefitPlanPaymentCycleService(admin_user).process_payment_plan(local_cycle, payment_plan, chunk_size=0)

    def rows(cycle):
        return sorted(Entitlement.objects.filter(payment_cycle=cycle, is_deleted=False)
                      .values_list("beneficiary_id", "amount", "status"))

    assert len(rows(worker_cycle)) == 9 and rows(worker_cycle) == rows(local_cycle)
    summary = processing["result"]["benefit_plans"][str(plan.id)]["payment_plans"][str(payment_plan.id)]
    assert summary["pending_approval"] == 4 and summary["entitlements"] == 9
    assert PaymentCycle.objects.get(id=worker_cycle.id).status == "PENDING"
