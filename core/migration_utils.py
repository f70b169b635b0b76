"""Helpers for modules' data migrations granting their rights to system roles."""
from django.utils import timezone

IMIS_ADMIN = 64


def _system_role(apps, system_role):
    Role = apps.get_model("core", "Role")
    return Role.objects.filter(is_system=system_role, validity_to__isnull=True).first()


def insert_role_right_for_system(system_role, right_id, apps):
    role = _system_role(apps, system_role)
    if role is None:
        return None
    RoleRight = apps.get_model("core", "RoleRight")
    existing = RoleRight.objects.filter(role=role, right_id=int(right_id), validity_to__isnull=True).first()
    return existing or RoleRight.objects.create(role=role, right_id=int(right_id), validity_from=timezone.now())


def remove_role_right_for_system(system_role, right_id, apps):
    role = _system_role(apps, system_role)
    if role is None:
        return
    RoleRight = apps.get_model("core", "RoleRight")
    RoleRight.objects.filter(role=role, right_id=int(right_id)).delete()


def grant_rights(system_role, rights):
    """RunPython pair granting ``rights`` to the system role (and taking them back on reverse)."""

    def forward(apps, schema_editor):
        for right in rights:
            insert_role_right_for_system(system_role, right, apps)

    def backward(apps, schema_editor):
        for right in rights:
            remove_role_right_for_system(system_role, right, apps)

    return forward, backward
