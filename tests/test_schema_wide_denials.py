"""Schema-wide denial sweep over the stitched schema (``openimis_be.schema.schema``).

* every top-level Query field, called anonymously and as a logged-in user holding NO rights, must return
  nothing (null / empty list / ``totalCount: 0``, with or without an error);
* every logged mutation (payload with ``internalId``) sent by those two users must be refused and must not change
  any row of the database: the anonymous call visibly (``mutation.authentication_required``, no log), the
  logged-in one as a failed ``MutationLog``.

New fields are picked up automatically: a field that is public by design must be added, with its reason,
to one of the explicit lists below (taken from README.md "Core GraphQL API" and the module sections).
The admin sees rows in the main lists after ``manage.py demo``, and the admin's identical mutation calls
succeed (both asserted): the sweep can see a leak, and a refusal is about the right, not a bad input.
"""
import hashlib
import io
import json
import uuid

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
)

from core.models import MutationLog
from core.test_helpers import Enum, create_role, render_literal
from openimis_be.schema import schema

pytestmark = pytest.mark.django_db

SCHEMA = schema.graphql_schema

# ---- queries -------------------------------------------------------------------------------------------------
# Not checked at all.
PUBLIC_QUERIES = {
    "moduleConfigurations": "public: the frontend reads the exposed module configurations before login",
    "passwordPolicy": "public: the login / set-password pages show it before login",
    "node": "covered type by type in tests/test_node_security.py",
}
# Readable by ANY logged-in user by design (README): only the anonymous call must return nothing.
LOGGED_IN_QUERIES = {
    "user": "the current user's own account (null when anonymous)",
    "languages": "README Core GraphQL API: logged in (language pickers)",
    "usernameLength": "README Core GraphQL API: logged in (user form)",
    "locations": "README Core GraphQL API: logged in (location pickers, row security applies)",
    "userDistricts": "README Core GraphQL API: logged in (the user's own districts)",
    "mutationLogs": "README Core GraphQL API: logged in, own logs only (superusers all)",
    "customFilters": "README Core GraphQL API / social_protection: any authenticated user (filter definitions)",
    # it answered anonymous callers too until this sweep found it (now login required, individual/schema.py)
    "globalSchema": "README individual: no right ('—'), the configured individual_schema for the forms",
}
# Optional arguments that make a query non-trivial for the admin (filled in from the demo data).
QUERY_ARGS = {
    "groupIndividual": lambda: {"group_Id": _first("individual.Group").id},
    "roleRight": lambda: {"role_Uuid": _first("core.Role").uuid},
    "entitlementSummary": lambda: {"paymentCycleId": str(_first("payment_cycle.PaymentCycle", code="sweep-active").id)},
    "benefitDeduplicationSummary": lambda: {
        "paymentCycleId": str(_first("payment_cycle.PaymentCycle", code="sweep-active").id),
        "columns": ["number_of_children"]},
}
# The admin must see rows in these lists: proves the demo data is there and the sweep would see a leak.
ADMIN_SEES_ROWS = ["individual", "group", "groupIndividual", "benefitPlan", "tickets", "task", "taskGroup",
                   "users", "role", "individualHistory", "visit", "visitHistory", "paymentCycle", "paymentPlan",
                   "entitlement"]

# ---- mutations -----------------------------------------------------------------------------------------------
# Not OpenIMIS logged mutations (no internalId): JWT / password flows, covered in tests/core/test_auth.py.
NON_LOGGED_MUTATIONS = {"tokenAuth", "refreshToken", "verifyToken", "revokeToken", "deleteTokenCookie",
                        "deleteRefreshTokenCookie", "changePassword", "resetPassword", "setPassword"}
# Allowed to any logged-in user by design: only the anonymous call must fail.
LOGGED_IN_MUTATIONS = {
    "changeUserLanguage": "README Core GraphQL API: logged in (the user's own language)",
}
# A refusal must be about the right (not about the dummy input), else the check proves nothing.
PERMISSION_MARKERS = ("unauthorized", "authentication_required", "permission")
# The admin's run on the same inputs (each in a rolled-back savepoint) must succeed, except for these:
ADMIN_EXPECTED_FAILURES = {}
# Tables a denied mutation legitimately writes to.
IGNORED_MODELS = {"core.MutationLog"}


