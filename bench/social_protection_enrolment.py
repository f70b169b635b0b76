"""Benchmark: enrolment of N individuals by criteria, each step as the frontend sends it (PostgreSQL).

Builds a registry in a scratch database created next to the configured DATABASE_URL (Django's test-database
machinery, destroyed afterwards unless ``--keep``): per size N, N individuals without a household matching the
criteria, N/10 without a household who do not match, N/10 households of two members who would match but are in a
household (not candidates). Then, through the GraphQL endpoint (the Django test client, JWT), it times and counts
the SQL statements of:

* preview — ``individualEnrollmentSummary(customFilters, benefitPlanId)``;
* confirm — ``confirmIndividualEnrollment`` with maker-checker on: stores the criteria and the snapshot, one task;
* task panel — the checker's ``individualDataSource(upload_Id, individual_Id_Isnull: false, first: 10)`` page
  with ``totalCount`` (the frontend's pending-enrolment list);
* approval — ``resolveTask`` by the checker: the selection re-run, N beneficiaries and their history rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:55432/bench_enrol_helper \\
      .venv/bin/python bench/social_protection_enrolment.py --sizes 10000,100000

The machine may be shared: the figures are indicative.
"""
import argparse
import contextlib
import datetime
import json
import warnings

import _setup

_setup.django(modules=["core", "individual", "tasks_management", "social_protection"], log_level=30)

from django.db import connection  # noqa: E402

from bench._scratch import scratch_database, timed  # noqa: E402

warnings.filterwarnings("ignore", message="The HMAC key")  # the benchmark's short development key


def criteria(batch):
    return ["number_of_children__gt__integer=1", f"bench_batch__exact__integer={batch}"]


def build_registry(user, size, batch):
    """The registry of one size, set-based (``core.bulk``, COPY on PostgreSQL)."""
    from core.bulk import insert_rows
    from individual.models import Group, GroupIndividual, Individual

    def people(count, tag, children):
        return ({"first_name": f"F{i}", "last_name": f"{tag}{i}",
                 "dob": datetime.date(1980 + i % 30, 1 + i % 12, 1 + i % 28),
                 "json_ext": {"number_of_children": children(i), "educated_level": "primary", "bench_batch": batch}}
                for i in range(count))

    insert_rows(Individual, people(size, f"S{size}-", lambda i: 2 + i % 4), user=user)
    insert_rows(Individual, people(size // 10, f"X{size}-", lambda i: 0), user=user)
    households = size // 10
    member_ids = insert_rows(Individual, people(2 * households, f"H{size}-", lambda i: 3), user=user,
                             returning=True)
    group_ids = insert_rows(Group, ({"code": f"G{size}-{i}", "json_ext": {}} for i in range(households)),
                            user=user, returning=True)
    insert_rows(GroupIndividual, ({"group_id": group_ids[i // 2], "individual_id": member_ids[i],
                                   "role": "HEAD" if i % 2 == 0 else "SON", "json_ext": {}}
                                  for i in range(2 * households)), user=user)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def run(size, maker, checker, batch, code):
    from core.test_helpers import GQL
    from social_protection.models import Beneficiary, BenefitPlan
    from tasks_management.models import Task

    print(f"N = {size} ({connection.vendor}; registry {size + size // 10 + 2 * (size // 10)} individuals)")
    timed("build the registry (not a step)", lambda: build_registry(maker, size, batch))
    plan = BenefitPlan(code=code, name=f"Enrolment {code}", type="INDIVIDUAL")
    plan.save(user=maker)
    as_maker, as_checker = GQL(maker), GQL(checker)
    filters = json.dumps(criteria(batch))

    _, preview = timed("preview: individualEnrollmentSummary", lambda: as_maker.data(
        '{ individualEnrollmentSummary(customFilters: %s, benefitPlanId: "%s") { numberOfSelectedIndividuals '
        'totalNumberOfIndividuals numberOfIndividualsToUpload numberOfIndividualsAssignedToProgramme } }'
        % (filters, plan.id))["individualEnrollmentSummary"])
    assert preview["numberOfSelectedIndividuals"] == str(size), preview

    _, log = timed("confirm: confirmIndividualEnrollment (task)", lambda: as_maker.mutate(
        "confirmIndividualEnrollment", {"customFilters": criteria(batch), "benefitPlanId": str(plan.id),
                                        "status": "POTENTIAL"}))
    assert log.status == 2, log.error
    task = Task.objects.filter(business_event="validation-enrollment", json_ext__benefit_plan_id=str(plan.id)).get()
    assert task.json_ext["number_of_records"] == size

    _, page = timed("task panel: individualDataSource first 10", lambda: as_checker.data(
        '{ individualDataSource(upload_Id: "%s", individual_Id_Isnull: false, first: 10) { totalCount '
        'edges { node { id uuid jsonExt individual { id lastName } } } } }'
        % task.json_ext["data_upload_id"])["individualDataSource"])
    assert page["totalCount"] == size and len(page["edges"]) == 10, page["totalCount"]

    _, log = timed("approval: resolveTask (enrols all)", lambda: as_checker.mutate("resolveTask", {
        "id": str(task.id), "businessStatus": json.dumps({str(checker.id): "APPROVED"})}))
    assert log.status == 2, log.error
    assert Beneficiary.objects.filter(benefit_plan=plan).count() == size
    assert Beneficiary.history.filter(benefit_plan_id=plan.id).count() == size


@contextlib.contextmanager
def kept_database():
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=True)
    yield


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (faster reruns)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with (kept_database() if args.keep else scratch_database()):
        from core.test_helpers import create_test_interactive_user
        from tasks_management.models import TaskExecutor, TaskGroup

        stamp = datetime.datetime.now().strftime("%H%M%S")  # a rerun on a kept database gets new criteria
        maker = create_test_interactive_user("BenchMaker")
        checker = create_test_interactive_user("BenchChecker")
        group = TaskGroup.objects.filter(code="bench", is_deleted=False).first()
        if group is None:
            group = TaskGroup(code="bench", completion_policy="ANY", json_ext={"task_sources": ["import_valid_items"]})
            group.save(user=maker)
            TaskExecutor(user=checker, task_group=group).save(user=maker)
        print("warm-up (per-process caches, the users' rights entries):")
        run(200, maker, checker, batch=int(stamp) * 10 + 9, code=f"W{stamp}")
        for index, size in enumerate(sizes):
            run(size, maker, checker, batch=int(stamp) * 10 + index, code=f"B{index}{stamp}")


if __name__ == "__main__":
    main()
