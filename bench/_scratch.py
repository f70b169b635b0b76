"""What the benchmarks share (import after ``django.setup()``): a scratch database next to ``DATABASE_URL`` (Django's
test-database machinery, destroyed afterwards) and a timer that also counts SQL statements."""
import contextlib
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext, setup_test_environment


@contextlib.contextmanager
def scratch_database():
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def timed(label, call):
    """``(seconds, result)`` of ``call()``, printed with the number of SQL statements it issued."""
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = call()
        seconds = time.perf_counter() - started
    print(f"  {label:<44} {seconds:9.2f} s  {len(queries.captured_queries):>5} statements")
    return seconds, result


def bench_admin_and_plan(code, plan_type="INDIVIDUAL", name="Bench plan"):
    """``(superuser, benefit plan)`` the benchmarks write as and enrol into: the plan valid since 2020, no limit."""
    import datetime

    from core.models import User
    from social_protection.models import BenefitPlan

    user = User.objects.create_superuser("bench-admin", "bench-password-1")
    plan = BenefitPlan(code=code, name=name, type=plan_type, max_beneficiaries=0,
                       date_valid_from=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    plan.save(user=user)
    return user, plan