def _first(label, **filters):
    return apps.get_model(label)._default_manager.filter(**filters).order_by("pk").first()


def mutation_inputs(user):
    """Realistic inputs on the demo objects, so that the only reason to refuse is the missing right."""
    ticket = _first("grievance_social_protection.Ticket", is_deleted=False)
    # a comment on a live ticket that has no resolution yet: resolveGrievanceByComment is valid on it
    comment = apps.get_model("grievance_social_protection.Comment").objects.filter(
        is_deleted=False, ticket__is_deleted=False).exclude(
        ticket__comments__is_resolution=True, ticket__comments__is_deleted=False).order_by("pk").first()
    plan = _first("social_protection.BenefitPlan", is_deleted=False, type="INDIVIDUAL")
    group_plan = _first("social_protection.BenefitPlan", is_deleted=False, type="GROUP") or plan
    beneficiary = _first("social_protection.Beneficiary", is_deleted=False)
    group_beneficiary = _first("social_protection.GroupBeneficiary", is_deleted=False)
    individual = _first("individual.Individual", is_deleted=False)
    loose = _first("individual.Individual", is_deleted=False, beneficiary__isnull=True) or individual
    group = _first("individual.Group", is_deleted=False)
    membership = _first("individual.GroupIndividual", is_deleted=False)
    task_group = _first("tasks_management.TaskGroup", is_deleted=False)
    task = _first("tasks_management.Task", source="sweep")  # RECEIVED (see demo_data)
    accepted_task = _first("tasks_management.Task", source="sweep-accepted")  # ACCEPTED in demo-approvers
    role = _first("core.Role", validity_to__isnull=True, name="sweep-spare")
    # another account than the caller's (the Admin runs the control, NoRights the denials)
    other_user = apps.get_model("core.User").objects.exclude(username__in=["Admin", "NoRights"]).order_by("pk").first()
    # an individual of the group's village who is not yet a member: a valid addIndividualToGroup
    newcomer = None
    for group in apps.get_model("individual.Group").objects.filter(is_deleted=False).order_by("pk")[:30]:
        newcomer = apps.get_model("individual.Individual").objects.filter(
            is_deleted=False, location_id=group.location_id).exclude(groupindividual__group=group).first()
        if newcomer:
            break
    # a group not yet enrolled in the group plan
    free_group = apps.get_model("individual.Group").objects.filter(is_deleted=False).exclude(
        groupbeneficiary__benefit_plan=group_plan).order_by("pk").first()
    today, later = "2024-01-01", "2030-12-31"
    inputs = {
        "createTicket": {"category": "Default", "title": "sweep"},
        "deleteTicket": {"ids": [ticket and ticket.id]},
        "createBenefitPlan": {"code": "SWEEP1", "name": "sweep plan", "type": "INDIVIDUAL",
                              "dateValidFrom": today, "dateValidTo": later},
        "deleteBenefitPlan": {"ids": [plan and plan.id]},
        "closeBenefitPlan": {"ids": [plan and plan.id]},
        "createBeneficiary": {"status": "POTENTIAL", "benefitPlanId": plan and plan.id,
                              "individualId": loose and loose.id},
        "deleteBeneficiary": {"ids": [beneficiary and beneficiary.id]},
        "createGroupBeneficiary": {"status": "POTENTIAL", "benefitPlanId": group_plan and group_plan.id,
                                   "groupId": free_group and free_group.id},
        "deleteGroupBeneficiary": {"ids": [group_beneficiary and group_beneficiary.id]},
        "createTaskGroup": {"code": "sweep-group", "completionPolicy": "ALL"},
        "deleteTaskGroup": {"ids": [task_group and task_group.id]},
        "updateTask": {"id": task and task.id, "status": "ACCEPTED", "taskGroupId": task_group and task_group.id},
        "resolveTask": {"id": accepted_task and accepted_task.id,
                        "businessStatus": json.dumps({str(user.id if user else uuid.uuid4()): "APPROVED"})},
        "refreshRuleTasks": {"ruleNames": ["grievance_follow_up"]},
        "createIndividual": {"firstName": "Sweep", "lastName": "Test", "dob": "1990-01-01"},
        "deleteIndividual": {"ids": [individual and individual.id]},
        "undoDeleteIndividual": {"ids": [individual and individual.id]},
        "createGroup": {"code": "SWEEP"},
        "deleteGroup": {"ids": [group and group.id]},
        "addIndividualToGroup": {"groupId": group and group.id, "individualId": newcomer and newcomer.id},
        "editIndividualInGroup": {"id": membership and membership.id, "groupId": membership and membership.group_id,
                                  "individualId": membership and membership.individual_id},
        "removeIndividualFromGroup": {"ids": [membership and membership.id]},
        "createGroupIndividuals": {"code": "SWEEP2", "individualIds": [individual and individual.id]},
        "createGroupAndMoveIndividual": {"groupIndividualId": membership and membership.id, "code": "SWEEP3"},
        "confirmIndividualEnrollment": {"benefitPlanId": str(plan and plan.id), "status": "POTENTIAL"},
        "confirmGroupEnrollment": {"benefitPlanId": str(group_plan and group_plan.id), "status": "POTENTIAL"},
        "createRole": {"name": "sweep-role", "rightsId": [159001]},
        "updateRole": {"uuid": role and role.uuid, "name": "sweep-renamed", "rightsId": [159001]},
        "deleteRole": {"uuids": [role and role.uuid]},
        "duplicateRole": {"uuid": role and role.uuid, "name": "sweep-copy"},
        "createUser": {"username": "sweepuser", "lastName": "Sweep", "otherNames": "User", "language": "en",
                       "roles": [role and role.id], "password": "Sweep-Pass-123!"},
        "updateUser": {"uuid": other_user and other_user.id, "lastName": "Renamed", "roles": [role and role.id]},
        "deleteUser": {"uuids": [other_user and other_user.id]},
        "changeUserLanguage": {"languageId": "fr"},
    }
    # update/resolve/reopen on existing objects
    closed = _first("grievance_social_protection.Ticket", status="CLOSED")
    for name, obj in [("updateTicket", ticket), ("reopenTicket", closed), ("updateBenefitPlan", plan),
                      ("updateBeneficiary", beneficiary), ("updateGroupBeneficiary", group_beneficiary),
                      ("updateTaskGroup", task_group), ("updateIndividual", individual), ("updateGroup", group)]:
        inputs.setdefault(name, {})["id"] = obj and obj.id
    inputs["updateTicket"].update(category="Default", title="sweep")
    inputs["updateBenefitPlan"].update(name="sweep renamed")
    inputs["updateBeneficiary"].update(status="ACTIVE")
    inputs["updateGroupBeneficiary"].update(status="ACTIVE")
    inputs["updateTaskGroup"].update(code="sweep-renamed", completionPolicy="ANY")
    inputs["updateIndividual"].update(firstName="Sweep", lastName="Renamed", dob="1990-01-01")
    inputs["updateGroup"].update(code="SWEEP4")
    visit = _first("guide.Visit", is_deleted=False)  # the module written from docs/DEVELOPING.md
    inputs["createVisit"] = {"subject": "sweep"}
    inputs["recordVisitOutcome"] = {"id": visit and visit.id, "outcome": "DONE"}
    inputs["deleteVisit"] = {"ids": [visit and visit.id]}
    inputs["createComment"] = {"ticketId": ticket and ticket.id, "comment": "sweep"}
    inputs["resolveGrievanceByComment"] = {"id": comment and comment.id}
    attachment = _first("grievance_social_protection.TicketAttachment", is_deleted=False)
    inputs["createTicketAttachment"] = {"ticketUuid": ticket and ticket.id, "filename": "sweep.txt",
                                        "mimeType": "text/plain", "document": "c3dlZXA="}
    inputs["deleteTicketAttachment"] = {"ids": [attachment and attachment.id]}
    inputs.update(payment_cycle_inputs())
    # policy_notification: consent of a demo household (a row is created for it when it has none)
    inputs["updateFamilyNotification"] = {"groupId": group and group.id, "approvalOfNotification": True,
                                          "languageOfNotification": "fr"}
    return inputs


