"""Benchmark: enrol N individuals into a benefit plan by a custom-filter criterion.

Builds N individuals (bulk) in a scratch database created next to the configured DATABASE_URL
(Django's test-database machinery, destroyed afterwards), then enrols the ones matching
``number_of_children__gt__integer=1`` (all of them) and reports SQL statements issued and elapsed time,
for the direct path and for the maker-checker path (task creation, then approval by a second user).

    OPENIMIS_MODULES=core,individual,tasks_management,social_protection \
      .venv/bin/python bench/social_protection_enrolment.py --sizes 10000,100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/openimis ... (same command)
"""
import argparse
import datetime

import _setup

_setup.django(modules=["core", "individual", "tasks_management", "social_protection"], log_level=None)

from django.db import connection  # noqa: E402

from bench._scratch import scratch_database, timed  # noqa: E402

CRITERION = ["number_of_children__gt__integer=1"]


def build_individuals(user, count, tag):
    """``count`` individuals with their history rows, set-based (``core.bulk``, COPY on PostgreSQL)."""
    from core.bulk import insert_rows
    from individual.models import Individual

    insert_rows(Individual, ({"first_name": f"F{i}", "last_name": f"{tag}{i}",
                              "dob": datetime.date(1980 + i % 30, 1 + i % 12, 1 + i % 28),
                              "json_ext": {"number_of_children": 2 + i % 4, "educated_level": "primary"}}
                             for i in range(count)), user=user)


def run(size, admin, checker):
    from individual.selectors import individuals_without_group
    from social_protection.models import BenefitPlan, Beneficiary
    from social_protection.services import EnrollmentService
    from tasks_management.models import Task
    from tasks_management.services import TaskService

    tag = f"N{size}-"
    build_individuals(admin, size, tag)
    selection = individuals_without_group(CRITERION).filter(last_name__startswith=tag)
    print(f"N = {size} ({connection.vendor})")
    direct = BenefitPlan(code=f"D{size}"[:8], name=f"Direct {size}", type="INDIVIDUAL")
    direct.save(user=admin)
    timed("direct enrolment", lambda: EnrollmentService(admin).enroll_individuals(
        selection, direct.id, "POTENTIAL", maker_checker=False))
    assert Beneficiary.objects.filter(benefit_plan=direct).count() == size
    approved = BenefitPlan(code=f"A{size}"[:8], name=f"Approved {size}", type="INDIVIDUAL")
    approved.save(user=admin)
    _, outcome = timed("maker: enrolment task", lambda: EnrollmentService(admin).enroll_individuals(
        selection, approved.id, "POTENTIAL", maker_checker=True))
    task = Task.objects.get(id=outcome["task_id"])
    timed("checker: approve (enrols all)", lambda: TaskService(checker).resolve_task(
        {"id": task.id, "business_status": {str(checker.id): "APPROVED"}}))
    assert Beneficiary.objects.filter(benefit_plan=approved).count() == size
    assert Beneficiary.history.filter(benefit_plan_id=approved.id).count() == size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with scratch_database():
        from core.test_helpers import create_test_interactive_user
        from tasks_management.models import TaskExecutor, TaskGroup

        admin = create_test_interactive_user("BenchAdmin")
        checker = create_test_interactive_user("BenchChecker")
        group = TaskGroup(code="bench", completion_policy="ANY", json_ext={"task_sources": ["import_valid_items"]})
        group.save(user=admin)
        TaskExecutor(user=checker, task_group=group).save(user=admin)
        for size in sizes:
            run(size, admin, checker)


if __name__ == "__main__":
    main()
