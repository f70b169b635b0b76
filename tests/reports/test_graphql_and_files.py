"""The reports over GraphQL, REST (JSON, CSV, PDF), the admin dashboard and the stored monthly report: the same
figures, the same rights and row security; constant statements."""
import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.test import Client

from core.test_helpers import request_cost
from reports.models import MonthlyProgrammeReport
from reports.services import run_report
from reports.svg import chart_svg, render

pytestmark = pytest.mark.django_db

QUERY = """{ programmeReport(name: "%s"%s) { name title columns { key label } rows totals %s } }"""


def report(gql, user, name, args="", extra=""):
    return gql(user).query(QUERY % (name, args, extra))


def test_graphql_report_answers_the_figures(world, gql):
    answer = report(gql, world.admin, "registry_by_location", ', level: "D"', "svg")
    data = answer["data"]["programmeReport"]
    assert [(r["location"], r["individuals"]) for r in data["rows"]] == [
        ("RPD1 District one", 3), ("RPD2 District two", 2), ("(no location)", 1)]
    assert data["totals"]["individuals"] == 6 and data["totals"]["households"] == 3
    assert data["svg"].startswith("<svg") and data["columns"][0] == {"key": "location", "label": "Location"}


def test_graphql_amounts_are_decimal_strings(world, gql):
    data = report(gql, world.admin, "payments_by_cycle")["data"]["programmeReport"]
    assert data["rows"][0]["amount"] == "220.00" and data["totals"]["amount"] == "250.00"


def test_graphql_district_user_and_location_filter(world, gql, district_user):
    data = report(gql, district_user, "registry_by_location")["data"]["programmeReport"]
    assert [r["location"] for r in data["rows"]] == ["RPD1 District one", "(no location)"]
    refused = report(gql, district_user, "registry_by_location", f', locationUuid: "{world.d2.uuid}"')
    assert refused["data"]["programmeReport"] is None and "unauthorized" in refused["errors"][0]["message"]


def test_graphql_denials(world, gql, make_user):
    clerk = make_user("rp-clerk", rights=[159001], districts=["RPD1"])
    denied = report(gql, clerk, "payments_by_cycle")
    assert denied["data"]["programmeReport"] is None and denied["errors"][0]["message"] == "unauthorized"
    anonymous = report(gql, None, "registry_by_location")
    assert anonymous["data"]["programmeReport"] is None and anonymous["errors"]
    unknown = report(gql, world.admin, "nope")
    assert "Unknown report: nope" in unknown["errors"][0]["message"]
    listed = gql(clerk).query("{ programmeReports { name app filters } }")["data"]["programmeReports"]
    assert {r["name"] for r in listed} == {"registry_by_location", "registry_new_per_month"}
    assert gql(None).query("{ programmeReports { name } }")["data"]["programmeReports"] is None


def test_statements_are_constant(world, gql, admin_user):
    from tests.individual.factories import GroupFactory, IndividualFactory
    from tests.payment_cycle.factories import EntitlementFactory

    names = ["registry_by_location", "registry_new_per_month", "enrolment_by_status", "enrolment_changes_per_month",
             "payments_by_cycle", "payments_by_status", "grievances_open", "grievance_resolution",
             "notifications_by_type"]
    client = gql(admin_user)
    client.query(QUERY % (names[0], "", ""))  # rights and locations cached once, as every request after the first
    before = {n: request_cost(lambda n=n: client.query(QUERY % (n, "", ""))) for n in names}
    for _ in range(5):
        GroupFactory(location=world.v2)
        IndividualFactory(location=world.v1)
        EntitlementFactory()
    after = {n: request_cost(lambda n=n: client.query(QUERY % (n, "", ""))) for n in names}
    assert before == after


# --- REST files -----------------------------------------------------------------------------------------------
def _get(user, path, gql):
    token = gql(user).token
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_csv_download(world, gql, district_user):
    response = _get(district_user, "/api/reports/registry_by_location/?format=csv&level=D", gql)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines == [["Location", "Households", "Individuals", "Aged 0-17", "Aged 18-59", "Aged 60+"],
                     ["RPD1 District one", "1", "3", "1", "1", "1"], ["(no location)", "1", "1", "0", "1", "0"]]


def test_pdf_and_json_downloads(world, gql, district_user):
    pdf = _get(world.admin, "/api/reports/payments_by_cycle/?format=pdf", gql)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    every = _get(district_user, "/api/reports/all/?format=pdf", gql)
    assert every.status_code == 200 and every.content.startswith(b"%PDF")
    data = _get(district_user, "/api/reports/enrolment_by_status/?format=json", gql).json()
    assert [(r["benefit_plan"], r["total"]) for r in data["reports"][0]["rows"]] == [("GP Household", 1),
                                                                                     ("P Cash", 2)]


def test_rest_denials(world, gql, make_user, district_user):
    clerk = make_user("rp-clerk2", rights=[159001])
    assert _get(clerk, "/api/reports/payments_by_cycle/?format=csv", gql).status_code == 403
    assert Client().get("/api/reports/payments_by_cycle/?format=csv").status_code in (401, 403)
    assert _get(district_user, f"/api/reports/registry_by_location/?location={world.d2.uuid}",
                gql).status_code == 403
    assert _get(world.admin, "/api/reports/registry_by_location/?format=xls", gql).status_code == 400
    assert _get(world.admin, "/api/reports/registry_by_location/?level=Z", gql).status_code == 400
    assert _get(world.admin, "/api/reports/registry_by_location/?dateFrom=yesterday", gql).status_code == 400
    assert _get(make_user("rp-none", rights=[]), "/api/reports/all/?format=pdf", gql).status_code == 403