SOCIAL_PROTECTION_RULE = "32d96b58-898a-460a-b357-5fd4b95cd87c"


def payment_cycle_inputs():
    """payment_cycle: the sweep's own cycles, payment plan and entitlements (made in ``demo_data``)."""
    pending = _first("payment_cycle.PaymentCycle", code="sweep-pending")
    plan = _first("payment_cycle.PaymentPlan", code="SWEEP-PLAN")
    benefit_plan = _first("social_protection.BenefitPlan", is_deleted=False, type="INDIVIDUAL")
    accepted = _first("payment_cycle.Entitlement", code="SWEEPACC")
    approved = _first("payment_cycle.Entitlement", code="SWEEPAPP")
    return {
        "createPaymentCycle": {"code": "sweep-new", "startDate": "2030-02-01", "endDate": "2030-02-28",
                               "status": "PENDING"},
        "updatePaymentCycle": {"id": pending and pending.id, "code": "sweep-renamed"},
        "deletePaymentCycle": {"ids": [pending and pending.id]},
        "processBenefitPlanPaymentCycle": {"year": 2030, "month": 1},
        "createPaymentPlan": {"code": "SWEEP-PLAN2", "name": "sweep plan", "benefitPlanId": benefit_plan and
                              benefit_plan.id, "calculation": SOCIAL_PROTECTION_RULE, "dateValidFrom": "2024-01-01",
                              "jsonExt": json.dumps({"calculation_rule": {"fixed_batch": 100}})},
        "updatePaymentPlan": {"id": plan and plan.id, "name": "sweep renamed"},
        "deletePaymentPlan": {"ids": [plan and plan.id]},
        "approveEntitlements": {"ids": [accepted and accepted.id]},
        "rejectEntitlements": {"ids": [accepted and accepted.id]},
        "markEntitlementsPaid": {"ids": [approved and approved.id], "receipt": "sweep"},
    }


