from django.db import migrations

from core.migration_utils import IMIS_ADMIN, grant_rights

RIGHTS = [159001, 159002, 159003, 159004, 180001, 180002, 180003, 180004]
forward_rights, backward_rights = grant_rights(IMIS_ADMIN, RIGHTS)

# Trigram indexes back the icontains/istartswith filters of the frontend (names, group code) on PostgreSQL.
# Django renders those lookups as UPPER(col::text) LIKE UPPER(...), so the index is on UPPER(col).
PG_INDEXES = [
    ("ind_individual_fn_trgm", "individual_individual", "first_name"),
    ("ind_individual_ln_trgm", "individual_individual", "last_name"),
    ("ind_group_code_trgm", "individual_group", "code"),
]


def create_pg_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        try:
            cursor.execute("SAVEPOINT ind_trgm")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute("RELEASE SAVEPOINT ind_trgm")
        except Exception:  # no right to create the extension: keep the btree indexes only
            cursor.execute("ROLLBACK TO SAVEPOINT ind_trgm")
            return
        for name, table, column in PG_INDEXES:
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )


def drop_pg_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name, _table, _column in PG_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_seed_languages_admin_role"),
        ("individual", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward_rights, backward_rights),
        migrations.RunPython(create_pg_indexes, drop_pg_indexes),
    ]
