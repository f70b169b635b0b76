"""Benchmark: the frontend's registry lists at 10,000 and at N individuals, and enrolment of 100,000 by criteria.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/openimis .venv/bin/python bench/registry_scale.py 1000000

Two databases next to ``DATABASE_URL`` (``bench_registry_10000`` and ``bench_registry_<N>``; SQLite: files in the
temporary directory) are built once through the bulk API (individuals in households of five with their
memberships, groups and history rows; 250 individuals carry a rare attribute; at N also 100,000 individuals
without a household, the enrolment cohort) and kept for the next run (``--fresh`` rebuilds them). The individual
schema declares the filtered attributes ``searchable``, so they get their indexes as in production.

Each list query is the text the openIMIS frontend sends (``compat/client_ops.jsonl``), posted through Django's
test client with a JWT, so the figure is server time: authentication, GraphQL, SQL and JSON. Median of
``--repeat`` requests after two warm-ups; statements of one request. Each size runs in its own process.
Last line: ``ratio=<worst N/10k latency>``.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

SMALL = 10_000
RARE = 250
COHORT = 100_000
FIELDS = "id,isDeleted,dateCreated,dateUpdated,firstName,lastName,dob,jsonExt,version,userUpdated {username}"
PAGE = "totalCount pageInfo { hasNextPage, hasPreviousPage, startCursor, endCursor} edges { node { %s } }"
GROUP_FIELDS = ("id,code,isDeleted,head {firstName, lastName, uuid},dateCreated,dateUpdated,jsonExt,version,"
                "userUpdated {username}")


def individual_list(arguments, fields=FIELDS):
    return "{ individual(%s) { %s } }" % (arguments, PAGE % fields)


QUERIES = [
    ("default page (first:10, lastName)", individual_list('isDeleted: false,first: 10,orderBy: ["lastName"]')),
    ("first:100", individual_list('isDeleted: false,first: 100,orderBy: ["lastName"]')),
    ("deep page (next after row N/2)", None),  # built from a cursor, see deep_page()
    ("2-letter name search", individual_list(
        'isDeleted: false,firstName_Icontains: "ar",first: 10,orderBy: ["lastName"]')),
    ("custom filter educated_level=primary", individual_list(
        'isDeleted: false,customFilters: ["educated_level__iexact__string=primary"],first: 10,'
        'orderBy: ["lastName"]')),
    ("rare json_ext filter (250 rows)", individual_list(
        'isDeleted: false,customFilters: ["rare_flag__exact__boolean=true"],first: 10,orderBy: ["lastName"]')),
    ("group list (with head)", "{ group(isDeleted: false,first: 10,orderBy: [\"id\"]) { %s } }"
     % (PAGE % GROUP_FIELDS)),
]

SCHEMA = {"type": "object", "properties": {
    "educated_level": {"type": "string", "searchable": True},
    "number_of_children": {"type": "integer", "searchable": True},
    "able_bodied": {"type": "boolean"},
    "email": {"type": "string"},
    "rare_flag": {"type": "boolean", "searchable": True},
    "cohort": {"type": "boolean", "searchable": True},
}}


# --- parent: one process per size ---------------------------------------------------------------
def database_url_for(size):
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        return f"sqlite:///{tempfile.gettempdir()}/bench_registry_{size}.sqlite3"
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/bench_registry_{size}"))


def run_phase(size, args):
    command = [sys.executable, __file__, str(size), "--phase", "--repeat", str(args.repeat)]
    if args.fresh:
        command.append("--fresh")
    if size != SMALL and not args.no_enrolment:
        command.append("--enrolment")
    env = {**os.environ, "DATABASE_URL": database_url_for(size)}
    output = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    lines = output.strip().splitlines()
    print("\n".join(lines[:-1]))
    return json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--fresh", action="store_true", help="rebuild the databases")
    parser.add_argument("--no-enrolment", action="store_true")
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--enrolment", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        return phase(args)
    small, large = run_phase(SMALL, args), run_phase(args.n, args)
    print(f"\nlists at {SMALL:,} and {args.n:,} individuals ({large['vendor']}), median of {args.repeat} requests")
    print(f"{'query':<40}{'10k ms':>9}{'N ms':>9}{'N/10k':>8}{'sql':>5}")
    worst = 0.0
    for (name, _text) in QUERIES:
        a, b = small["lists"][name], large["lists"][name]
        ratio = b["ms"] / a["ms"]
        worst = max(worst, ratio)
        print(f"{name:<40}{a['ms']:9.1f}{b['ms']:9.1f}{ratio:8.2f}{b['statements']:5d}")
    for step in large.get("enrolment", []):
        print(f"enrolment of {COHORT:,}: {step['step']:<28}{step['s']:8.2f} s {step['statements']:5d} statements")
    print(f"ratio={worst:.2f}")


# --- child: one database -----------------------------------------------------------------------
def phase(args):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _setup

    create_database_if_missing(os.environ["DATABASE_URL"], args.fresh)
    _setup.django(modules=["core", "individual", "tasks_management", "social_protection"])
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    admin, checker = bench_users()
    build(admin, args.n, args.enrolment)
    result = {"vendor": connection.vendor, "lists": measure_lists(admin, args.repeat)}
    if args.enrolment:
        result["enrolment"] = enrol_cohort(admin, checker)
    print(json.dumps(result))


def create_database_if_missing(url, fresh):
    if not url.startswith("postgres"):
        path = Path(urlsplit(url).path)
        if fresh and path.exists():
            path.unlink()
        return
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            admin.execute(f'DROP DATABASE "{name}"')
            exists = None
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


def bench_users():
    from core.models import User
    from tasks_management.models import TaskExecutor, TaskGroup

    admin = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser(
        "bench-admin", "bench-password-1")
    checker = User.objects.filter(username="bench-checker").first()
    if checker is None:
        checker = User.objects.create_superuser("bench-checker", "bench-password-1")
        group = TaskGroup(code="bench-enrolment", completion_policy="ANY",
                          json_ext={"task_sources": ["import_valid_items"]})
        group.save(user=admin)
        TaskExecutor(user=checker, task_group=group).save(user=admin)
    return admin, checker


def build(admin, size, with_cohort):
    from django.db import connection

    from core.json_indexes import sync_json_indexes
    from core.module_config import store_config, stored_config
    from individual.bulk import create_households
    from individual.models import Individual

    if stored_config("individual")[1].get("individual_schema") != json.dumps(SCHEMA):
        store_config("individual", {"individual_schema": json.dumps(SCHEMA)})
    existing = Individual.objects.count()
    if existing >= size:
        print(f"{size:,} individuals: database kept from an earlier run ({existing:,} rows)")
        sync_json_indexes()
        return
    started = time.perf_counter()
    cohort = COHORT if with_cohort else 0
    households = size - cohort - RARE - existing
    create_households(admin, RARE, 5, seed=2, marker="rare_flag")
    if cohort:
        create_households(admin, cohort, 0, seed=3, marker="cohort")
    load_in_parallel(admin, households)
    sync_json_indexes()  # what the schema change's celery task does in production
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"built {size:,} individuals in {time.perf_counter() - started:.1f} s")


def _load_part(args):
    from django.db import connections

    from core.models import User
    from individual.bulk import create_households

    admin_id, count, seed = args
    connections.close_all()  # this process's own connection
    create_households(User.objects.get(id=admin_id), count, 5, seed=seed, batch_size=50_000)
    return count


def load_in_parallel(admin, count):
    """The households written by one process per core (each streams its own COPYs: the machine's cores share the
    work of formatting the rows in Python and of writing them and their indexes in PostgreSQL)."""
    import multiprocessing

    from django.db import connections

    workers = max(1, min(os.cpu_count() or 1, 4)) if count >= 100_000 else 1
    part = -(-count // workers // 5) * 5
    shares = [(admin.id, min(part, count - i * part), 10 + i) for i in range(workers) if count - i * part > 0]
    if workers == 1:
        return _load_part(shares[0])
    connections.close_all()  # not shared with the children
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(_load_part, shares)


def request(client, text, variables=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        content = client.query(text, variables)
        elapsed = time.perf_counter() - started
    assert "errors" not in content, content["errors"]
    return elapsed, len(queries.captured_queries), content["data"]


def deep_page(client, size):
    """The next page after the row at N/2, following the endCursor the frontend got for the page before it (that
    page itself is read once, untimed)."""
    from graphql_relay import offset_to_cursor

    text = individual_list('isDeleted: false,first: 10,after: "%s",orderBy: ["lastName"]' % offset_to_cursor(
        size // 2 - 11))
    _elapsed, _statements, data = request(client, text)
    cursor = data["individual"]["pageInfo"]["endCursor"]
    return individual_list('isDeleted: false,first: 10,after: "%s",orderBy: ["lastName"]' % cursor)


def measure_lists(admin, repeat):
    from core.test_helpers import GQL
    from individual.models import Individual

    client = GQL(admin)
    size = Individual.objects.count()
    results = {}
    print(f"{'query':<40}{'median ms':>10}{'sql':>5}   ({size:,} individuals)")
    for name, text in QUERIES:
        text = text or deep_page(client, size)
        for _ in range(2):
            request(client, text)
        timings, statements = [], 0
        for _ in range(repeat):
            elapsed, statements, _data = request(client, text)
            timings.append(elapsed * 1000)
        results[name] = {"ms": statistics.median(timings), "statements": statements}
        print(f"{name:<40}{results[name]['ms']:10.1f}{statements:5d}")
    return results


def enrol_cohort(admin, checker):
    """Preview, confirm (maker) and approve (checker) the enrolment of the 100,000 cohort individuals, as the
    frontend sends them."""
    import datetime
    import uuid

    from core.test_helpers import GQL
    from social_protection.models import Beneficiary, BenefitPlan
    from tasks_management.models import Task

    plan = BenefitPlan(code=f"B{uuid.uuid4().hex[:6]}", name="Bench enrolment", type="INDIVIDUAL",
                       max_beneficiaries=0, date_valid_from=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    plan.save(user=admin)
    criteria = '["cohort__exact__boolean=true"]'
    maker, approver = GQL(admin), GQL(checker)
    steps = []

    def step(name, client, text):
        elapsed, statements, data = request(client, text)
        steps.append({"step": name, "s": elapsed, "statements": statements})
        print(f"enrolment: {name:<28}{elapsed:8.2f} s {statements:5d} statements")
        return data

    summary = step("preview (summary)", maker, """{ individualEnrollmentSummary(customFilters: %s, benefitPlanId: "%s") {
        totalNumberOfIndividuals numberOfSelectedIndividuals numberOfIndividualsAssignedToProgramme
        numberOfIndividualsNotAssignedToProgramme numberOfIndividualsAssignedToSelectedProgramme
        numberOfIndividualsToUpload } }""" % (criteria, plan.id))
    assert summary["individualEnrollmentSummary"]["numberOfIndividualsToUpload"] == str(COHORT), summary
    step("confirm (maker)", maker, """mutation { confirmIndividualEnrollment(input: {
        clientMutationId: "%s", customFilters: %s, benefitPlanId: "%s", status: "POTENTIAL"}) {
        clientMutationId internalId } }""" % (uuid.uuid4(), criteria, plan.id))
    task = Task.objects.filter(json_ext__benefit_plan_id=str(plan.id)).order_by("-date_created").first()
    assert task is not None, "the confirm made no task"
    step("approval (checker)", approver, """mutation { resolveTask(input: {
        clientMutationId: "%s", id: "%s", businessStatus: "{\\"%s\\": \\"APPROVED\\"}"}) {
        clientMutationId internalId } }""" % (uuid.uuid4(), task.id, checker.id))
    enrolled = Beneficiary.objects.filter(benefit_plan=plan, is_deleted=False).count()
    assert enrolled == COHORT, f"{enrolled} enrolled, expected {COHORT}"
    return steps


if __name__ == "__main__":
    main()
