from django.db import migrations

from core.migration_utils import IMIS_ADMIN, grant_rights

MONTHLY_REPORT_RIGHT = 210001  # the stored monthly programme reports

admin_forward, admin_backward = grant_rights(IMIS_ADMIN, [MONTHLY_REPORT_RIGHT])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_seed_languages_admin_role"),
        ("reports", "0001_initial"),
    ]

    operations = [migrations.RunPython(admin_forward, admin_backward)]
