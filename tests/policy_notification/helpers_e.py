"""Helper E's fixtures and data builders: the loopback SMS gateway, gateway settings pointing at it, enrolled
households, and a database a second process can share."""
import datetime
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from tests.policy_notification.sms_server import SMSServer

EGA_KEY = "test-private-key"
ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("dispatch_worker.py")


@pytest.fixture
def sms_server():
    server = SMSServer().start()
    yield server
    server.stop()


@pytest.fixture
def ega_secret(monkeypatch):
    monkeypatch.setenv("POLICY_NOTIFICATION_EGA_PRIVATE_KEY", EGA_KEY)
    return EGA_KEY


def ega_config(server, **overrides):
    config = {"GateUrl": server.url, "SmsResource": "/api/sms/", "UserId": "openimis", "SenderId": "OPENIMIS",
              "ServiceId": "42", "RequestType": "api", "HeaderKeys": "X-Auth-Request-Hash,X-Auth-Request-Id,"
              "X-Auth-Request-Type", "HeaderValues": "HashMessage1,UserId,RequestType", "Timeout": 2,
              "ConnectTimeout": 2, "Retries": 2, "BackoffSeconds": 0.01}
    config.update(overrides)
    return config


@pytest.fixture
def enabled_types():
    """``enabled_types("starting_of_policy", …)`` switches exactly those triggers on for the test."""
    from policy_notification.apps import PolicyNotificationConfig

    saved = PolicyNotificationConfig.eligibleNotificationTypes

    def enable(*names):
        PolicyNotificationConfig.eligibleNotificationTypes = {name: True for name in names}

    yield enable
    PolicyNotificationConfig.eligibleNotificationTypes = saved


@pytest.fixture
def text_folder(tmp_path):
    """The configured providers replaced by the text provider writing to a temporary folder."""
    from policy_notification.apps import PolicyNotificationConfig

    saved = PolicyNotificationConfig.providers
    folder = tmp_path / "sent"
    PolicyNotificationConfig.providers = {"TextNotificationProvider": {"DestinationFolder": str(folder)}}
    yield folder
    PolicyNotificationConfig.providers = saved


def at(day, hour=9):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def household(*, code=None, phone="+255712345678", consent=True, language="en", location=None, head=("Amina", "Juma"),
              members=(), group_phone=None):
    """A household with its head (and ``members``: ``(first, last, phone)``), consent and language."""
    from policy_notification.models import FamilyNotification
    from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory

    group = GroupFactory(code=code or f"HH-{uuid.uuid4().hex[:8]}", location=location)
    head_person = IndividualFactory(first_name=head[0], last_name=head[1], json_ext={"phone": phone} if phone else {})
    GroupIndividualFactory(group=group, individual=head_person, role="HEAD")
    for first, last, member_phone in members:
        GroupIndividualFactory(group=group, role="SON", individual=IndividualFactory(
            first_name=first, last_name=last, json_ext={"phone": member_phone} if member_phone else {}))
    if group_phone:  # after the memberships: their alignment rewrites the group's json_ext
        type(group).objects.filter(pk=group.pk).update(json_ext={**group.__class__.objects.get(pk=group.pk).json_ext,
                                                                 "phone": group_phone})
    row = FamilyNotification.objects.filter(group=group).first()
    if row is None:
        from tests.policy_notification.factories import FamilyNotificationFactory

        FamilyNotificationFactory(group=group, approval_of_notification=consent, language_of_notification=language)
    else:
        FamilyNotification.objects.filter(pk=row.pk).update(approval_of_notification=consent,
                                                            language_of_notification=language)
    return group


def enrol(group, *, start, end=None, status="ACTIVE", plan=None):
    from social_protection.models import BenefitPlan
    from tests.social_protection.factories import BenefitPlanFactory, GroupBeneficiaryFactory

    plan = plan or BenefitPlanFactory(type=BenefitPlan.BenefitPlanType.GROUP_TYPE, name="Cash for families")
    return GroupBeneficiaryFactory(group=group, benefit_plan=plan, status=status, date_valid_from=at(start),
                                   date_valid_to=at(end, 18) if end else None)


def household_enrolled_today(**kwargs):
    group = household(**kwargs)
    return group, enrol(group, start=timezone.localdate(), end=timezone.localdate() + datetime.timedelta(days=365))


def shared_database_url(tmp_path):
    """A database another process can use: the test database itself on PostgreSQL (the test must commit:
    ``transaction=True``), a file copy of the in-memory test database on SQLite (take it after writing)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        user, password = settings_dict.get("USER") or "postgres", settings_dict.get("PASSWORD") or ""
        auth = f"{user}:{password}@" if password else f"{user}@"
        return f"postgres://{auth}{settings_dict.get('HOST') or '127.0.0.1'}:{settings_dict.get('PORT') or 5432}/" \
               f"{settings_dict['NAME']}"
    target = tmp_path / f"shared-{uuid.uuid4().hex[:6]}.sqlite3"
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    connection.connection.backup(destination)
    destination.close()
    return f"sqlite:///{target}"


def worker_process(database_url, *args):
    """``tests/policy_notification/dispatch_worker.py`` in its own process on ``database_url``."""
    env = {**os.environ, "DATABASE_URL": database_url, "MODE": "DEV", "ENV_FILE": "/nonexistent",
           "DJANGO_SETTINGS_MODULE": "openimis_be.test_settings", "POLICY_NOTIFICATION_EGA_PRIVATE_KEY": EGA_KEY}
    env.pop("TEST_DATABASE_NAME", None)
    return subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env)


def worker_answer(database_url, *args, timeout=120):
    process = worker_process(database_url, *args)
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])
