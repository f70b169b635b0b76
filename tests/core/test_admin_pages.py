"""Every model registered in Django admin renders its list, add, change and history pages for an admin."""
import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def demo_data(admin_user):
    import io

    call_command("demo", stdout=io.StringIO())


def test_admin_pages_render(admin_client, demo_data):
    failures = [model._meta.label for model in MODELS if not _pages_render(admin_client, model)]
    assert not failures, failures


def _pages_render(admin_client, model):
    opts = model._meta
    changelist = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    if changelist.status_code != 200:
        return False
    model_admin = admin.site._registry[model]
    if model_admin.has_add_permission(changelist.wsgi_request):
        if admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code != 200:
            return False
    obj = model._default_manager.order_by("pk").first()
    if obj is not None:
        change = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        history = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]))
        return change.status_code == 200 and history.status_code == 200
    return True


def test_admin_requires_login():
    response = Client().get(reverse("admin:core_role_changelist"))
    assert response.status_code == 302
