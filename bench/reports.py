"""Benchmark: every programme report at 10,000 and at N individuals / N entitlements (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helper_reports_bench .venv/bin/python bench/reports.py 1000000

In a scratch database next to DATABASE_URL (destroyed afterwards) it builds, with ``core.bulk`` (history rows
included): 4 regions × 5 districts × 4 wards × 10 villages; individuals spread over the villages (1 in 50
without location, ages 0-90), one household per 4 individuals; one enrolment per individual in one plan (80 %
ACTIVE, 10 % POTENTIAL, 5 % GRADUATED, 5 % SUSPENDED, the last two through a bulk status change so their history
holds the change); one entitlement per enrolment in one cycle (status mix, paid amounts on the PAID ones); one
ticket per 100 individuals; one notification record per 10 households. It refreshes the summary tables (the
time of each is printed), then for each report takes the best of three runs (after a warm-up) as the
administrator and as a user restricted to one district, with the statements issued. It does this at 10,000,
then grows the same database to N and measures again.

The last line is ``ratio=<slowest report at N / slowest at 10k>``.
"""
import argparse
import datetime
import random
import sys
import time
from decimal import Decimal

import _setup

_setup.django()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench._scratch import bench_admin_and_plan, scratch_database  # noqa: E402

BASE = 10_000
UTC = datetime.timezone.utc


def locations():
    from core.models import Location

    villages = []
    for r in range(4):
        region = Location.objects.create(code=f"BR{r}", name=f"Region {r}", type="R")
        for d in range(5):
            district = Location.objects.create(code=f"BR{r}D{d}", name=f"District {r}.{d}", type="D", parent=region)
            for w in range(4):
                ward = Location.objects.create(code=f"BR{r}D{d}W{w}", name=f"Ward {r}.{d}.{w}", type="W",
                                               parent=district)
                for v in range(10):
                    villages.append(Location.objects.create(code=f"BR{r}D{d}W{w}V{v}", name=f"Village {v}",
                                                            type="V", parent=ward).id)
    return villages


def setup_world():
    from core.test_helpers import assign_user_districts, create_test_interactive_user
    from payment_cycle.models import PaymentCycle, PaymentPlan

    admin, plan = bench_admin_and_plan("BENCH")
    villages = locations()
    cycle = PaymentCycle(code="BENCH-C1", start_date=datetime.date(2025, 3, 1), end_date=datetime.date(2025, 3, 31),
                         status="ACTIVE")
    cycle.save(user=admin)
    payment_plan = PaymentPlan(code="BENCH-M", name="Bench monthly", benefit_plan=plan,
                               calculation="32d96b58-898a-460a-b357-5fd4b95cd87c", periodicity=1,
                               date_valid_from=datetime.date(2020, 1, 1), json_ext={})
    payment_plan.save(user=admin)
    officer = create_test_interactive_user("bench-officer", rights=[159001, 170001, 200001, 127000, 131224, 191001])
    assign_user_districts(officer, ["BR0D0"])
    return admin, officer, villages, plan, cycle, payment_plan


