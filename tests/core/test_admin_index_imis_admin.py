"""The demo/created administrator (IMIS Administrator role, staff, not superuser) sees every app on the
admin index: ``has_module_perms`` agrees with ``has_perm`` (regression: the index said "You don't have
permission to view or edit anything" while every changelist opened)."""
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_admin_index_lists_apps_for_imis_admin(admin_user):
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    assert not admin_user.is_superuser and admin_user.is_imis_admin
    client = Client()
    client.force_login(admin_user)
    index = client.get("/api/admin/")
    assert index.status_code == 200
    assert b"/api/admin/grievance_social_protection/" in index.content
    assert b"/api/admin/social_protection/" in index.content
    assert client.get("/api/admin/grievance_social_protection/").status_code == 200


def test_admin_index_empty_for_staff_without_rights(make_user):
    user = make_user("plainstaff")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    assert not user.has_module_perms("grievance_social_protection")
