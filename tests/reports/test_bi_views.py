"""The read-only BI views (PostgreSQL): the same figures as the reports, every location, finest grain."""
from decimal import Decimal

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]


def fetch(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_registry_views(world):
    assert fetch("""SELECT p.district, sum(v.individuals) FROM reports_registry_individuals v
                    LEFT JOIN reports_location_path p ON p.location_id = v.location_id
                    WHERE v.location_id IS NULL OR p.region = 'Region' GROUP BY 1 ORDER BY 1""") == [
        ("District one", 3), ("District two", 2), (None, 1)]
    assert fetch("""SELECT age_band, sum(individuals) FROM reports_registry_individuals v
                    JOIN reports_location_path p USING (location_id) WHERE p.district = 'District one'
                    GROUP BY 1 ORDER BY 1""") == [("0-17", 1), ("18-59", 1), ("60+", 1)]
    assert fetch("SELECT sum(households) FROM reports_registry_households")[0][0] >= 3


def test_enrolment_views(world):
    assert fetch("""SELECT benefit_plan_code, p.district, status, enrolments FROM reports_enrolment_by_status v
                    JOIN reports_location_path p USING (location_id) WHERE p.region = 'Region'
                    ORDER BY 1, 2, 3""") == [
        ("GP", "District one", "ACTIVE", 1), ("GP", "District two", "SUSPENDED", 1),
        ("P", "District one", "GRADUATED", 1), ("P", "District one", "POTENTIAL", 1),
        ("P", "District two", "SUSPENDED", 1)]
    assert fetch("""SELECT status, sum(changes) FROM reports_enrolment_changes v
                    WHERE benefit_plan_id = %s GROUP BY 1 ORDER BY 1""", [world.plan.id]) == [
        ("GRADUATED", 1), ("SUSPENDED", 2)]


def test_payment_view(world):
    assert fetch("""SELECT payment_plan_code, sum(entitlements), sum(amount), sum(paid_amount), sum(reconciled),
                           sum(failures) FROM reports_payments WHERE payment_cycle_code = 'C1'
                    GROUP BY 1 ORDER BY 1""") == [
        ("PP", 3, Decimal("220.00"), Decimal("100.00"), 1, 1), ("PP2", 1, Decimal("30.00"), None, 0, 0)]
    assert fetch("""SELECT p.district, sum(entitlements) FROM reports_payments v JOIN reports_location_path p
                    USING (location_id) GROUP BY 1 ORDER BY 1""") == [("District one", 2), ("District two", 2)]


def test_grievance_and_notification_views(world):
    assert fetch("""SELECT p.district, COALESCE(sum(tickets) FILTER (WHERE is_open), 0)::int,
                           COALESCE(sum(tickets) FILTER (WHERE overdue), 0)::int
                    FROM reports_grievances v LEFT JOIN reports_location_path p USING (location_id)
                    GROUP BY 1 ORDER BY 1""") == [("District one", 1, 1), ("District two", 1, 0), (None, 0, 0)]
    assert fetch("""SELECT notification_type, outcome, sum(messages) FROM reports_notifications
                    GROUP BY 1, 2 ORDER BY 1, 2""") == [
        ("activation_of_policy", "NOT_SENT", 1), ("activation_of_policy", "PENDING", 1),
        ("activation_of_policy", "SENT", 1), ("starting_of_policy", "FAILED", 1)]
