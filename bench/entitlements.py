"""Benchmark: a month's entitlements of N beneficiaries, against a bare INSERT … SELECT of the same amounts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/openimis .venv/bin/python bench/entitlements.py 1000000
    (add CELERY_BROKER_URL=redis://127.0.0.1:6379/0 to also time the chord on 1 and 2 celery workers)

In a scratch database next to DATABASE_URL (Django's test-database machinery, destroyed afterwards) it builds N
ACTIVE beneficiaries of one benefit plan, each with two JSON attributes (``able_bodied``, ``income``), and a
payment plan of the social protection rule: 1500 fixed, +2000 when ``able_bodied`` is false, +500 when
``income`` < 1000, a limit of 3600 (so a share needs approval). Then it measures in the same run:

(a) bare: one hand-written ``INSERT … SELECT`` computing the same amounts and statuses into a copy of the
    entitlement table (``LIKE … INCLUDING ALL`` plus its foreign keys: same columns, indexes and constraints),
    committed: no history, no breakdown, no idempotence, no approval task;
(b) the cycle processed through the service (``BenefitPlanPaymentCycleService.process``): rule, entitlements
    with their JSON breakdown and history rows, the over-limit approval task, the summary;
(c) the idempotent re-run of the same cycle (nothing changed: nothing written);
(d) with a broker: the cycle's chunks as a celery chord on 1 worker process, then on 2 (the speed-up).

The last line is ``ratio=<(b)/(a)>``.
"""
import argparse
import datetime
import os
import subprocess
import sys
import time

import _setup

ROOT = _setup.ROOT
_setup.django(modules=["core", "individual", "tasks_management", "social_protection", "payment_cycle",
                       "calcrule_social_protection"])

from django.db import connection  # noqa: E402

from bench._scratch import bench_admin_and_plan, scratch_database, timed  # noqa: E402

RULE = "32d96b58-898a-460a-b357-5fd4b95cd87c"
CRITERIA = [{"custom_filter_condition": "able_bodied__exact__boolean=False", "amount": 2000},
            {"custom_filter_condition": "income__lt__integer=1000", "amount": 500}]


def build(count):
    """Admin, benefit plan, N individuals and N ACTIVE beneficiaries (set-based, with history), payment plan."""
    from django.db.models import F

    from core import bulk
    from individual.models import Individual
    from payment_cycle.models import PaymentPlan
    from social_protection.models import Beneficiary

    user, plan = bench_admin_and_plan("BENCH")
    bulk.insert_rows(Individual, ({"first_name": f"F{i}", "last_name": f"L{i}", "dob": datetime.date(1980, 1, 1),
                                   "json_ext": {"able_bodied": i % 3 != 0, "income": (i * 37) % 3000}}
                                  for i in range(count)), user=user)
    bulk.insert_from_select(Beneficiary, Individual.objects.all(), {
        "individual": F("id"), "benefit_plan": bulk.constant(plan.id, Beneficiary, "benefit_plan"),
        "status": bulk.constant("ACTIVE", Beneficiary, "status"), "json_ext": F("json_ext"),
        "date_valid_from": bulk.constant(datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
                                         Beneficiary, "date_valid_from")}, user=user)
    bulk.analyze(Individual, Beneficiary)
    payment_plan = PaymentPlan(code="BENCH-M", name="Bench monthly", benefit_plan=plan, calculation=RULE,
                               periodicity=1, date_valid_from=datetime.date(2020, 1, 1), json_ext={
                                   "calculation_rule": {"fixed_batch": 1500, "limit_per_single_transaction": 3600},
                                   "advanced_criteria": CRITERIA})
    payment_plan.save(user=user)
    return user, plan, payment_plan


