"""Read-only views for BI tools (Superset, Metabase, OpenSearch Dashboards' SQL plugin…), PostgreSQL only.

Each view is a report's figures at the finest grain (location id, month, status…), live rows only, every
location: row security is the BI tool's own access control (README, "BI views"). ``reports_location_path``
gives every location its region, district, ward and village for grouping. Nothing is copied: the views read the
live tables. A module that is not installed has no view."""
from django.db import migrations

LOCATION_PATH = """
CREATE OR REPLACE VIEW reports_location_path AS
SELECT l.id AS location_id, l.type AS location_type, l.code AS location_code, l.name AS location_name,
       COALESCE(CASE WHEN l.type = 'R' THEN l.id END, CASE WHEN p1.type = 'R' THEN p1.id END,
                CASE WHEN p2.type = 'R' THEN p2.id END, CASE WHEN p3.type = 'R' THEN p3.id END) AS region_id,
       COALESCE(CASE WHEN l.type = 'R' THEN l.name END, CASE WHEN p1.type = 'R' THEN p1.name END,
                CASE WHEN p2.type = 'R' THEN p2.name END, CASE WHEN p3.type = 'R' THEN p3.name END) AS region,
       COALESCE(CASE WHEN l.type = 'D' THEN l.id END, CASE WHEN p1.type = 'D' THEN p1.id END,
                CASE WHEN p2.type = 'D' THEN p2.id END) AS district_id,
       COALESCE(CASE WHEN l.type = 'D' THEN l.name END, CASE WHEN p1.type = 'D' THEN p1.name END,
                CASE WHEN p2.type = 'D' THEN p2.name END) AS district,
       COALESCE(CASE WHEN l.type = 'W' THEN l.id END, CASE WHEN p1.type = 'W' THEN p1.id END) AS ward_id,
       COALESCE(CASE WHEN l.type = 'W' THEN l.name END, CASE WHEN p1.type = 'W' THEN p1.name END) AS ward,
       CASE WHEN l.type = 'V' THEN l.id END AS village_id,
       CASE WHEN l.type = 'V' THEN l.name END AS village
FROM core_location l
LEFT JOIN core_location p1 ON p1.id = l.parent_id
LEFT JOIN core_location p2 ON p2.id = p1.parent_id
LEFT JOIN core_location p3 ON p3.id = p2.parent_id
WHERE l.validity_to IS NULL
"""

