"""PostgreSQL summary tables: after a refresh the large reports read them and answer the same figures as the
live tables (by hand for the main ones), for the administrator and for a district user; "as of" is shown."""
import datetime
from decimal import Decimal

import pytest

from reports import summaries
from reports.apps import ReportsConfig
from reports.services import ReportFilters, definitions, run_report

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

SUMMARISED = ("registry_by_location", "registry_new_per_month", "enrolment_by_status", "enrolment_changes_per_month",
              "payments_by_cycle", "payments_by_status")


def test_summary_path_matches_the_live_tables(world, district_user, set_config):
    filters = [ReportFilters(), ReportFilters(level="V"), ReportFilters(location_uuid=world.region.uuid),
               ReportFilters(benefit_plan_id=world.plan.id),
               ReportFilters(date_from=datetime.date(2025, 3, 1), date_to=datetime.date(2025, 3, 31))]
    live = {(d.name, user.username, i): run_report(d.name, user, f).rows
            for d in definitions() for user in (world.admin, district_user) for i, f in enumerate(filters)}
    done = summaries.refresh()
    assert set(done) == set(summaries.SUMMARIES)
    for (name, username, i), rows in live.items():
        user = world.admin if username == world.admin.username else district_user
        result = run_report(name, user, filters[i])
        assert result.rows == rows, (name, username, i)
        if name in SUMMARISED and not (name == "registry_by_location" and i == 4):
            assert result.as_of is not None, (name, i)
    set_config(ReportsConfig, use_summaries=False)
    assert run_report("payments_by_cycle", world.admin).as_of is None


def test_summary_figures_by_hand(world, district_user):
    summaries.refresh()
    result = run_report("payments_by_cycle", district_user)
    assert result.as_of is not None
    assert [(r["payment_plan"], r["entitlements"], r["amount"], r["paid_amount"], r["failures"])
            for r in result.rows] == [("PP", 2, Decimal("150.00"), Decimal("100.00"), 1)]
    rows = run_report("registry_by_location", world.admin).rows
    assert [(r["location"], r["individuals"], r["age_0_17"], r["age_18_59"], r["age_60_plus"]) for r in rows] == [
        ("RPD1 District one", 3, 1, 1, 1), ("RPD2 District two", 2, 0, 2, 0), ("(no location)", 1, 0, 1, 0)]
    changes = run_report("enrolment_changes_per_month", district_user).rows
    assert [(r["benefit_plan"], r["graduations"], r["suspensions"]) for r in changes] == [("P Cash", 1, 0)]


def test_summaries_are_stale_until_refreshed(world):
    summaries.refresh()
    from tests.payment_cycle.factories import EntitlementFactory

    EntitlementFactory(payment_cycle=world.cycle)
    before = run_report("payments_by_status", world.admin)
    assert sum(r["entitlements"] for r in before.rows) == 4  # as of the refresh
    summaries.refresh()
    assert sum(r["entitlements"] for r in run_report("payments_by_status", world.admin).rows) == 5


def test_refresh_job_is_declared():
    from core.scheduling import module_jobs

    assert module_jobs()["reports_refresh_summaries"]["task"] == "reports.tasks.refresh_summaries"
