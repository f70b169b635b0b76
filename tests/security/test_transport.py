"""Transport-level attacks on ``POST /api/graphql`` (issue 10, items 6, 7 and 18), sent as a browser or a script would.

Item 6: the login CSRF check (``tokenAuth`` from a browser needs ``X-CSRFToken``) sees every ``tokenAuth`` of the
document, wrapped in inline or named fragments, aliased, or in the operation chosen by ``operationName``.

Item 7: a mutation authenticated by a cookie (the ``JWT`` cookie the frontend uses, or the Django admin session)
must carry the CSRF token or come from a trusted Origin; ``Authorization: Bearer`` callers (scripts) are exempt;
form-encoded GraphQL bodies (what a cross-site HTML form can send without a preflight) are refused.
Item 18: the body size and the token count are capped before any costly work, and the document is parsed once.
"""
import json
from unittest import mock

import pytest
from django.test import Client, override_settings
from graphql_jwt.shortcuts import get_token

from core.models import MutationLog, Role
from core.test_helpers import DEFAULT_PASSWORD, GRAPHQL_URL, post_graphql

pytestmark = pytest.mark.django_db

LOGIN = ("mutation authenticate($username: String!, $password: String!) "
         "{ tokenAuth(username: $username, password: $password) { refreshExpiresIn } }")
START = "{ moduleConfigurations { module config controls { field usage } } }"
EVIL = "https://evil.example"
SELF = "http://testserver"


def _post(client, query, variables=None, **headers):
    return post_graphql(query, variables, client=client, **headers)


def counting_parses():
    """Counts every GraphQL parse, wherever it is called from."""
    from graphql.language.parser import Parser

    return mock.patch.object(Parser, "parse_document", autospec=True, side_effect=Parser.parse_document)


def _create_role(name):
    return 'mutation { createRole(input: {clientMutationId: "%s", name: "%s"}) { clientMutationId internalId } }' % (
        name, name)


def browser_logged_in(admin_user):
    """The real frontend's dance: anonymous POST → csrftoken cookie; tokenAuth with X-CSRFToken → JWT cookie."""
    client = Client(enforce_csrf_checks=True)
    assert _post(client, START, HTTP_ORIGIN=SELF).status_code == 200
    token = client.cookies["csrftoken"].value
    login = _post(client, LOGIN, {"username": "Admin", "password": DEFAULT_PASSWORD},
                  HTTP_ORIGIN=SELF, HTTP_X_CSRFTOKEN=token)
    assert login.status_code == 200 and "JWT" in login.cookies, login.content
    return client


# --- item 6: the login CSRF check sees every tokenAuth, however it is wrapped ------------------------------------
LOGIN_ARGS = 'username: "Admin", password: "%s"' % DEFAULT_PASSWORD
WRAPPED_LOGINS = {
    "inline fragment": "mutation { ... on Mutation { tokenAuth(%s) { refreshExpiresIn } } }" % LOGIN_ARGS,
    "named fragment": ("mutation { ...Login } fragment Login on Mutation { tokenAuth(%s) { refreshExpiresIn } }"
                       % LOGIN_ARGS),
    "aliased in nested fragments": (
        "mutation { ...Outer } fragment Outer on Mutation { ... on Mutation { ...Inner } } "
        "fragment Inner on Mutation { signIn: tokenAuth(%s) { refreshExpiresIn } }" % LOGIN_ARGS),
    "inline fragment without type condition": "mutation { ... { tokenAuth(%s) { refreshExpiresIn } } }" % LOGIN_ARGS,
    "skipped twin": ("mutation { ... @skip(if: true) { languages: tokenAuth(username: \"x\", password: \"y\") "
                     "{ refreshExpiresIn } } ...Login } fragment Login on Mutation { tokenAuth(%s) "
                     "{ refreshExpiresIn } }" % LOGIN_ARGS),
}


@pytest.mark.parametrize("shape", sorted(WRAPPED_LOGINS))
def test_login_wrapped_in_fragments_still_needs_the_csrf_token(admin_user, shape):
    """A foreign page logs the victim's browser into the attacker's account (login CSRF) unless every tokenAuth of
    the document is seen, whatever fragments wrap it."""
    client = Client(enforce_csrf_checks=True)
    assert _post(client, START, HTTP_ORIGIN=SELF).status_code == 200  # the browser holds a csrftoken cookie
    response = _post(client, WRAPPED_LOGINS[shape], HTTP_ORIGIN=EVIL)
    assert response.status_code == 403, response.content
    assert "CSRF" in response.json()["errors"][0]["message"]
    assert "JWT" not in response.cookies


def test_login_in_a_second_operation_chosen_by_operation_name_needs_the_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    _post(client, START, HTTP_ORIGIN=SELF)
    document = ("query harmless { languages { code } } mutation login { ...L } "
                "fragment L on Mutation { tokenAuth(%s) { refreshExpiresIn } }" % LOGIN_ARGS)
    response = client.post(GRAPHQL_URL, json.dumps({"query": document, "operationName": "login"}),
                           content_type="application/json", HTTP_ORIGIN=EVIL)
    assert response.status_code == 403 and "JWT" not in response.cookies