# ---- document building ---------------------------------------------------------------------------------------
def dummy_value(gql_type):
    """A value of ``gql_type`` (nullable wrappers included) for a required argument."""
    if isinstance(gql_type, GraphQLNonNull):
        return dummy_value(gql_type.of_type)
    if isinstance(gql_type, GraphQLList):
        return [dummy_value(gql_type.of_type)]
    if isinstance(gql_type, GraphQLEnumType):
        return Enum(next(iter(gql_type.values)))
    if isinstance(gql_type, GraphQLInputObjectType):
        return {name: dummy_value(f.type) for name, f in gql_type.fields.items() if isinstance(f.type, GraphQLNonNull)}
    return {
        "String": "x", "ID": str(uuid.uuid4()), "UUID": str(uuid.uuid4()), "Int": 1, "Float": 1.0,
        "Decimal": "1", "Boolean": False, "Date": "2024-01-01", "DateTime": "2024-01-01T00:00:00",
        "JSONString": "{}", "GenericScalar": "x",
    }[gql_type.name]


def is_connection(named):
    return isinstance(named, GraphQLObjectType) and "totalCount" in named.fields and "edges" in named.fields


def selection(named, depth=0):
    """Minimal sub-selection: totalCount for connections, the first argument-less scalar field for objects."""
    if is_leaf_type(named):
        return ""
    if is_connection(named):
        return "{ totalCount }"
    for name, field in named.fields.items():
        if not any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()) and is_leaf_type(
                get_named_type(field.type)):
            return "{ %s }" % name
    for name, field in named.fields.items():  # no scalar: go one level down
        inner = get_named_type(field.type)
        if depth < 2 and isinstance(inner, GraphQLObjectType) and not field.args:
            return "{ %s %s }" % (name, selection(inner, depth + 1))
    raise AssertionError(f"no selectable field on {named}")


def query_document(name, extra_args=None):
    field = SCHEMA.query_type.fields[name]
    args = {a: dummy_value(arg.type) for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)}
    args.update(extra_args or {})
    rendered = ", ".join(f"{a}: {render_literal(v, field.args[a].type)}" for a, v in args.items())
    return "{ %s%s %s }" % (name, f"({rendered})" if rendered else "", selection(get_named_type(field.type)))


