"""Benchmark the individual/group list queries with nested memberships.

    DEBUG=1 .venv/bin/python bench/individual_list_queries.py --count 2000

Builds N individuals in households of 5 in a scratch database (a fresh SQLite file in /tmp unless
DATABASE_URL is set), then runs the `individual` and `group` list queries through the GraphQL endpoint
for page sizes 10 and 100, printing the SQL statements and cache reads of one request (HTTP included) and
the median latency of each.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

QUERIES = {
    "individual": """{ individual(first: %d, isDeleted: false, orderBy: ["lastName"]) { totalCount edges { node {
        uuid firstName lastName dob jsonExt userUpdated { username }
        memberships { role recipientType group { code } } } } } }""",
    "group": """{ group(first: %d, isDeleted: false) { totalCount edges { node {
        uuid code jsonExt head { firstName lastName uuid } userUpdated { username }
        members { role recipientType individual { firstName lastName } } } } } }""",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='individual_bench_')}/bench.sqlite3"
    os.environ.setdefault("OPENIMIS_MODULES", "core,individual")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openimis_be.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from core.test_helpers import GQL, create_test_interactive_user, request_cost
    from individual.bulk import create_households
    from individual.models import Individual

    call_command("migrate", verbosity=0)
    admin = create_test_interactive_user("bench-admin")
    existing = Individual.objects.count()
    if existing < args.count:
        create_households(admin, args.count - existing, 5, [None], seed=1)
    client = GQL(admin)
    print(f"database: {connection.vendor}, individuals: {Individual.objects.count()}")
    print(f"{'query':<12}{'page':>6}{'sql':>6}{'cache reads':>13}{'median ms':>12}")
    for name, text in QUERIES.items():
        for page in (10, 100):
            query = text % page
            client.data(query)  # warm-up (caches, first connection)
            statements, reads = request_cost(lambda: client.data(query))
            timings = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                client.query(query)
                timings.append((time.perf_counter() - start) * 1000)
            print(f"{name:<12}{page:>6}{statements:>6}{reads:>13}{statistics.median(timings):>12.1f}")
    print("(one HTTP request through the test client, authentication included)")


if __name__ == "__main__":
    main()
