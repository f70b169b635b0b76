from django.db import migrations

from core.migration_utils import IMIS_ADMIN, grant_rights

# 127000-127006 (upstream forgot 127006 for the administrator: spec §2.1 our rule)
forward, backward = grant_rights(IMIS_ADMIN, [127000, 127001, 127002, 127003, 127004, 127005, 127006])


class Migration(migrations.Migration):
    dependencies = [
        ("grievance_social_protection", "0001_initial"),
        ("core", "0002_seed_languages_admin_role"),
    ]

    operations = [migrations.RunPython(forward, backward)]
