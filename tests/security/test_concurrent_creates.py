"""A small office's load on the embedded default (issue 10, item 11): 20 clients press "save" at the same moment,
for every create mutation of the schema, against a live server (``manage.py runserver``, threaded, the server of
``scripts/run_demo.sh``) on a FILE database (SQLite) or PostgreSQL. Every request must answer success (its mutation
log SUCCESS, read back as the frontend polls it) and generated codes must be unique.

Before the fix, 6-7 of 20 parallel ``createTicket`` on SQLite ended in "database is locked": a deferred transaction
that read first could not take the write lock held by another one (SQLite answers SQLITE_BUSY at once, without
waiting for the busy timeout, to avoid a deadlock).
"""
import base64
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from graphql_jwt.shortcuts import get_token

from core.test_helpers import Enum, build_params, create_test_interactive_user
from openimis_be.schema import schema
from social_protection.models import BenefitPlan
from tests.factories import RoleFactory
from tests.grievance_social_protection.factories import TicketFactory
from tests.payment_cycle.factories import SOCIAL_PROTECTION_RULE
from tests.individual.factories import GroupFactory, GroupIndividualFactory, IndividualFactory
from tests.social_protection.factories import BenefitPlanFactory

PARALLEL = 20
SUCCESS = 2  # core.models.MutationLog.SUCCESS
BASE_DIR = Path(settings.BASE_DIR)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


# ---- the live server ------------------------------------------------------------------------------------------
def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(tmp_dir):
    """The committed test database as a URL the server process can open: PostgreSQL's test database as is; an
    in-memory SQLite test database copied to a file (the embedded default is a file, never ``:memory:``)."""
    cfg = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = urllib.parse.quote(cfg["USER"] or "")
        if cfg.get("PASSWORD"):
            auth += ":" + urllib.parse.quote(cfg["PASSWORD"])
        return f"postgres://{auth}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/{cfg['NAME']}"
    name = str(cfg["NAME"])
    if connection.is_in_memory_db():
        connection.ensure_connection()
        path = os.path.join(tmp_dir, "office.sqlite3")
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        name = path
    return f"sqlite:///{name}"