def returned_something(value):
    if value is None:
        return False
    if isinstance(value, list):
        return len(value) > 0
    if isinstance(value, dict) and "totalCount" in value:
        return bool(value["totalCount"])
    return True


def query_fields():
    return sorted(n for n in SCHEMA.query_type.fields if n not in PUBLIC_QUERIES)


def logged_mutations():
    result = []
    for name, field in SCHEMA.mutation_type.fields.items():
        if "internalId" in get_named_type(field.type).fields:
            result.append(name)
        else:
            assert name in NON_LOGGED_MUTATIONS, f"{name}: not a logged mutation and not listed as such"
    return sorted(result)


def mutation_document(name, values, client_mutation_id):
    field = SCHEMA.mutation_type.fields[name]
    input_type = get_named_type(field.args["input"].type)
    data = dummy_value(input_type)
    data.update({k: v for k, v in values.items()})
    data["clientMutationId"] = client_mutation_id
    return "mutation { %s(input: %s) { clientMutationId internalId } }" % (name, render_literal(data, input_type))


def db_counts():
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()
            if m._meta.label not in IGNORED_MODELS and m._meta.managed}


def db_fingerprint():
    digest = {}
    for model in apps.get_models():
        if model._meta.label in IGNORED_MODELS or not model._meta.managed:
            continue
        rows = model._base_manager.order_by("pk").values_list()
        digest[model._meta.label] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return digest


@pytest.fixture
def demo_data(admin_user):
    call_command("demo", stdout=io.StringIO())
    create_role("sweep-spare", [159001])  # non-system and unassigned: deleteRole may delete it
    # tasks: one made by the demo's Checker, ready for the admin's vote in demo-approvers, and one RECEIVED for
    # updateTask (the demo's own requests are the admin's: the maker never votes)
    task_model = apps.get_model("tasks_management.Task")
    checker = apps.get_model("core.User").objects.get(username="Checker")
    group = apps.get_model("tasks_management.TaskGroup").objects.get(code="demo-approvers", is_deleted=False)
    data = {"incoming_data": {"note": "sweep"}, "current_data": {}}
    task_model(source="sweep", business_event="sweep.review", data=data,
               executor_action_event="default").save(user=checker)
    task_model(source="sweep-accepted", business_event="sweep.review", data=data, executor_action_event="default",
               status="ACCEPTED", task_group=group).save(user=checker)
    # the demo's pending update requests are closed: the sweep's own updates of that plan/individual must not
    # meet "another task pending"
    task_model.objects.filter(source__in=["IndividualService", "BenefitPlanService"],
                              status__in=["RECEIVED", "ACCEPTED"]).update(status="FAILED")
    _payment_cycle_rows(admin_user)


def _payment_cycle_rows(admin_user):
    """A PENDING cycle, a payment plan and, in an ACTIVE cycle, an ACCEPTED and an APPROVE_FOR_PAYMENT
    entitlement of a demo beneficiary: what the payment_cycle mutations act on."""
    from tests.payment_cycle.factories import EntitlementFactory, PaymentCycleFactory, PaymentPlanFactory

    beneficiaries = apps.get_model("social_protection.Beneficiary").objects.filter(is_deleted=False).order_by("pk")
    PaymentCycleFactory(code="sweep-pending", acting_user=admin_user)
    active = PaymentCycleFactory(code="sweep-active", status="ACTIVE", acting_user=admin_user)
    plan = PaymentPlanFactory(code="SWEEP-PLAN", benefit_plan=beneficiaries[0].benefit_plan, acting_user=admin_user)
    for beneficiary, code, status in zip(beneficiaries[:2], ("SWEEPACC", "SWEEPAPP"),
                                         ("ACCEPTED", "APPROVE_FOR_PAYMENT")):
        EntitlementFactory(code=code, status=status, payment_cycle=active, payment_plan=plan,
                           beneficiary=beneficiary, acting_user=admin_user)


