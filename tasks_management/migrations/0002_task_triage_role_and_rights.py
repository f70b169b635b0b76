"""Rights of tasks_management: the Task Triage system role and the IMIS Administrator grants (spec §3.1)."""
from django.db import migrations
from django.utils import timezone

from core.migration_utils import IMIS_ADMIN, grant_rights

TASK_TRIAGE = 2097152
TRIAGE_RIGHTS = [190001, 190002, 190003, 190004, 191001, 191002, 191003, 191004, 191005, 121701]
ADMIN_RIGHTS = [190001, 190002, 190003, 190004, 191001, 191002, 191003, 191004, 191005]

grant_admin, revoke_admin = grant_rights(IMIS_ADMIN, ADMIN_RIGHTS)
grant_triage, revoke_triage = grant_rights(TASK_TRIAGE, TRIAGE_RIGHTS)


def create_triage_role(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    if not Role.objects.filter(is_system=TASK_TRIAGE, validity_to__isnull=True).exists():
        Role.objects.create(name="Task Triage", alt_language="Triage des tâches", is_system=TASK_TRIAGE,
                            validity_from=timezone.now())


def remove_triage_role(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    Role.objects.filter(is_system=TASK_TRIAGE, user_roles__isnull=True).delete()


def forward(apps, schema_editor):
    create_triage_role(apps, schema_editor)
    grant_triage(apps, schema_editor)
    grant_admin(apps, schema_editor)


def backward(apps, schema_editor):
    revoke_admin(apps, schema_editor)
    revoke_triage(apps, schema_editor)
    remove_triage_role(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_seed_languages_admin_role"),
        ("tasks_management", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
