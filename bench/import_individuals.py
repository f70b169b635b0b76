"""Benchmark: the individual upload pipeline against a raw COPY of the same file.

    .venv/bin/python bench/import_individuals.py 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/openimis .venv/bin/python bench/import_individuals.py 1000000

Generates an N-row CSV (first_name, last_name, dob, five schema fields, a ``group_code`` household column in
households of five) and, in a scratch database next to DATABASE_URL (Django's test-database machinery,
destroyed afterwards), measures in the same run:

(a) raw: the file read with Python's csv module and written into a bare copy of ``individual_individual``
    (same columns and indexes, ``LIKE … INCLUDING ALL``; the same time-ordered ids) with ``COPY`` on PostgreSQL
    (``executemany`` on SQLite): no checks, no history, no households;
(b) pipeline: the upload through the engine as the maker (file checked and stored, every row typed and
    validated against the schema, uniqueness within the file and against the registry, data sources and
    their history rows), the checker's approval (individuals and their history rows, data sources linked),
    the household task's approval (groups and memberships with their history rows).

On PostgreSQL, (c) the floor: only the rows an approved upload must leave behind (data sources, individuals,
groups, memberships, group data sources, each with its history rows), read from the same file and ``COPY``-ed
into bare copies of their tables with no check at all: what any pipeline keeping this contract writes at least.

Prints (a) and (b) in rows/s, the pipeline's phases and SQL statement count, (c) by table; the last line is
``ratio=<(b)/(a)> peak_rss_mb=<peak RSS of this process, which is the worker: celery runs eagerly here, plus
that of its COPY helper process>``.
"""
import argparse
import csv
import datetime
import itertools
import json
import logging
import os
import random
import resource
import tempfile
import time

import _setup
import orjson
import uuid_utils  # the pipeline's ids are time-ordered too (core.bulk): the same for both

os.environ.pop("CELERY_BROKER_URL", None)  # the worker is this process: its memory is the one measured
# the eager tasks log each run: keep the figures readable
_setup.django(modules=["core", "individual", "tasks_management", "workflow"], log_level=logging.INFO)

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

SCHEMA = {"type": "object", "properties": {
    "email": {"type": "string", "validationCalculation": {"name": "EmailValidationStrategy"}},
    "national_id": {"type": "string", "uniqueness": True},
    "number_of_children": {"type": "integer", "minimum": 0},
    "able_bodied": {"type": "boolean"},
    "educated_level": {"type": "string", "enum": ["none", "primary", "secondary", "tertiary"]},
}}
COLUMNS = ["first_name", "last_name", "dob", "email", "national_id", "number_of_children", "able_bodied",
           "educated_level", "group_code"]
FIRST = ["Amina", "Bilal", "Chen", "Dara", "Elif", "Femi", "Gita", "Hugo", "Ines", "Jomo", "Kofi", "Lena"]
LAST = ["Okafor", "Nguyen", "Silva", "Haddad", "Kumar", "Mensah", "Rossi", "Tanaka", "Ali", "Kowalski"]
LEVELS = ["none", "primary", "secondary", "tertiary"]


def write_csv(path, count):
    rnd = random.Random(1)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for i in range(count):
            dob = datetime.date(1940, 1, 1) + datetime.timedelta(days=rnd.randrange(0, 80 * 365))
            writer.writerow([rnd.choice(FIRST), rnd.choice(LAST), dob.isoformat(), f"p{i}@example.org",
                             f"NID{i:09d}", rnd.randrange(0, 7), rnd.choice(("true", "false")),
                             rnd.choice(LEVELS), f"HH{i // 5:08d}"])