def grow(start, stop, admin, villages, plan, cycle, payment_plan):
    """Rows for individuals start … stop-1 (and their households, enrolments, entitlements, tickets, messages)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import F

    from core import bulk
    from grievance_social_protection.models import Ticket
    from individual.models import Group, Individual
    from payment_cycle.models import Entitlement
    from policy_notification.models import NotificationIndication
    from social_protection.models import Beneficiary

    rng = random.Random(start)
    today = datetime.date.today()
    marker = f"b{start}"

    def village(i):
        return None if i % 50 == 0 else villages[i % len(villages)]

    bulk.insert_rows(Individual, ({"first_name": f"F{i}", "last_name": f"L{i}", "location_id": village(i),
                                   "dob": today - datetime.timedelta(days=rng.randrange(0, 90 * 365)),
                                   "json_ext": {"bench": marker}} for i in range(start, stop)), user=admin)
    bulk.insert_rows(Group, ({"code": f"H{i}", "location_id": village(i), "json_ext": {}}
                             for i in range(start, stop, 4)), user=admin)
    new = Individual.objects.filter(json_ext__bench=marker)
    bulk.insert_from_select(Beneficiary, new, {
        "individual": F("id"), "benefit_plan": bulk.constant(plan.id, Beneficiary, "benefit_plan"),
        "status": bulk.constant("ACTIVE", Beneficiary, "status"), "json_ext": F("json_ext"),
        "date_valid_from": bulk.constant(datetime.datetime(2020, 1, 1, tzinfo=UTC), Beneficiary,
                                         "date_valid_from")}, user=admin)
    enrolled = Beneficiary.objects.filter(json_ext__bench=marker)
    # status changes through the bulk API (history rows record them): 10 % POTENTIAL, 5 % GRADUATED, 5 % SUSPENDED
    ids = list(enrolled.order_by("id").values_list("id", flat=True))
    rng.shuffle(ids)
    n = len(ids)
    for status, chunk in (("POTENTIAL", ids[: n // 10]), ("GRADUATED", ids[n // 10: n // 10 + n // 20]),
                          ("SUSPENDED", ids[n // 10 + n // 20: n // 5])):
        for k in range(0, len(chunk), 50_000):
            bulk.update_with_history(Beneficiary.objects.filter(id__in=chunk[k:k + 50_000]), {"status": status},
                                     user=admin)
    counter = [start]

    def code():
        counter[0] += 1
        return f"B{counter[0]:09}"

    statuses = ["ACCEPTED"] * 2 + ["APPROVE_FOR_PAYMENT"] * 2 + ["PAID"] * 5 + ["REJECTED"]
    rows = enrolled.values_list("id", "individual_id")
    entitlements = []
    for ben_id, ind_id in rows.iterator(chunk_size=20_000):
        status = statuses[rng.randrange(len(statuses))]
        failed = status == "APPROVE_FOR_PAYMENT" and rng.random() < 0.2
        entitlements.append({
            "payment_cycle_id": cycle.id, "payment_plan_id": payment_plan.id, "benefit_plan_id": plan.id,
            "beneficiary_id": ben_id, "individual_id": ind_id, "code": code(), "amount": Decimal("1500.00"),
            "currency": "USD", "date_due": cycle.end_date, "period_start": cycle.start_date,
            "period_end": cycle.end_date, "type": "Cash Transfer", "status": status,
            "calculation": payment_plan.calculation,
            "paid_amount": Decimal("1500.00") if status == "PAID" else None,
            "failure_reason": "account closed" if failed else None, "json_ext": {}})
        if len(entitlements) >= 50_000:
            bulk.insert_rows(Entitlement, entitlements, user=admin)
            entitlements = []
    if entitlements:
        bulk.insert_rows(Entitlement, entitlements, user=admin)
    individual_type = ContentType.objects.get_for_model(Individual)
    reporters = list(new.values_list("id", flat=True)[: (stop - start) // 100])
    bulk.insert_rows(Ticket, ({"title": f"T{start}-{i}", "code": f"GB{start + i:08}",
                               "reporter_type_id": individual_type.id,
                               "reporter_id": str(rid), "category": ["Payment", "Registration", "Other"][i % 3],
                               "channel": ["phone", "web"][i % 2], "priority": ["High", "Low"][i % 2],
                               "status": ["OPEN", "RECEIVED", "RESOLVED"][i % 3],
                               "due_date": today + datetime.timedelta(days=(i % 20) - 10), "json_ext": {},
                               "date_valid_from": datetime.datetime(2020, 1, 1, tzinfo=UTC)}
                              for i, rid in enumerate(reporters)), user=admin)
    group_type = ContentType.objects.get_for_model(Beneficiary)
    households = Group.objects.filter(code__in=[f"H{i}" for i in range(start, stop, 40)]).values_list("id", flat=True)
    bulk.insert_rows(NotificationIndication, ({"enrolment_type_id": group_type.id, "enrolment_id": gid,
                                               "group_id": gid, "notification_type": "activation_of_policy",
                                               "period_key": datetime.date(2025, 3, 1), "status": i % 5,
                                               "json_ext": {}} for i, gid in enumerate(households)), user=admin)
    bulk.analyze(Individual, Group, Beneficiary, Entitlement, Ticket, NotificationIndication)


def refresh():
    """The summary tables after the bulk load (what the scheduled job and refresh_soon() do)."""
    from reports import summaries

    started = time.perf_counter()
    done = summaries.refresh()
    print(f"  summaries refreshed in {time.perf_counter() - started:.2f} s: "
          + ", ".join(f"{name.replace('reports_sum_', '')} {ms:.0f} ms" for name, ms in done.items()))


def measure(label, admin, officer):
    from django.core.cache import cache

    from reports import services

    cache.clear()
    print(f"{label}")
    print(f"  {'report':<30} {'admin ms':>9} {'officer ms':>11} {'statements':>11}")
    slowest = 0.0
    for found in services.definitions():
        times = {}
        for who, user in (("admin", admin), ("officer", officer)):
            services.run_report(found.name, user)  # warm-up (caches, plans)
            best, count = None, 0
            for _ in range(3):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    services.run_report(found.name, user)
                    elapsed = (time.perf_counter() - started) * 1000
                best = elapsed if best is None else min(best, elapsed)
                count = len(queries.captured_queries)
            times[who] = (best, count)
        slowest = max(slowest, times["admin"][0], times["officer"][0])
        print(f"  {found.name:<30} {times['admin'][0]:9.1f} {times['officer'][0]:11.1f} "
              f"{times['admin'][1]:>5}/{times['officer'][1]:<5}")
    return slowest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("PostgreSQL only (set DATABASE_URL)")
        sys.exit(2)
    with scratch_database():
        admin, officer, villages, plan, cycle, payment_plan = setup_world()
        started = time.perf_counter()
        grow(0, BASE, admin, villages, plan, cycle, payment_plan)
        print(f"built {BASE:,} in {time.perf_counter() - started:.1f} s")
        refresh()
        base = measure(f"at {BASE:,} individuals / entitlements", admin, officer)
        if args.n > BASE:
            started = time.perf_counter()
            step = 200_000
            for begin in range(BASE, args.n, step):
                grow(begin, min(begin + step, args.n), admin, villages, plan, cycle, payment_plan)
            print(f"grew to {args.n:,} in {time.perf_counter() - started:.1f} s")
            refresh()
            top = measure(f"at {args.n:,} individuals / entitlements", admin, officer)
        else:
            top = base
        print(f"slowest report: {base:.1f} ms at {BASE:,}, {top:.1f} ms at {args.n:,}")
        print(f"ratio={top / base:.2f}")


if __name__ == "__main__":
    main()
