from django.db import migrations
from django.utils import timezone

from core.migration_utils import IMIS_ADMIN, grant_rights

CORE_RIGHTS = [121701, 121702, 121703, 121704, 122001, 122002, 122003, 122004, 122005, 122006, 900101]


def seed(apps, schema_editor):
    Language = apps.get_model("core", "Language")
    Role = apps.get_model("core", "Role")
    Language.objects.get_or_create(code="en", defaults={"name": "English", "sort_order": 1})
    Language.objects.get_or_create(code="fr", defaults={"name": "Français", "sort_order": 2})
    if not Role.objects.filter(is_system=IMIS_ADMIN, validity_to__isnull=True).exists():
        Role.objects.create(name="IMIS Administrator", alt_language="Administrateur IMIS", is_system=IMIS_ADMIN,
                            is_blocked=False, validity_from=timezone.now())


forward_rights, backward_rights = grant_rights(IMIS_ADMIN, CORE_RIGHTS)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(forward_rights, backward_rights),
    ]