def peak_rss_mb():
    """This process's peak plus its helper's (core.bulk's COPY writer, one at a time): the worker's memory."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


class StatementCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def raw_copy(path, user):
    """(a): the same file into a bare copy of the individual table, as fast as the database takes it."""
    from individual.models import Individual

    table = Individual._meta.db_table
    columns = ["UUID", "isDeleted", "Json_ext", "DateCreated", "DateUpdated", "version", "UserCreatedUUID",
               "UserUpdatedUUID", "DateValidFrom", "first_name", "last_name", "dob"]
    live = {f.column for f in Individual._meta.concrete_fields}
    if set(columns) - live or live - set(columns) - {"DateValidTo", "ReplacementUUID", "location_id"}:
        raise SystemExit(f"raw COPY: the individual table's columns changed: {sorted(live)}")
    now = datetime.datetime.now(datetime.timezone.utc)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw_individual")
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE bench_raw_individual (LIKE {table} INCLUDING ALL)")
        else:
            cursor.execute(f"SELECT sql FROM sqlite_master WHERE name = '{table}'")
            cursor.execute(cursor.fetchone()[0].replace(f'"{table}"', "bench_raw_individual", 1))
            cursor.execute(f"SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' "
                           "AND sql IS NOT NULL")
            for (sql,) in cursor.fetchall():
                cursor.execute(sql.replace(f'"{table}"', "bench_raw_individual").replace(
                    "INDEX \"", "INDEX \"bench_raw_"))
    started = time.perf_counter()
    with open(path, newline="", encoding="utf-8") as source, connection.cursor() as cursor:
        reader = csv.reader(source)
        header = next(reader)
        index = {name: i for i, name in enumerate(header)}

        def rows():
            for cells in reader:
                attributes = {k: cells[index[k]] for k in COLUMNS[3:]}
                values = {"UUID": uuid_utils.uuid7(), "isDeleted": False, "Json_ext": json.dumps(attributes),
                          "DateCreated": now, "DateUpdated": now, "version": 1, "UserCreatedUUID": user.id.hex,
                          "UserUpdatedUUID": user.id.hex, "DateValidFrom": now, "first_name": cells[0],
                          "last_name": cells[1], "dob": cells[2]}
                values["UUID"] = values["UUID"].hex
                yield tuple(values[c] for c in columns)

        if connection.vendor == "postgresql":
            # COPY text formatted here, as core.bulk does (the file's cells hold no tab, newline or backslash)
            stamp, user_id = now.isoformat(), str(user.id)
            with cursor.cursor.copy(f"COPY bench_raw_individual ({quoted}) FROM STDIN") as copy:
                lines = []
                for cells in reader:
                    attributes = orjson.dumps({k: cells[index[k]] for k in COLUMNS[3:]}).decode()
                    lines.append("\t".join((str(uuid_utils.uuid7()), "f", attributes, stamp, stamp, "1", user_id,
                                            user_id, stamp, cells[0], cells[1], cells[2])))
                    if len(lines) == 5000:
                        lines.append("")
                        copy.write("\n".join(lines))
                        lines = []
                if lines:
                    lines.append("")
                    copy.write("\n".join(lines))
        else:
            marks = ", ".join(["%s"] * len(columns))
            batch = []
            for row in rows():
                batch.append(row)
                if len(batch) == 10000:
                    cursor.executemany(f"INSERT INTO bench_raw_individual ({quoted}) VALUES ({marks})", batch)
                    batch = []
            if batch:
                cursor.executemany(f"INSERT INTO bench_raw_individual ({quoted}) VALUES ({marks})", batch)
    return time.perf_counter() - started


def floor_copy(path, user):
    """(c): a lower bound of any pipeline keeping this contract: only the rows an approved upload must leave
    behind, read from the file and ``COPY``-ed into bare copies of their tables (``LIKE … INCLUDING ALL``) with
    no check at all: a data source per row with its two history rows (created, then linked to its individual:
    here written linked, so the linking ``UPDATE`` costs nothing), an individual, a membership and, per household,
    a group and a group data source (created, linked), each with its history row. Answers
    ``{table or "<table> history <type>": seconds}``; the data sources and their ``+`` history rows are the
    upload's share, the rest the approvals'."""
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    user_id, upload_id = str(user.id), str(uuid_utils.uuid7())
    bookkeeping = ["history_date", "history_type", "history_user_id"]
    seconds = {}

    def file_rows():
        with open(path, newline="", encoding="utf-8") as source:
            reader = csv.reader(source)
            next(reader)
            yield from enumerate(reader)

    def copy(model, history, columns, lines):
        """The COPY text ``lines`` of ``model``'s rows into its bare table, then one history row per line for each
        history type of ``history``, each timed on its own."""
        live, historical = model._meta.db_table, model.history.model._meta.db_table
        bare = {name: f"bench_floor_{name}"[:63] for name in (live, historical)}
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            for name, copy_name in bare.items():
                cursor.execute(f"DROP TABLE IF EXISTS {copy_name}")
                cursor.execute(f"CREATE TABLE {copy_name} (LIKE {name} INCLUDING ALL)")

            def timed_copy(key, table, column_sql, texts):
                started = time.perf_counter()
                with cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as out:
                    iterator = iter(texts)
                    while chunk := list(itertools.islice(iterator, 5000)):
                        out.write("\n".join(chunk) + "\n")
                seconds[key] = time.perf_counter() - started

            written = []
            timed_copy(live, bare[live], quoted, (written.append(line) or line for line in lines))
            for kind in history:
                timed_copy(f"{live} history {kind}", bare[historical], f"{quoted}, {', '.join(bookkeeping)}",
                           (f"{line}\t{now}\t{kind}\t{user_id}" for line in written))
            for copy_name in bare.values():
                cursor.execute(f"DROP TABLE {copy_name}")

    from individual.models import Group, GroupDataSource, GroupIndividual, Individual, IndividualDataSource

    audit = ["UUID", "isDeleted", "DateCreated", "DateUpdated", "version", "UserCreatedUUID", "UserUpdatedUUID"]
    ids = {}

    def data_sources():
        for i, cells in file_rows():
            ids[i] = str(uuid_utils.uuid7())
            row = orjson.dumps(dict(zip(COLUMNS, cells))).decode()
            yield "\t".join((ids[i], "f", now, now, "2", user_id, user_id, row, "{}", ids[i], upload_id))

    copy(IndividualDataSource, "+~", audit + ["Json_ext", "validations", "individual_id", "upload_id"],
         data_sources())

    def individuals():
        for i, cells in file_rows():
            attributes = orjson.dumps({k: cells[j] for j, k in enumerate(COLUMNS) if 3 <= j < 8}).decode()
            yield "\t".join((ids[i], "f", now, now, "1", user_id, user_id, now, cells[0], cells[1], cells[2],
                             attributes))

    copy(Individual, "+", audit + ["DateValidFrom", "first_name", "last_name", "dob", "Json_ext"], individuals())
    households = {}
    for i in range(len(ids)):
        households.setdefault(i // 5, []).append(ids[i])
    group_ids = {k: str(uuid_utils.uuid7()) for k in households}
    copy(Group, "+", audit + ["DateValidFrom", "code", "Json_ext"], (
        "\t".join((group_ids[k], "f", now, now, "1", user_id, user_id, now, f"HH{k:08d}",
                   orjson.dumps({"head": members[0]}).decode())) for k, members in households.items()))
    copy(GroupIndividual, "+", audit + ["group_id", "individual_id", "role", "recipient_type", "Json_ext"], (
        "\t".join((str(uuid_utils.uuid7()), "f", now, now, "1", user_id, user_id, group_ids[k], member,
                   "HEAD" if j == 0 else "\\N", "\\N", "{}"))
        for k, members in households.items() for j, member in enumerate(members)))
    copy(GroupDataSource, "+~", audit + ["Json_ext", "validations", "group_id", "upload_id"], (
        "\t".join((group_ids[k], "f", now, now, "2", user_id, user_id, orjson.dumps(
            {"code": f"HH{k:08d}", "members": [{"individual_id": m} for m in members]}).decode(), "{}",
            group_ids[k], upload_id)) for k, members in households.items()))
    return seconds


def pipeline(path, count, maker, checker):
    """(b): upload → validation → approval → households, as the maker and the checker would."""
    from django.core.files import File

    from individual import imports
    from individual.models import Group, GroupIndividual, Individual, IndividualDataSourceUpload
    from tasks_management.models import Task
    from tasks_management.services import TaskService
    from workflow.services import WorkflowService

    workflow = WorkflowService.get_workflow("Python Import Individuals", "individual")["data"]["workflow"]
    phases = {}
    counter = StatementCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(counter), open(path, "rb") as handle:
        upload = imports.receive(maker, imports.ImportTarget(), import_file=File(handle, name=f"bench-{count}.csv"),
                                 workflow=workflow)
        phases["upload + validation"] = time.perf_counter() - started
        print(f"      (peak RSS after validation: {peak_rss_mb():.0f} MB)")
        upload.refresh_from_db()
        assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
        mark = time.perf_counter()
        task = Task.objects.get(source="import_valid_items", json_ext__data_upload_id=str(upload.id))
        TaskService(checker).resolve_task({"id": task.id, "business_status": {str(checker.id): "APPROVED"}})
        phases["approval: individuals"] = time.perf_counter() - mark
        print(f"      (peak RSS after the individuals: {peak_rss_mb():.0f} MB)")
        mark = time.perf_counter()
        households = Task.objects.get(source="import_group_valid_items", json_ext__data_upload_id=str(upload.id))
        TaskService(checker).resolve_task({"id": households.id, "business_status": {str(checker.id): "APPROVED"}})
        phases["approval: households"] = time.perf_counter() - mark
    total = time.perf_counter() - started
    upload = IndividualDataSourceUpload.objects.get(id=upload.id)
    assert upload.status == "SUCCESS", (upload.status, upload.error)
    assert Individual.objects.count() == count and Individual.history.count() == count
    assert GroupIndividual.objects.count() == count and Group.objects.count() == (count + 4) // 5
    return total, phases, counter.count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=100000, help="rows in the file (default 100000)")
    args = parser.parse_args()
    from individual.apps import IndividualConfig

    IndividualConfig.individual_schema = json.dumps(SCHEMA)
    setup_test_environment()
    workdir = tempfile.mkdtemp(prefix="import_bench_")
    if connection.vendor == "sqlite":  # a file, as the embedded default (Django's test database is in memory)
        connection.settings_dict["TEST"]["NAME"] = os.path.join(workdir, "bench.sqlite3")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    from django.conf import settings

    settings.MEDIA_ROOT = workdir
    try:
        from core.test_helpers import create_test_interactive_user
        from tasks_management.models import TaskExecutor, TaskGroup

        maker = create_test_interactive_user("BenchMaker")
        checker = create_test_interactive_user("BenchChecker")
        group = TaskGroup(code="bench", completion_policy="ANY",
                          json_ext={"task_sources": ["import_valid_items", "import_group_valid_items"]})
        group.save(user=maker)
        TaskExecutor(user=checker, task_group=group).save(user=maker)
        path = os.path.join(workdir, "people.csv")
        write_csv(path, args.n)
        print(f"N = {args.n} rows, {os.path.getsize(path) / 2**20:.1f} MiB CSV, database: {connection.vendor}")
        raw = raw_copy(path, maker)
        print(f"      (peak RSS after the raw COPY: {peak_rss_mb():.0f} MB)")
        print(f"(a) raw COPY into a bare individual table: {raw:8.2f} s  {args.n / raw:10.0f} rows/s")
        total, phases, statements = pipeline(path, args.n, maker, checker)
        print(f"(b) pipeline, upload to households:        {total:8.2f} s  {args.n / total:10.0f} rows/s"
              f"  ({statements} SQL statements)")
        for name, seconds in phases.items():
            print(f"      {name:<28} {seconds:8.2f} s")
        worker_peak = peak_rss_mb()  # before (c), which keeps its rows in memory
        if connection.vendor == "postgresql":
            floor = floor_copy(path, maker)
            print("(c) floor: only the rows an approved upload leaves, COPY-ed, no checks (PostgreSQL):")
            for name, seconds in floor.items():
                print(f"      {name:<56} {seconds:6.2f} s")
            upload_share = sum(v for k, v in floor.items() if k.startswith("individual_individualdatasource")
                               and not k.endswith("~"))
            approvals = sum(floor.values()) - upload_share
            print(f"    upload {upload_share:.2f} s + approvals {approvals:.2f} s = {sum(floor.values()):.2f} s"
                  f" = {sum(floor.values()) / raw:.2f} x (a); (b) = {total / sum(floor.values()):.2f} x (c)")
        print(f"ratio={total / raw:.2f} peak_rss_mb={worker_peak:.0f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
