"""Rights cached per process (issue 10, item 19): on 3 gunicorn workers with the embedded default (no Redis, a
per-process cache) a role change made in one worker was not seen by the others: the rights were cached with no
timeout and the invalidation counter lived in the per-process cache.

Now, with a per-process cache the invalidation goes through the database (``CACHE_INVALIDATION=database``, the
default when no CACHE_URL is set): every worker reads the current generation once per request. Configuring a
per-process cache with per-process invalidation is refused by a system check when DEBUG is off.

Proved with two real processes: each a worker (its own memory, its own LocMem cache) serving HTTP requests against
the same database.
"""
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.test import override_settings
from graphql_jwt.shortcuts import get_token

from core.test_helpers import GRAPHQL_URL, create_role, create_test_interactive_user

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("rights_worker.py")
ROLES_RIGHT, OTHER_RIGHT = 122001, 121701
ROLES_QUERY = "{ role(first: 5) { totalCount } }"


class Worker:
    def __init__(self, database_url, invalidation):
        env = {**os.environ, "DATABASE_URL": database_url, "CACHE_INVALIDATION": invalidation, "MODE": "DEV",
               "DJANGO_SETTINGS_MODULE": "openimis_be.test_settings", "ENV_FILE": "/nonexistent"}
        env.pop("CACHE_URL", None)
        self.process = subprocess.Popen([sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env)
        ready = json.loads(self.process.stdout.readline())
        assert ready["ready"] != os.getpid()

    def send(self, method, path, body=None, token=None):
        self.process.stdin.write(json.dumps({"method": method, "path": path, "body": body, "token": token}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def rights(self, token):
        answer = self.send("GET", "/api/core/users/current_user/", token=token)
        assert answer["status"] == 200, answer
        return answer["body"]["i_user"]["rights"]

    def can_list_roles(self, token):
        answer = self.send("POST", GRAPHQL_URL, {"query": ROLES_QUERY}, token=token)
        return "errors" not in answer["body"] and answer["body"]["data"]["role"] is not None

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def shared_database_url(tmp_path):
    """The database both workers use: the test database itself on PostgreSQL, a file copy of the (in-memory)
    test database on SQLite."""
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        user, password = settings_dict.get("USER") or "postgres", settings_dict.get("PASSWORD") or ""
        auth = f"{user}:{password}@" if password else f"{user}@"
        return f"postgres://{auth}{settings_dict.get('HOST') or '127.0.0.1'}:{settings_dict.get('PORT') or 5432}/" \
               f"{settings_dict['NAME']}"

    def copy():
        target = tmp_path / f"shared-{uuid.uuid4().hex[:6]}.sqlite3"
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        connection.connection.backup(destination)
        destination.close()
        return f"sqlite:///{target}"

    return copy


def _remove_right(worker, admin_token, role):
    mutation = ('mutation { updateRole(input: {clientMutationId: "%s", uuid: "%s", name: "%s", rightsId: [%d]}) '
                '{ internalId } }' % (uuid.uuid4(), role.uuid, role.name, OTHER_RIGHT))
    answer = worker.send("POST", GRAPHQL_URL, {"query": mutation}, token=admin_token)
    assert answer["status"] == 200 and "errors" not in answer["body"], answer


def _scenario(shared_database_url, invalidation):
    admin = create_test_interactive_user("Admin")
    role = create_role("Clerks", [ROLES_RIGHT, OTHER_RIGHT])
    clerk = create_test_interactive_user("clerk", roles=[role])
    admin_token, clerk_token = get_token(admin), get_token(clerk)
    url = shared_database_url() if callable(shared_database_url) else shared_database_url
    one, two = Worker(url, invalidation), Worker(url, invalidation)
    try:
        # the clerk's rights are read, and cached, by worker two
        assert ROLES_RIGHT in two.rights(clerk_token) and two.can_list_roles(clerk_token)
        # worker one takes the roles right away from the clerk's role
        _remove_right(one, admin_token, role)
        assert ROLES_RIGHT not in one.rights(clerk_token)
        return two.rights(clerk_token), two.can_list_roles(clerk_token)
    finally:
        one.close()
        two.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_role_change_made_in_one_worker_is_seen_by_the_other(shared_database_url):
    rights, can_list = _scenario(shared_database_url, "database")
    assert ROLES_RIGHT not in rights, "the other worker still serves the removed right from its cache"
    assert not can_list


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_per_process_invalidation_is_stale_in_the_other_worker(shared_database_url):
    """The configuration the system check refuses in production: shown stale, as the probe saw it."""
    rights, can_list = _scenario(shared_database_url, "cache")
    assert ROLES_RIGHT in rights and can_list


PER_PROCESS = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "x"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://r:6379/1"}}


def _errors(**overrides):
    with override_settings(**overrides):
        return [m.id for m in run_checks() if m.id.startswith("core.") and m.is_serious()]


def test_production_refuses_a_per_process_cache_with_per_process_invalidation():
    assert "core.E002" in _errors(DEBUG=False, CACHES=PER_PROCESS, CACHE_INVALIDATION="cache")
    assert "core.E002" not in _errors(DEBUG=False, CACHES=PER_PROCESS, CACHE_INVALIDATION="database")
    assert "core.E002" not in _errors(DEBUG=False, CACHES=REDIS, CACHE_INVALIDATION="cache")
    assert "core.E002" not in _errors(DEBUG=True, CACHES=PER_PROCESS, CACHE_INVALIDATION="cache")


def test_without_a_shared_cache_the_default_invalidates_through_the_database():
    code = "from django.conf import settings; print(settings.CACHE_INVALIDATION)"

    def read(**env):
        environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "openimis_be.settings", "MODE": "PROD",
                       "SECRET_KEY": "x" * 50, "ENV_FILE": "/nonexistent", **env}
        environment.pop("CACHE_URL", None) if "CACHE_URL" not in env else None
        environment.pop("CACHE_INVALIDATION", None)
        out = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
                             env=environment, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert read() == "database"
    assert read(CACHE_URL="redis://redis:6379/2") == "cache"