def test_login_wrapped_in_a_fragment_with_the_token_works(admin_user):
    """The check refuses forged logins only: the same document with the CSRF token logs in."""
    client = Client(enforce_csrf_checks=True)
    _post(client, START, HTTP_ORIGIN=SELF)
    token = client.cookies["csrftoken"].value
    response = _post(client, WRAPPED_LOGINS["named fragment"], HTTP_ORIGIN=SELF, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and "errors" not in response.json(), response.content
    assert "JWT" in response.cookies


# --- item 7: cookie-authenticated mutations need the CSRF token or a trusted Origin -----------------------------
def test_jwt_cookie_mutation_from_a_foreign_origin_is_refused(admin_user):
    client = browser_logged_in(admin_user)
    response = _post(client, _create_role("from-evil"), HTTP_ORIGIN=EVIL)
    assert response.status_code == 403
    assert "CSRF" in response.json()["errors"][0]["message"]
    assert not Role.objects.filter(name="from-evil").exists()
    assert not MutationLog.objects.filter(client_mutation_id="from-evil").exists()


def test_jwt_cookie_mutation_without_origin_or_token_is_refused(admin_user):
    client = browser_logged_in(admin_user)
    response = _post(client, _create_role("no-proof"))
    assert response.status_code == 403
    assert not Role.objects.filter(name="no-proof").exists()


def test_jwt_cookie_mutation_with_a_forged_token_is_refused(admin_user):
    client = browser_logged_in(admin_user)
    response = _post(client, _create_role("forged"), HTTP_X_CSRFTOKEN="x" * 64)
    assert response.status_code == 403
    assert not Role.objects.filter(name="forged").exists()


def test_jwt_cookie_mutation_with_the_csrf_token_runs(admin_user):
    client = browser_logged_in(admin_user)
    token = client.cookies["csrftoken"].value
    response = _post(client, _create_role("with-token"), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and "errors" not in response.json(), response.content
    assert Role.objects.filter(name="with-token").exists()


def test_jwt_cookie_mutation_from_the_same_origin_runs(admin_user):
    """The frontend (behind its proxy) sends only cookies and its own Origin: it keeps working."""
    client = browser_logged_in(admin_user)
    response = _post(client, _create_role("same-origin"), HTTP_ORIGIN=SELF)
    assert response.status_code == 200 and "errors" not in response.json(), response.content
    assert Role.objects.filter(name="same-origin").exists()
    # its periodic refresh and its logout are cookie mutations from its own origin too
    assert _post(client, "mutation refreshAuthToken { refreshToken { refreshExpiresIn } }",
                 HTTP_ORIGIN=SELF).status_code == 200


@override_settings(CSRF_TRUSTED_ORIGINS=["https://frontend.example"])
def test_jwt_cookie_mutation_from_a_trusted_origin_runs(admin_user):
    client = browser_logged_in(admin_user)
    response = _post(client, _create_role("trusted"), HTTP_ORIGIN="https://frontend.example")
    assert response.status_code == 200 and "errors" not in response.json(), response.content
    assert Role.objects.filter(name="trusted").exists()


def test_refresh_and_logout_from_a_foreign_origin_are_refused(admin_user):
    client = browser_logged_in(admin_user)
    logout = _post(client, "mutation { deleteTokenCookie { deleted } }", HTTP_ORIGIN=EVIL)
    assert logout.status_code == 403
    assert _post(client, "{ user { username } }", HTTP_ORIGIN=SELF).json()["data"]["user"]["username"] == "Admin"


def test_admin_session_cookie_mutation_from_a_foreign_origin_is_refused(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)  # the Django admin session cookie
    assert _post(client, "{ user { username } }").json()["data"]["user"]["username"] == "Admin"
    response = _post(client, _create_role("via-session"), HTTP_ORIGIN=EVIL)
    assert response.status_code == 403
    assert not Role.objects.filter(name="via-session").exists()


def test_cookie_queries_still_answer(admin_user):
    """Reads are not state changes (and a foreign page cannot read the answer): no token needed."""
    client = browser_logged_in(admin_user)
    response = _post(client, "{ user { username } }")
    assert response.status_code == 200 and response.json()["data"]["user"]["username"] == "Admin"


def test_bearer_callers_need_no_csrf_token(admin_user):
    client = Client(enforce_csrf_checks=True)
    token = get_token(admin_user)
    response = _post(client, _create_role("script"), HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ORIGIN=EVIL)
    assert response.status_code == 200 and "errors" not in response.json(), response.content
    assert Role.objects.filter(name="script").exists()


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_form_encoded_graphql_bodies_are_refused(admin_user, encoding):
    """What an HTML form on a foreign site can post without a CORS preflight."""
    client = browser_logged_in(admin_user)
    body = {"query": _create_role(f"form-{encoding}")}
    if encoding == "multipart":
        response = client.post(GRAPHQL_URL, body, HTTP_ORIGIN=SELF)
    else:
        from urllib.parse import urlencode

        response = client.post(GRAPHQL_URL, urlencode(body), content_type="application/x-www-form-urlencoded",
                               HTTP_ORIGIN=SELF)
    assert response.status_code == 415
    assert "application/json" in response.json()["errors"][0]["message"]
    assert not Role.objects.filter(name=f"form-{encoding}").exists()


def test_form_encoded_bodies_refused_for_scripts_too(admin_user):
    response = Client().post(GRAPHQL_URL, {"query": _create_role("form-script")},
                             HTTP_AUTHORIZATION=f"Bearer {get_token(admin_user)}")
    assert response.status_code == 415
    assert not Role.objects.filter(name="form-script").exists()


# --- item 18: body size and token caps, one parse ---------------------------------------------------------------
def test_a_body_over_the_cap_is_refused_before_parsing():
    big = "{ " + "languages { code } " * 120_000 + "}"  # ~2.3 MB
    with counting_parses() as parse:
        response = Client().post(GRAPHQL_URL, json.dumps({"query": big}), content_type="application/json")
    assert response.status_code == 413
    assert "too large" in response.json()["errors"][0]["message"]
    parse.assert_not_called()


@override_settings(GRAPHQL_MAX_BODY_SIZE=2000)
def test_the_body_cap_is_a_setting(admin_user):
    small = "{ " + "languages { code } " * 50 + "}"
    assert len(small) < 2000
    assert Client().post(GRAPHQL_URL, json.dumps({"query": small}), content_type="application/json").status_code == 200
    large = "{ " + "languages { code } " * 200 + "}"
    assert Client().post(GRAPHQL_URL, json.dumps({"query": large}), content_type="application/json").status_code == 413


def test_the_default_body_cap_is_one_megabyte():
    from core.views import max_body_size

    assert max_body_size() == 1024 * 1024


def test_a_document_over_the_token_cap_is_refused_quickly(settings):
    """The parser stops at the cap: a 200k-token document costs the cap's worth of lexing, not the document's
    (counted in tokens read, which a loaded CI machine cannot make flaky as a wall-clock limit would)."""
    from graphql.language.lexer import Lexer

    many = "{ " + "a " * 200_000 + "}"  # 200k tokens, 400 kB: under the body cap
    real_advance, read = Lexer.advance, []

    def counting_advance(lexer):
        read.append(1)
        return real_advance(lexer)

    with mock.patch.object(Lexer, "advance", counting_advance):
        response = Client().post(GRAPHQL_URL, json.dumps({"query": many}), content_type="application/json")
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert "tokens" in message and len(message) < 200  # no echo of the document
    assert len(read) <= settings.GRAPHQL_MAX_TOKENS + 2, len(read)


@override_settings(GRAPHQL_MAX_TOKENS=50)
def test_the_token_cap_is_a_setting(admin_user):
    token = get_token(admin_user)
    ok = Client().post(GRAPHQL_URL, json.dumps({"query": "{ languages { code name } }"}),
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert ok.status_code == 200 and "errors" not in ok.json()
    long = "{ " + " ".join(f"a{i}: languages {{ code }}" for i in range(12)) + " }"
    refused = Client().post(GRAPHQL_URL, json.dumps({"query": long}), content_type="application/json")
    assert refused.status_code == 400 and "tokens" in refused.json()["errors"][0]["message"]


def test_comment_floods_are_capped_too():
    flood = "{ languages { code } }\n" + "#\n" * 200_000
    response = Client().post(GRAPHQL_URL, json.dumps({"query": flood}), content_type="application/json")
    assert response.status_code == 400


def test_the_login_document_is_parsed_once(admin_user):
    client = Client(enforce_csrf_checks=True)
    _post(client, START, HTTP_ORIGIN=SELF)
    token = client.cookies["csrftoken"].value
    with counting_parses() as parse:
        response = _post(client, LOGIN, {"username": "Admin", "password": DEFAULT_PASSWORD},
                         HTTP_ORIGIN=SELF, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and "JWT" in response.cookies
    assert parse.call_count <= 1  # none when an earlier request sent the same text (checked_document remembers it)


def test_every_document_is_parsed_once(admin_user):
    token = get_token(admin_user)
    with counting_parses() as parse:
        response = _post(Client(), _create_role("parsed-once"), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and "errors" not in response.json()
    assert parse.call_count == 1


def test_a_text_sent_again_is_neither_parsed_nor_validated_again(admin_user):
    """Frontends send the same texts over and over: the second request reuses the checked document."""
    from graphql import validation

    token = get_token(admin_user)
    text = '{ languages { code name } } # %s' % "parsed-once-across-requests"
    assert _post(Client(), text, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    with counting_parses() as parse, mock.patch("core.views.validate", wraps=validation.validate) as validated:
        response = _post(Client(), text, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and "errors" not in response.json()
    assert parse.call_count == 0 and validated.call_count == 0


def test_a_cached_invalid_document_is_still_refused(admin_user):
    token = get_token(admin_user)
    text = "{ languages { noSuchField } }"
    for _ in range(2):
        body = _post(Client(), text, HTTP_AUTHORIZATION=f"Bearer {token}").json()
        assert body["errors"] and "noSuchField" in body["errors"][0]["message"]
