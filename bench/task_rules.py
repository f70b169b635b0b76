"""Benchmark: rule-generated tasks (task_rules.md) for N individuals on PostgreSQL, the three shipped rules on.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/openimis .venv/bin/python bench/task_rules.py 100000

In a scratch database next to DATABASE_URL (Django's test-database machinery, destroyed afterwards) it builds,
set-based through ``core.bulk`` (rows and history): N individuals, N/4 households of four, an enrolment
(``Beneficiary``) for every other individual and a grievance ticket (reported by the individual, attended by
the bench user) for every fifth. The rules ``grievance_follow_up`` (on by default),
``post_enrolment_check_in`` and ``household_reverification`` (switched on here) are evaluated:

(a) the first full refresh (every contact; the rules hash is new, so nothing is fresh yet);
(b) an immediate second refresh with nothing changed (the dirty refresh the 15-minute job runs);
(c) a refresh after changing 1 % of the individuals (their ``json_ext`` changed and marked dirty).

Targets (issue 15) at N = 100,000: (a) <= 60 s; (b) and (c) <= 10 % of (a). The last line is
``ratio=<(b) / (a)>``.
"""
import argparse
import datetime
import sys
import time
import uuid

import _setup

_setup.django()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench._scratch import bench_admin_and_plan, scratch_database, timed  # noqa: E402


def build(count):
    from django.contrib.contenttypes.models import ContentType

    from core import bulk
    from grievance_social_protection.models import Ticket
    from individual.models import Group, GroupIndividual, Individual
    from social_protection.models import Beneficiary

    user, plan = bench_admin_and_plan("BENCHR", name="Bench cash transfer")
    individual_ids = [uuid.uuid4() for _ in range(count)]
    group_ids = [uuid.uuid4() for _ in range(max(1, count // 4))]
    bulk.insert_rows(Individual, ({"id": iid, "first_name": f"Person{i}", "last_name": "Bench",
                                  "dob": datetime.date(1980, 1, 1), "json_ext": {}}
                                 for i, iid in enumerate(individual_ids)), user=user)
    bulk.insert_rows(Group, ({"id": gid, "code": f"HH{i:07d}", "json_ext": {}} for i, gid in enumerate(group_ids)),
                     user=user)
    bulk.insert_rows(GroupIndividual, ({"group_id": group_ids[i // 4], "individual_id": iid, "json_ext": {},
                                        "role": "HEAD" if i % 4 == 0 else None}
                                       for i, iid in enumerate(individual_ids) if i // 4 < len(group_ids)),
                     user=user)
    start = timezone.now()
    bulk.insert_rows(Beneficiary, ({"individual_id": iid, "benefit_plan_id": plan.id, "status": "ACTIVE",
                                    "json_ext": {}, "date_valid_from": start}
                                   for iid in individual_ids[::2]), user=user)
    individual_ct = ContentType.objects.get_for_model(Individual)
    bulk.insert_rows(Ticket, ({"title": f"Grievance {i}", "code": f"B{i:07d}", "category": "Default",
                               "status": "OPEN", "priority": "High" if i % 3 == 0 else "Medium",
                               "reporter_type_id": individual_ct.id, "reporter_id": str(iid),
                               "attending_staff_id": user.id, "json_ext": {}, "date_valid_from": start}
                              for i, iid in enumerate(individual_ids[::5])), user=user)
    bulk.analyze(Individual, Group, GroupIndividual, Beneficiary, Ticket)
    return user, individual_ids


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, nargs="?", default=100_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/task_rules.py measures PostgreSQL: set DATABASE_URL")
    with scratch_database():
        from core import bulk
        from individual.models import Individual
        from social_protection.apps import SocialProtectionConfig
        from tasks_management.models import Task, TaskRuleContactState
        from tasks_management.rules import engine

        SocialProtectionConfig.post_enrolment_check_in_task_enabled = True
        SocialProtectionConfig.household_reverification_task_enabled = True
        print(f"rule tasks of {args.count} individuals (PostgreSQL {connection.pg_version // 10000}), rules: "
              "grievance_follow_up, post_enrolment_check_in, household_reverification")
        started = time.perf_counter()
        user, individual_ids = build(args.count)
        print(f"  {'data built':<44} {time.perf_counter() - started:9.2f} s")

        full, stats = timed("(a) full refresh", lambda: engine.refresh(everything=True, user=user))
        print(f"      {stats.subjects} subjects, {stats.emissions} emissions, {stats.created} tasks created "
              f"({Task.objects.filter(rule_state='Ready').count()} Ready, "
              f"{Task.objects.filter(rule_state='Draft').count()} Draft)")
        bulk.analyze(Task, TaskRuleContactState)
        unchanged, stats = timed("(b) second refresh, nothing changed", lambda: engine.refresh(user=user))
        assert stats.created == stats.updated == 0, stats.as_dict()
        changed_ids = individual_ids[:: 100]
        bulk.update_with_history(Individual.objects.filter(id__in=changed_ids),
                                 {"first_name": "Changed"}, user=user)
        engine.mark_dirty([("individual.individual", i) for i in changed_ids])
        one_percent, stats = timed("(c) refresh after changing 1 % of contacts", lambda: engine.refresh(user=user))
        print(f"      {stats.subjects} subjects refreshed, {stats.updated} tasks updated (new contact label)")
        print(f"  full refresh {'within' if full <= 60 else 'OVER'} 60 s; unchanged / full = {unchanged:.2f} / "
              f"{full:.2f}; 1 % changed / full = {one_percent:.2f} / {full:.2f} "
              f"({one_percent / full:.3f})")
        print(f"ratio={unchanged / full:.3f}")


if __name__ == "__main__":
    main()
