"""Every model registered in Django admin renders its list, add, change and history pages for a superuser; an IMIS
administrator who is not a superuser reaches every programme page and none of the system ones."""
import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.fixture
def admin_client(superuser):
    client = Client()
    client.force_login(superuser)
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
    if obj is not None and _has_url(f"admin:{opts.app_label}_{opts.model_name}_change", obj.pk):
        change = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
        history = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]))
        return change.status_code == 200 and history.status_code == 200
    return True


def test_imis_administrator_reaches_programme_pages_only(admin_user, demo_data):
    from core.admin_site import SYSTEM, model_area

    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(admin_user)
    refused, missing = [], []
    for model in MODELS:
        opts = model._meta
        status = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code
        if model_area(model, admin.site._registry[model]) == SYSTEM:
            if status != 403:
                refused.append(opts.label)
        elif status != 200:
            missing.append(opts.label)
    assert not refused, f"system pages open to a non-superuser: {refused}"
    assert not missing, f"programme pages closed to an IMIS administrator: {missing}"


def _has_url(name, pk):
    try:
        reverse(name, args=[pk])
    except NoReverseMatch:
        return False  # an admin page that is not a list of records (e.g. a dashboard)
    return True


def test_admin_requires_login():
    response = Client().get(reverse("admin:core_role_changelist"))
    assert response.status_code == 302
