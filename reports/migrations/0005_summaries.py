"""The summary tables of the large reports (PostgreSQL materialized views over the BI views of 0003, see
reports/summaries.py), created with their data; the scheduled job keeps them fresh."""
from django.db import migrations


def create(apps, schema_editor):
    from reports.summaries import create_statements, installed

    if schema_editor.connection.vendor != "postgresql":
        return
    for name in installed():
        for statement in create_statements(name):
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    from reports.summaries import SUMMARIES

    if schema_editor.connection.vendor != "postgresql":
        return
    for name in SUMMARIES:
        schema_editor.execute(f"DROP MATERIALIZED VIEW IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_bi_views"), ("reports", "0004_summary_refresh")]
    operations = [migrations.RunPython(create, drop)]
