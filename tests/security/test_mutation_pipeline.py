"""The mutation pipeline as a client meets it (issue 10, items 12, 26 and 27), sent over HTTP as the frontend or a
script sends it: ``POST /api/graphql`` with a bearer token (or none), the outcome read back from ``mutationLogs``.

Item 12: database error texts never reach the mutation log nor the answer; NaN and Infinity (which Python's JSON
reader accepts) are refused in every JSON input with a clear business error, and nothing is written.
Item 26: a ``clientMutationId`` is an idempotency key: only the same mutation with the same input replays the first
outcome; the same id with another mutation or another input is an error naming the id (nothing runs).
Item 27: an anonymous mutation is refused visibly (``mutation.authentication_required``), with no ``internalId``.
"""
import json

import pytest
from django.db import IntegrityError

from core.models import MutationLog, Role
from core.test_helpers import GQL, Enum, assert_log_error, assert_log_success, post_graphql
from grievance_social_protection.models import Comment, Ticket
from individual.models import Individual

pytestmark = pytest.mark.django_db

PERSON = {"firstName": "Nan", "lastName": "Test", "dob": "1990-01-01"}


def _post(query, variables=None, token=None, body=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return post_graphql(query, variables, body=body, **headers)


def _mutation(name, input_literal, client_mutation_id):
    return 'mutation { %s(input: {clientMutationId: "%s", %s}) { clientMutationId internalId } }' % (
        name, client_mutation_id, input_literal)


# --- item 12: database texts never reach clients; NaN / Infinity refused -----------------------------------------
@pytest.mark.parametrize("bad", ['{"n": NaN}', '{"n": Infinity}', '{"a": {"b": [1, -Infinity]}}'])
def test_nan_and_infinity_in_json_ext_are_a_business_error(admin_user, bad):
    log = GQL(admin_user).mutate("createIndividual", {**PERSON, "jsonExt": bad})
    assert_log_error(log)
    text = log.error.lower()
    assert "nan" in text and "infinity" in text and "not allowed" in text, log.error
    for leak in ("constraint", "integrity", "check ", "sql", "psycopg", "dataerror", "threw"):
        assert leak not in text, log.error
    assert not Individual.objects.filter(first_name="Nan").exists()


def test_nan_in_a_json_variable_is_a_business_error(admin_user):
    """The frontend sends literals, scripts send variables: the JSONString variable is refused the same way."""
    from graphql_jwt.shortcuts import get_token

    query = ('mutation ($ext: JSONString) { createIndividual(input: {clientMutationId: "nan-var", firstName: "Nan", '
             'lastName: "Var", dob: "1990-01-01", jsonExt: $ext}) { internalId } }')
    response = _post(query, {"ext": '{"n": NaN}'}, token=get_token(admin_user))
    assert response.status_code == 200, response.content
    log = MutationLog.objects.get(client_mutation_id="nan-var")
    assert_log_error(log, "not allowed")
    assert not Individual.objects.filter(last_name="Var").exists()


def test_nan_in_the_request_body_is_refused(admin_user):
    """``json.loads`` reads bare NaN / Infinity tokens (not JSON): the body is refused with a 400, not executed."""
    from graphql_jwt.shortcuts import get_token

    query = 'mutation ($n: Float) { createRole(input: {clientMutationId: "nan-body", name: "nan-body"}) { internalId } }'
    body = '{"query": %s, "variables": {"n": NaN, "m": -Infinity}}' % json.dumps(query)
    response = _post(None, body=body, token=get_token(admin_user))
    assert response.status_code == 400
    assert "NaN" in response.json()["errors"][0]["message"]
    assert not MutationLog.objects.filter(client_mutation_id="nan-body").exists()


def test_nan_in_a_benefit_plan_json_ext_is_refused(admin_user):
    log = GQL(admin_user).mutate("createBenefitPlan", {
        "code": "NAN1", "name": "nan plan", "type": Enum("INDIVIDUAL"), "dateValidFrom": "2024-01-01",
        "dateValidTo": "2030-12-31", "jsonExt": '{"budget": NaN}'})
    assert_log_error(log, "not allowed")
    assert "constraint" not in log.error.lower()
    from social_protection.models import BenefitPlan

    assert not BenefitPlan.objects.filter(code="NAN1").exists()


def test_a_database_error_text_never_reaches_the_log_or_the_answer(admin_user, monkeypatch):
    """Whatever the database says (constraint names, SQL, values) stays in the server log."""
    from core.services import RoleService

    def broken(self, obj_data):
        raise IntegrityError('CHECK constraint failed: core_role_secret_check (SELECT password FROM core_user)')

    monkeypatch.setattr(RoleService, "create", broken)
    from graphql_jwt.shortcuts import get_token

    response = _post(_mutation("createRole", 'name: "db-error"', "db-error"), token=get_token(admin_user))
    assert "constraint" not in response.content.decode().lower()
    log = MutationLog.objects.get(client_mutation_id="db-error")
    assert_log_error(log)
    assert "constraint" not in log.error.lower() and "password" not in log.error.lower(), log.error
    assert not Role.objects.filter(name="db-error").exists()


# --- item 26: clientMutationId reuse --------------------------------------------------------------------------
def test_the_same_mutation_with_the_same_input_replays(admin_user):
    gql = GQL(admin_user)
    first = gql.mutate("createRole", {"name": "replayed"}, client_mutation_id="retry-1")
    again = gql.mutate("createRole", {"name": "replayed"}, client_mutation_id="retry-1")
    assert again.id == first.id
    assert_log_success(again)
    assert Role.objects.filter(name="replayed").count() == 1


def test_a_reused_id_for_a_different_mutation_is_an_error_naming_it(admin_user):
    """The README walk-through: a ticket then a comment, both with the id of the earlier step."""
    gql = GQL(admin_user)
    assert_log_success(gql.mutate("createTicket", {"category": "Default", "title": "reuse"},
                                  client_mutation_id="step-1"))
    ticket = Ticket.objects.get(title="reuse")
    content = gql.query(_mutation("createComment", 'ticketId: "%s", comment: "lost?"' % ticket.id, "step-1"))
    assert content["data"]["createComment"] is None
    message = content["errors"][0]["message"]
    assert "step-1" in message and "createTicket" in message, message
    assert not Comment.objects.filter(comment="lost?").exists()
    assert MutationLog.objects.filter(client_mutation_id="step-1").count() == 1


def test_a_reused_id_with_a_different_input_is_an_error(admin_user):
    gql = GQL(admin_user)
    assert_log_success(gql.mutate("createRole", {"name": "first-role"}, client_mutation_id="same-key"))
    content = gql.query(_mutation("createRole", 'name: "second-role"', "same-key"))
    assert content["data"]["createRole"] is None
    assert "same-key" in content["errors"][0]["message"]
    assert not Role.objects.filter(name="second-role").exists()


def test_a_reused_id_of_a_failed_mutation_with_a_different_input_is_an_error(admin_user):
    """Correcting a failed input needs a new id: the old one keeps its failure, the new input is not hidden."""
    gql = GQL(admin_user)
    failed = gql.mutate("createRole", {"name": "IMIS Administrator"}, client_mutation_id="try-1")
    assert_log_error(failed, "already exists")
    content = gql.query(_mutation("createRole", 'name: "corrected"', "try-1"))
    assert content["data"]["createRole"] is None and "try-1" in content["errors"][0]["message"]
    assert not Role.objects.filter(name="corrected").exists()
    # the identical retry of the failed one replays its failure
    assert gql.mutate("createRole", {"name": "IMIS Administrator"}, client_mutation_id="try-1").id == failed.id


def test_a_replay_with_a_secret_input_compares_the_secret_too(admin_user):
    """Inputs holding passwords are logged masked: the comparison must not treat two passwords as equal."""
    gql = GQL(admin_user)
    params = {"username": "reuse-pw", "lastName": "L", "otherNames": "O", "password": "Str0ng!pass-word-1",
              "roles": [], "language": "en"}
    first = gql.mutate("createUser", params, client_mutation_id="pw-1")
    assert gql.mutate("createUser", params, client_mutation_id="pw-1").id == first.id
    content = gql.query(_mutation("createUser", 'username: "reuse-pw", lastName: "L", otherNames: "O", '
                                                'password: "An0ther!pass-word-2", roles: [], language: "en"', "pw-1"))
    assert content["data"]["createUser"] is None and "pw-1" in content["errors"][0]["message"]
    assert "An0ther" not in json.dumps(content)
    stored = MutationLog.objects.get(id=first.id)
    assert "Str0ng" not in stored.json_content and "Str0ng" not in json.dumps(stored.json_ext)


def test_a_log_written_before_fingerprints_compares_its_logged_input(admin_user):
    gql = GQL(admin_user)
    first = gql.mutate("createRole", {"name": "legacy"}, client_mutation_id="legacy-1")
    first.json_ext = {k: v for k, v in first.json_ext.items() if k != "input_fingerprint"}  # as an older version wrote
    first.save(update_fields=["json_ext"])
    assert gql.mutate("createRole", {"name": "legacy"}, client_mutation_id="legacy-1").id == first.id
    content = gql.query(_mutation("createRole", 'name: "legacy-2"', "legacy-1"))
    assert content["data"]["createRole"] is None and "legacy-1" in content["errors"][0]["message"]
    assert not Role.objects.filter(name="legacy-2").exists()


def test_the_label_may_change_on_a_retry(admin_user):
    gql = GQL(admin_user)
    first = gql.mutate("createRole", {"name": "labelled", "clientMutationLabel": "Create role"},
                       client_mutation_id="lbl")
    again = gql.mutate("createRole", {"name": "labelled", "clientMutationLabel": "Create role (retry)"},
                       client_mutation_id="lbl")
    assert again.id == first.id


# --- item 27: anonymous mutations are refused visibly -------------------------------------------------------------
@pytest.mark.parametrize("name,literal", [
    ("createIndividual", 'firstName: "Anon", lastName: "Ymous", dob: "1990-01-01"'),
    ("createRole", 'name: "anon-role"'),
    ("createTicket", 'category: "Default", title: "anon"'),
])
def test_an_anonymous_mutation_is_refused_visibly(name, literal):
    response = _post(_mutation(name, literal, f"anon-{name}"))
    content = response.json()
    assert content["data"][name] is None, content  # no internalId to poll
    assert content["errors"][0]["message"] == "mutation.authentication_required"
    assert not MutationLog.objects.filter(client_mutation_id=f"anon-{name}").exists()
    assert not Individual.objects.filter(first_name="Anon").exists()
    assert not Role.objects.filter(name="anon-role").exists()
    assert not Ticket.objects.filter(title="anon").exists()


def test_an_anonymous_mutation_writes_no_log_row():
    before = MutationLog.objects.count()
    for i in range(5):
        _post(_mutation("createRole", f'name: "anon-{i}"', f"anon-flood-{i}"))
    assert MutationLog.objects.count() == before
