import io

import pytest
from django.core.management import call_command

from core.models import Location, User

pytestmark = pytest.mark.django_db


def test_create_admin_is_idempotent():
    out = io.StringIO()
    call_command("create_admin", stdout=out)
    assert "password=" in out.getvalue()
    admin = User.objects.get(username="Admin")
    assert admin.is_imis_admin and admin.is_staff
    out = io.StringIO()
    call_command("create_admin", stdout=out)
    assert "already exists" in out.getvalue() and User.objects.filter(username="Admin").count() == 1
    call_command("create_admin", "--password", "Given-Pass-123", stdout=io.StringIO())
    assert User.objects.get(username="Admin").check_password("Given-Pass-123")


def test_seed_locations_is_idempotent():
    call_command("seed_locations", stdout=io.StringIO())
    count = Location.objects.count()
    call_command("seed_locations", stdout=io.StringIO())
    assert Location.objects.count() == count == 2 + 4 + 8 + 24
    village = Location.objects.filter(type="V").select_related("parent__parent__parent").first()
    assert village.parent.parent.parent.type == "R"


def test_demo_prints_credentials_once():
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "Admin / " in out.getvalue()
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "Admin / " not in out.getvalue()


def test_beat_schedule_from_upstream_jobs():
    from core.scheduling import beat_schedule_from_jobs

    schedule = beat_schedule_from_jobs([{"method": "a.b.c", "args": ["cron"],
                                         "kwargs": {"id": "job", "hour": 8, "minute": 30, "replace_existing": True}}])
    assert schedule["job"]["task"] == "a.b.c"
    assert schedule["job"]["schedule"].hour == {8} and schedule["job"]["schedule"].minute == {30}


def test_system_checks_flag_insecure_settings(settings):
    from core.checks import security_settings

    settings.DEBUG = False
    settings.SECRET_KEY = "insecure-dev-only"
    settings.GRAPHQL_INTROSPECTION = True
    ids = {m.id for m in security_settings(None)}
    assert {"core.E001", "core.W001"} <= ids


def test_demo_rerun_adds_nothing_in_any_module():
    from django.apps import apps

    call_command("demo", stdout=io.StringIO())
    counts = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
    call_command("demo", stdout=io.StringIO())
    after = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
    changed = {label: (counts[label], after[label]) for label in counts if counts[label] != after[label]}
    assert not changed, changed
