from django.db import migrations

from core.migration_utils import IMIS_ADMIN, grant_rights

# payment cycles 200001-200005, payment plans 157101-157104, calculation rules (core's query) 153001
ADMIN_RIGHTS = [200001, 200002, 200003, 200004, 200005, 157101, 157102, 157103, 157104, 153001]

forward, backward = grant_rights(IMIS_ADMIN, ADMIN_RIGHTS)


def counter_row(apps, schema_editor):
    apps.get_model("payment_cycle", "EntitlementCodeCounter").objects.get_or_create(id=1, defaults={"value": 0})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_seed_languages_admin_role"),
        ("payment_cycle", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.RunPython(counter_row, migrations.RunPython.noop),
    ]