class LiveServer:
    def __init__(self, tmp_dir):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/graphql"
        env = {**os.environ, "DATABASE_URL": _database_url(tmp_dir), "MODE": "DEV", "LOG_LEVEL": "WARNING",
               "DJANGO_SETTINGS_MODULE": "openimis_be.test_settings", "PYTHONUNBUFFERED": "1"}
        self.log = open(os.path.join(tmp_dir, "server.log"), "w+")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload", "--skip-checks"],
            cwd=BASE_DIR, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"server did not start: {self.output()}")

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def post(self, token, query):
        request = urllib.request.Request(self.url, data=json.dumps({"query": query}).encode(), method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")[:500]


# ---- 20 inputs of every create mutation -----------------------------------------------------------------------
def office_inputs(admin):
    """``{mutation: [20 inputs]}``, each a valid, distinct create (the objects they need are made here)."""
    ticket = TicketFactory(acting_user=admin)
    plan = BenefitPlanFactory(acting_user=admin)
    group_plan = BenefitPlanFactory(type=BenefitPlan.BenefitPlanType.GROUP_TYPE, acting_user=admin)
    household = GroupFactory(acting_user=admin)
    role = RoleFactory(name="office-template")
    run = uuid.uuid4().hex[:6]

    def people():
        return [IndividualFactory(acting_user=admin) for _ in range(PARALLEL)]

    def groups():
        return [GroupFactory(acting_user=admin) for _ in range(PARALLEL)]

    n = range(PARALLEL)
    inputs = {
        "createTicket": [{"category": "Default", "title": f"office {i}"} for i in n],
        "createComment": [{"ticketId": str(ticket.id), "comment": f"call {i}"} for i in n],
        "createTicketAttachment": [{"ticketUuid": str(ticket.id), "filename": f"call-{i}.txt", "mimeType": "text/plain",
                                    "document": base64.b64encode(f"call {i}".encode()).decode()} for i in n],
        "createIndividual": [{"firstName": f"First{i}", "lastName": "Office", "dob": "1990-01-01"} for i in n],
        "createGroup": [{"code": f"HH{run}{i}"} for i in n],
        "createGroupIndividuals": [{"code": f"GI{run}{i}", "individualIds": [str(p.id)]} for i, p in
                                   enumerate(people())],
        "createGroupAndMoveIndividual": [
            {"code": f"MV{run}{i}", "groupIndividualId": str(GroupIndividualFactory(
                group=household, individual=IndividualFactory(acting_user=admin), acting_user=admin).id)}
            for i in n],
        "addIndividualToGroup": [{"groupId": str(household.id), "individualId": str(p.id), "role": Enum("SON")}
                                 for p in people()],
        "createBenefitPlan": [{"code": f"P{run[:4]}{i:02}", "name": f"Office plan {i}", "type": Enum("INDIVIDUAL"),
                               "dateValidFrom": "2024-01-01", "dateValidTo": "2030-12-31"} for i in n],
        "createBeneficiary": [{"status": Enum("POTENTIAL"), "benefitPlanId": str(plan.id), "individualId": str(p.id)}
                              for p in people()],
        "createGroupBeneficiary": [{"status": Enum("POTENTIAL"), "benefitPlanId": str(group_plan.id),
                                    "groupId": str(g.id)} for g in groups()],
        "createTaskGroup": [{"code": f"TG{run}{i}", "completionPolicy": Enum("ALL")} for i in n],
        "createRole": [{"name": f"Office role {run} {i}", "rightsId": [159001]} for i in n],
        "duplicateRole": [{"uuid": str(role.uuid), "name": f"Office copy {run} {i}"} for i in n],
        "createUser": [{"username": f"office{run}{i}", "lastName": "Office", "otherNames": f"Clerk {i}",
                        "language": "en", "roles": [role.id], "password": "Office-Pass-2024!"} for i in n],
    }
    # payment cycles (PENDING: created at once, no approval task) and payment plans of one benefit plan
    inputs["createPaymentCycle"] = [{"code": f"PC{run}{i}", "startDate": "2025-03-01", "endDate": "2025-03-31",
                                     "status": Enum("PENDING")} for i in n]
    inputs["createPaymentPlan"] = [{"code": f"PP{run}{i}", "name": f"Office payment plan {i}",
                                    "benefitPlanId": str(plan.id), "calculation": SOCIAL_PROTECTION_RULE,
                                    "dateValidFrom": "2025-01-01",
                                    "jsonExt": json.dumps({"calculation_rule": {"fixed_batch": 100 + i}})}
                                   for i in n]
    if "createVisit" in schema.graphql_schema.mutation_type.fields:  # the guide module of the test assembly
        inputs["createVisit"] = [{"subject": f"visit {i}"} for i in n]
    return inputs


# Mutations that write a new record without being named create*: covered too.
CREATING_MUTATIONS = {"addIndividualToGroup", "duplicateRole"}


def _burst(live, token, name, inputs):
    """Send the 20 requests at the same moment (a barrier), each on its own connection; answers the HTTP results."""
    label = f"office-{name}-{uuid.uuid4().hex[:8]}"
    barrier = threading.Barrier(len(inputs))
    answers = [None] * len(inputs)

    def client(i, params):
        fields = build_params({"clientMutationId": f"{label}-{i}", "clientMutationLabel": label, **params})
        query = f"mutation {{ {name}(input: {{ {fields} }}) {{ clientMutationId internalId }} }}"
        barrier.wait()
        answers[i] = live.post(token, query)

    threads = [threading.Thread(target=client, args=(i, params)) for i, params in enumerate(inputs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return label, answers


def _logs(live, token, label):
    status, body = live.post(token, f'{{ mutationLogs(clientMutationLabel: "{label}", first: 100) {{ totalCount '
                                    "edges { node { clientMutationId status error } } } }")
    assert status == 200 and "errors" not in body, body
    return [edge["node"] for edge in body["data"]["mutationLogs"]["edges"]]


def test_twenty_parallel_creates_of_every_kind_all_succeed(tmp_path):
    admin = create_test_interactive_user("Admin")
    inputs = office_inputs(admin)
    creates = {name for name in schema.graphql_schema.mutation_type.fields if name.startswith("create")}
    assert creates | CREATING_MUTATIONS <= set(inputs), f"no parallel run for {creates - set(inputs)}"
    server = LiveServer(str(tmp_path))  # on the committed rows above
    try:
        token = get_token(admin)
        failures, seconds = {}, {}
        for name, params in inputs.items():
            started = time.monotonic()
            label, answers = _burst(server, token, name, params)
            seconds[name] = round(time.monotonic() - started, 1)
            bad = [a for a in answers if a is None or a[0] != 200 or "errors" in a[1]
                   or not (a[1]["data"][name] or {}).get("internalId")]
            logs = _logs(server, token, label)
            bad += [log["error"] for log in logs if log["status"] != SUCCESS]
            if bad or len(logs) != PARALLEL:
                failures[name] = f"{len(bad)} of {PARALLEL} failed ({len(logs)} logs): {bad[:2]}"
        assert not failures, "\n".join([*(f"{name}: {text}" for name, text in failures.items()), server.output()])

        status, body = server.post(token, "{ tickets(first: 100) { totalCount edges { node { code } } } }")
        codes = [edge["node"]["code"] for edge in body["data"]["tickets"]["edges"]]
        assert len(codes) == PARALLEL + 1 and len(set(codes)) == len(codes), codes
        assert sorted(codes) == [f"GRS{i:08d}" for i in range(1, PARALLEL + 2)]
        # each burst is over in a few seconds (about 1.5 s on a loaded 2-core machine): none waited out a lock
        assert max(seconds.values()) < 20, seconds
    finally:
        server.stop()