# ---- tests ---------------------------------------------------------------------------------------------------
def test_schema_lists_are_known():
    unknown = set(PUBLIC_QUERIES) | set(LOGGED_IN_QUERIES) | set(QUERY_ARGS) | set(ADMIN_SEES_ROWS)
    assert unknown <= set(SCHEMA.query_type.fields), unknown - set(SCHEMA.query_type.fields)
    assert set(LOGGED_IN_MUTATIONS) | NON_LOGGED_MUTATIONS <= set(SCHEMA.mutation_type.fields)


def test_admin_sees_rows_after_demo(demo_data, admin_user, gql):
    for name in ADMIN_SEES_ROWS:
        extra = QUERY_ARGS[name]() if name in QUERY_ARGS else None
        content = gql(admin_user).query(query_document(name, extra))
        assert "errors" not in content, (name, content["errors"])
        assert content["data"][name]["totalCount"] > 0, name


@pytest.mark.parametrize("who", ["anonymous", "no_rights"])
def test_queries_return_nothing_without_rights(demo_data, no_rights_user, gql, who):
    user = no_rights_user if who == "no_rights" else None
    leaks, checked = [], []
    for name in query_fields():
        if user is not None and name in LOGGED_IN_QUERIES:
            continue
        extra = QUERY_ARGS[name]() if name in QUERY_ARGS else None
        document = query_document(name, extra)
        content = gql(user).query(document)
        value = (content.get("data") or {}).get(name)
        if returned_something(value):
            leaks.append((name, value, content.get("errors")))
        checked.append(name)
    assert not leaks, f"{who} gets data from: {leaks}"
    assert len(checked) >= 30, checked


@pytest.mark.parametrize("who", ["anonymous", "no_rights"])
def test_logged_mutations_are_denied_without_rights(demo_data, no_rights_user, gql, who):
    user = no_rights_user if who == "no_rights" else None
    inputs = mutation_inputs(user)
    client = gql(user)  # before the snapshot: issuing a token stamps the user's last_login
    fingerprint = db_fingerprint()
    failures, checked = [], []
    for name in logged_mutations():
        if user is not None and name in LOGGED_IN_MUTATIONS:
            continue
        before = db_counts()
        content = client.query(mutation_document(name, inputs.get(name, {}), str(uuid.uuid4())))
        payload = (content.get("data") or {}).get(name)
        messages = [e.get("message") for e in content.get("errors") or []]
        if user is None and payload is None and messages == ["mutation.authentication_required"]:
            # anonymous: refused visibly before any log is written (issue 10 item 27)
            if db_counts() != before:
                failures.append((name, "rows changed"))
            checked.append(name)
            continue
        if payload is None:  # refused before the pipeline (e.g. input validation): nothing ran
            failures.append((name, "no payload", content.get("errors")))
            continue
        log = MutationLog.objects.get(id=payload["internalId"])
        if log.status != MutationLog.ERROR:
            failures.append((name, "status", log.status, log.error))
        elif not any(marker in (log.error or "").lower() for marker in PERMISSION_MARKERS):
            failures.append((name, "refused for another reason than the right", log.error))
        after = db_counts()
        changed = {k: (v, after[k]) for k, v in before.items() if after[k] != v}
        if changed:
            failures.append((name, "rows changed", changed))
        checked.append(name)
    assert not failures, f"{who}: {failures}"
    assert db_fingerprint() == fingerprint, f"{who}: database content changed"
    assert len(checked) >= 30, checked


def test_admin_control_run_of_the_same_mutations(demo_data, admin_user, no_rights_user, gql):
    """The inputs above are realistic: the admin's identical calls succeed (each rolled back on its own)."""
    client = gql(admin_user)
    outcomes = {}
    for name in logged_mutations():
        with transaction.atomic():
            inputs = mutation_inputs(admin_user)
            content = client.query(mutation_document(name, inputs.get(name, {}), str(uuid.uuid4())))
            payload = (content.get("data") or {}).get(name)
            log = MutationLog.objects.get(id=payload["internalId"]) if payload else None
            outcomes[name] = (log.status, log.error) if log else (None, content.get("errors"))
            transaction.set_rollback(True)
    failed = {n: o for n, o in outcomes.items() if o[0] != MutationLog.SUCCESS and n not in ADMIN_EXPECTED_FAILURES}
    assert not failed, "\n".join(f"{n}: {o}" for n, o in sorted(failed.items()))