# --- charts ---------------------------------------------------------------------------------------------------
def test_svg_chart_is_well_formed_and_escaped(world):
    svg = chart_svg(run_report("registry_by_location", world.admin))
    root = ET.fromstring(svg)
    bars = [e for e in root.iter("{http://www.w3.org/2000/svg}rect") if e.find("{http://www.w3.org/2000/svg}title")
            is not None]
    assert len(bars) == 6  # 3 locations × (households, individuals)
    hostile = render("bar", "<script>x</script>", ["<b>&"], [("a<", [1.0])])
    ET.fromstring(hostile)
    assert "<script>" not in hostile and "&lt;b&gt;&amp;" in hostile
    ET.fromstring(render("line", "empty", [], [("a", [])]))


# --- admin dashboard ------------------------------------------------------------------------------------------
def _staff(user):
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_admin_dashboard_shows_the_figures_the_user_may_see(world, district_user):
    page = _staff(district_user).get("/api/admin/reports/programmedashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Registry by location" in html and "RPD1 District one" in html and "<svg" in html
    assert "RPD2 District two</td>" not in html
    assert "RPD2 District two</option>" not in html and "RPD1 District one</option>" in html  # filter choices
    index = _staff(district_user).get("/api/admin/").content.decode()
    assert "/api/admin/reports/programmedashboard/" in index
    csv_file = _staff(district_user).get("/api/admin/reports/programmedashboard/download/"
                                         "?report=registry_by_location&format=csv")
    assert b"RPD2" not in b"".join(csv_file.streaming_content)
    pdf = _staff(district_user).get("/api/admin/reports/programmedashboard/download/?report=all&format=pdf")
    assert pdf.content.startswith(b"%PDF")


def test_admin_dashboard_denied_without_report_rights(world, make_user):
    client = _staff(make_user("rp-staff-none", rights=[]))
    assert client.get("/api/admin/reports/programmedashboard/").status_code == 403
    assert Client().get("/api/admin/reports/programmedashboard/").status_code == 302  # to the login page


# --- monthly programme report ---------------------------------------------------------------------------------
def test_monthly_report_job_stores_and_serves_it(world, gql, district_user, superuser):
    from reports.tasks import generate_monthly_programme_report

    report_id = generate_monthly_programme_report("2025-03")
    stored = MonthlyProgrammeReport.objects.get(id=report_id)
    assert bytes(stored.pdf).startswith(b"%PDF")
    by_name = {r["name"]: r for r in stored.payload["reports"]}
    # the period reports use the month: cycle C1 started in March 2025, nobody registered then
    assert by_name["payments_by_cycle"]["totals"]["entitlements"] == 4
    assert by_name["registry_new_per_month"]["rows"] == []
    assert by_name["registry_by_location"]["totals"]["individuals"] == 6  # stock: as on the day
    again = generate_monthly_programme_report("2025-03")
    assert again == report_id and MonthlyProgrammeReport.objects.count() == 1
    assert _get(world.admin, "/api/reports/monthly/2025-03/", gql).content.startswith(b"%PDF")
    assert _get(world.admin, "/api/reports/monthly/2025-04/", gql).status_code == 404
    assert _get(district_user, "/api/reports/monthly/2025-03/", gql).status_code == 403


def test_monthly_job_is_declared_for_celery_beat():
    from core.scheduling import module_jobs

    entry = module_jobs()["reports_monthly_programme_report"]
    assert entry["task"] == "reports.tasks.generate_monthly_programme_report"


def test_refresh_command_without_postgresql_says_so(capsys):
    from django.core.management import call_command
    from django.db import connection

    call_command("refresh_report_summaries")
    out = capsys.readouterr().out
    if connection.vendor != "postgresql":
        assert "PostgreSQL only" in out
    else:
        assert "reports_sum_payments" in out


def test_summarised_writes_queue_one_refresh_with_a_broker(settings, monkeypatch):
    from reports import signals, summaries

    queued = []
    monkeypatch.setattr(summaries, "refresh_soon", lambda: queued.append(1))
    settings.CELERY_BROKER_URL = ""
    signals.on_summarised_write()
    assert queued == []  # no broker: the scheduled job refreshes, a request never waits
    settings.CELERY_BROKER_URL = "redis://example:6379/0"
    signals.on_summarised_write()
    signals.on_summarised_write()
    assert queued == [1]  # debounced


@pytest.mark.django_db
def test_a_bulk_write_into_a_summarised_table_queues_a_refresh(settings, monkeypatch, admin_user):
    import datetime

    from core import bulk
    from individual.models import Individual
    from reports import summaries
    from tests.core.test_app.models import Widget

    queued = []
    monkeypatch.setattr(summaries, "refresh_soon", lambda: queued.append(1))
    settings.CELERY_BROKER_URL = "redis://example:6379/0"
    bulk.insert_rows(Widget, [{"name": "not summarised"}], user=admin_user)
    assert queued == []
    bulk.insert_rows(Individual, [{"first_name": "A", "last_name": "B", "dob": datetime.date(1990, 1, 1)}],
                     user=admin_user)
    assert queued == [1]
