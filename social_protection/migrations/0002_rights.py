from django.db import migrations

from core.migration_utils import IMIS_ADMIN, grant_rights

SCHEMA_ADMIN = 4194304  # "Schema Admin" system role (created by whichever module defines it)
ADMIN_RIGHTS = [160001, 160002, 160003, 160004, 160005, 170001, 170002, 170003, 170004,
                171001, 171002, 171003, 171004]
SCHEMA_RIGHTS = [171001, 171002, 171003, 171004]

admin_forward, admin_backward = grant_rights(IMIS_ADMIN, ADMIN_RIGHTS)
schema_forward, schema_backward = grant_rights(SCHEMA_ADMIN, SCHEMA_RIGHTS)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_seed_languages_admin_role"),
        ("social_protection", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(admin_forward, admin_backward),
        migrations.RunPython(schema_forward, schema_backward),
    ]