VIEWS = {
    "individual": ["""
CREATE OR REPLACE VIEW reports_registry_individuals AS
SELECT i.location_id, date_trunc('month', i."DateCreated")::date AS registered_month,
       CASE WHEN age(current_date, i.dob) < interval '18 years' THEN '0-17'
            WHEN age(current_date, i.dob) < interval '60 years' THEN '18-59' ELSE '60+' END AS age_band,
       count(*) AS individuals
FROM individual_individual i WHERE NOT i."isDeleted"
GROUP BY 1, 2, 3
""", """
CREATE OR REPLACE VIEW reports_registry_households AS
SELECT g.location_id, date_trunc('month', g."DateCreated")::date AS registered_month, count(*) AS households
FROM individual_group g WHERE NOT g."isDeleted"
GROUP BY 1, 2
"""],
    "social_protection": ["""
CREATE OR REPLACE VIEW reports_enrolment_by_status AS
SELECT e.benefit_plan_id, bp.code AS benefit_plan_code, bp.name AS benefit_plan_name, e.location_id, e.status,
       count(*) AS enrolments
FROM (SELECT b.benefit_plan_id, i.location_id, b.status FROM social_protection_beneficiary b
        JOIN individual_individual i ON i."UUID" = b.individual_id WHERE NOT b."isDeleted"
      UNION ALL
      SELECT gb.benefit_plan_id, g.location_id, gb.status FROM social_protection_groupbeneficiary gb
        JOIN individual_group g ON g."UUID" = gb.group_id WHERE NOT gb."isDeleted") e
JOIN social_protection_benefitplan bp ON bp."UUID" = e.benefit_plan_id
GROUP BY 1, 2, 3, 4, 5
""", """
CREATE OR REPLACE VIEW reports_enrolment_changes AS
SELECT date_trunc('month', h.history_date)::date AS month, h.benefit_plan_id, h.location_id, h.status,
       count(*) AS changes
FROM (SELECT hb.history_date, hb.benefit_plan_id, i.location_id, hb.status,
             lag(hb.status) OVER (PARTITION BY hb."UUID" ORDER BY hb.history_date) AS previous
        FROM social_protection_historicalbeneficiary hb JOIN individual_individual i ON i."UUID" = hb.individual_id
      UNION ALL
      SELECT hg.history_date, hg.benefit_plan_id, g.location_id, hg.status,
             lag(hg.status) OVER (PARTITION BY hg."UUID" ORDER BY hg.history_date) AS previous
        FROM social_protection_historicalgroupbeneficiary hg JOIN individual_group g ON g."UUID" = hg.group_id) h
WHERE h.status IN ('GRADUATED', 'SUSPENDED') AND h.previous IS NOT NULL AND h.previous <> h.status
GROUP BY 1, 2, 3, 4
"""],
    "payment_cycle": ["""
CREATE OR REPLACE VIEW reports_payments AS
SELECT c."UUID" AS payment_cycle_id, c.code AS payment_cycle_code, c.start_date AS cycle_start,
       p."UUID" AS payment_plan_id, p.code AS payment_plan_code, e.benefit_plan_id,
       CASE WHEN e.group_id IS NOT NULL THEN g.location_id ELSE i.location_id END AS location_id, e.status,
       count(*) AS entitlements, sum(e.amount) AS amount, sum(e.paid_amount) AS paid_amount,
       count(e.paid_amount) AS reconciled,
       count(*) FILTER (WHERE e.status <> 'PAID' AND COALESCE(e.failure_reason, '') <> '') AS failures
FROM payment_cycle_entitlement e
JOIN payment_cycle_paymentcycle c ON c."UUID" = e.payment_cycle_id
JOIN payment_cycle_paymentplan p ON p."UUID" = e.payment_plan_id
LEFT JOIN individual_group g ON g."UUID" = e.group_id
LEFT JOIN individual_individual i ON i."UUID" = e.individual_id
WHERE NOT e."isDeleted"
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""],
    "grievance_social_protection": ["""
CREATE OR REPLACE VIEW reports_grievances AS
SELECT COALESCE(t.category, '-') AS category, COALESCE(t.channel, '-') AS channel,
       COALESCE(t.priority, '-') AS priority, t.status, t.status NOT IN ('RESOLVED', 'CLOSED') AS is_open,
       t.status NOT IN ('RESOLVED', 'CLOSED') AND t.due_date < current_date AS overdue,
       date_trunc('month', t."DateCreated")::date AS created_month,
       COALESCE(ri.location_id, rbi.location_id) AS location_id, count(*) AS tickets
FROM grievance_social_protection_ticket t
LEFT JOIN django_content_type ct ON ct.id = t.reporter_type_id
LEFT JOIN individual_individual ri ON ct.app_label = 'individual' AND ct.model = 'individual'
     AND t.reporter_id ~* '^[0-9a-f-]{36}$' AND ri."UUID" = t.reporter_id::uuid
LEFT JOIN social_protection_beneficiary rb ON ct.app_label = 'social_protection' AND ct.model = 'beneficiary'
     AND t.reporter_id ~* '^[0-9a-f-]{36}$' AND rb."UUID" = t.reporter_id::uuid
LEFT JOIN individual_individual rbi ON rbi."UUID" = rb.individual_id
WHERE NOT t."isDeleted"
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""],
    "policy_notification": ["""
CREATE OR REPLACE VIEW reports_notifications AS
SELECT n.notification_type,
       CASE n.status WHEN 0 THEN 'PENDING' WHEN 1 THEN 'SENT' WHEN 4 THEN 'FAILED' ELSE 'NOT_SENT' END AS outcome,
       n.status, date_trunc('month', n."DateCreated")::date AS created_month, g.location_id, count(*) AS messages
FROM policy_notification_notificationindication n
LEFT JOIN individual_group g ON g."UUID" = n.group_id
WHERE NOT n."isDeleted"
GROUP BY 1, 2, 3, 4, 5
"""],
}
VIEW_NAMES = ["reports_notifications", "reports_grievances", "reports_payments", "reports_enrolment_changes",
              "reports_enrolment_by_status", "reports_registry_households", "reports_registry_individuals",
              "reports_location_path"]


def create_views(apps, schema_editor):
    from django.conf import settings

    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(LOCATION_PATH)
    for module, statements in VIEWS.items():
        if module in settings.OPENIMIS_MODULES and (module != "social_protection" or
                                                    "individual" in settings.OPENIMIS_MODULES):
            for statement in statements:
                schema_editor.execute(statement)


def drop_views(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in VIEW_NAMES:
        schema_editor.execute(f"DROP VIEW IF EXISTS {name}")


# the tables the views read (only the installed modules': a missing module has no view)
TABLES_OF = {"individual": "0002_rights_and_search_indexes", "social_protection": "0002_rights",
             "payment_cycle": "0003_entitlement_enrolment_indexes",
             "grievance_social_protection": "0003_ticket_attachment", "policy_notification": "0003_rights"}


def _dependencies():
    from django.conf import settings

    return [("reports", "0002_rights"), ("contenttypes", "0002_remove_content_type_name"),
            *[(module, name) for module, name in TABLES_OF.items() if module in settings.OPENIMIS_MODULES]]


class Migration(migrations.Migration):
    dependencies = _dependencies()
    operations = [migrations.RunPython(create_views, drop_views)]