def bare(plan, payment_plan, user):
    """(a): the same amounts and statuses into a copy of the table with its indexes and constraints."""
    from payment_cycle.models import Entitlement, PaymentCycle
    from social_protection.models import Beneficiary

    cycle = PaymentCycle(code="BARE", start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2025, 1, 31))
    cycle.save(user=user)
    table, source = Entitlement._meta.db_table, Beneficiary._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE TABLE bench_bare (LIKE "{table}" INCLUDING ALL)')
        # LIKE copies checks, indexes and unique constraints, not foreign keys: the same ones, deferred as Django's
        cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                       "AND contype = 'f'", [table])
        for (definition,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE bench_bare ADD {definition}")
        started = time.perf_counter()
        cursor.execute(f'''
            INSERT INTO bench_bare ("UUID", "isDeleted", "DateCreated", "DateUpdated", "UserCreatedUUID",
                "UserUpdatedUUID", version, "Json_ext", payment_cycle_id, payment_plan_id, benefit_plan_id,
                beneficiary_id, individual_id, code, amount, currency, date_due, period_start, period_end, type,
                status, calculation)
            SELECT gen_random_uuid(), false, now(), now(), %(user)s, %(user)s, 1, '{{}}'::jsonb, %(cycle)s, %(pp)s,
                b.benefit_plan_id, b."UUID", b.individual_id, 'B' || lpad(row_number() OVER ()::text, 12, '0'),
                a.amount, 'USD', DATE '2025-01-31', DATE '2025-01-01', DATE '2025-01-31', 'Cash Transfer',
                CASE WHEN a.amount > 3600 THEN 'PENDING_APPROVAL' ELSE 'ACCEPTED' END, %(rule)s
            FROM "{source}" b, LATERAL (SELECT 1500
                + CASE WHEN b."Json_ext" -> 'able_bodied' = 'false'::jsonb THEN 2000 ELSE 0 END
                + CASE WHEN b."Json_ext" -> 'income' < '1000'::jsonb THEN 500 ELSE 0 END AS amount) a
            WHERE b.benefit_plan_id = %(plan)s AND b.status = 'ACTIVE' AND NOT b."isDeleted"''',
                       {"user": user.id, "cycle": cycle.id, "pp": payment_plan.id, "plan": plan.id, "rule": RULE})
        written = cursor.rowcount
        elapsed = time.perf_counter() - started
    return elapsed, written




def worker_runs(user, count):
    """(d) the chord on 1, then 2 worker processes (needs CELERY_BROKER_URL); answers [(workers, seconds)]."""
    if not os.environ.get("CELERY_BROKER_URL"):
        print("  (d) skipped: no CELERY_BROKER_URL")
        return []
    from openimis_be.celery import app
    from payment_cycle.models import PaymentCycle
    from payment_cycle.processing import BenefitPlanPaymentCycleService
    from payment_cycle.tasks import dispatch

    app.conf.task_always_eager = False
    settings = connection.settings_dict
    url = (f"postgres://{settings['USER']}:{settings.get('PASSWORD') or ''}@{settings['HOST']}:{settings['PORT']}/"
           f"{settings['NAME']}")
    timings = []
    for workers, month in ((1, 3), (2, 4)):
        env = {**os.environ, "DATABASE_URL": url, "TEST_DATABASE_NAME": settings["NAME"]}
        worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "openimis_be", "worker", "--loglevel=ERROR",
                                   f"--concurrency={workers}", "--without-gossip", "--without-mingle"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                  stderr=open(f"/tmp/bench-entitlements-worker-{workers}.log", "w"))
        try:
            deadline = time.time() + 60
            while not app.control.ping(timeout=1) and time.time() < deadline:
                time.sleep(0.5)
            cycle = PaymentCycle(code=f"BENCH-W{workers}", start_date=datetime.date(2025, month, 1),
                                 end_date=datetime.date(2025, month, 28))
            cycle.save(user=user)
            started = time.perf_counter()
            # the chunks: eight per plan, so that both workers get some
            dispatch(BenefitPlanPaymentCycleService(user), cycle, chunk_size=max(count // 8, 1000))
            while True:
                cycle.refresh_from_db()
                if (cycle.json_ext or {}).get("processing", {}).get("status") in ("DONE", "FAILED"):
                    break
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
            status = cycle.json_ext["processing"]["status"]
            print(f"  (d) chord on {workers} worker process(es): {elapsed:9.2f} s  ({status}, "
                  f"{cycle.entitlements.count()} entitlements)")
            timings.append((workers, elapsed))
        finally:
            worker.terminate()
            worker.wait(30)
    if len(timings) == 2:
        print(f"  (d) speed-up with 2 workers: {timings[0][1] / timings[1][1]:.2f}x")
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=100_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/entitlements.py measures PostgreSQL (COPY, INSERT … SELECT): set DATABASE_URL")
    with scratch_database():
        from payment_cycle.models import Entitlement, PaymentCycle
        from payment_cycle.processing import BenefitPlanPaymentCycleService

        print(f"entitlements of {args.count} beneficiaries (PostgreSQL {connection.pg_version // 10000})")
        started = time.perf_counter()
        user, plan, payment_plan = build(args.count)
        print(f"  {'data built':<44} {time.perf_counter() - started:9.2f} s")
        raw_seconds, raw_rows = bare(plan, payment_plan, user)
        print(f"  {'(a) bare INSERT … SELECT':<44} {raw_seconds:9.2f} s  {raw_rows} rows")
        service = BenefitPlanPaymentCycleService(user)
        cycle = PaymentCycle(code="BENCH", start_date=datetime.date(2025, 2, 1), end_date=datetime.date(2025, 2, 28))
        cycle.save(user=user)
        first_seconds, result = timed("(b) processing through the service", lambda: service.process(
            payment_cycle_id=str(cycle.id)))
        assert result["success"], result
        summary = result["data"]["benefit_plans"][str(plan.id)]["payment_plans"][str(payment_plan.id)]
        print(f"      {summary}")
        before = Entitlement.history.count()
        rerun_seconds, result = timed("(c) idempotent re-run", lambda: service.process(payment_cycle_id=str(cycle.id)))
        assert result["success"] and Entitlement.history.count() == before, "the re-run wrote rows"
        worker_runs(user, args.count)
        print(f"  (b)/(a) = {first_seconds / raw_seconds:.2f}   (c)/(a) = {rerun_seconds / raw_seconds:.2f}")
        print(f"ratio={first_seconds / raw_seconds:.2f}")


if __name__ == "__main__":
    main()
