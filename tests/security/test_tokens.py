"""Tokens outlive a password change and a logout (issue 10, item 15), attacked as a client holding a stolen token.

Every token carries the user's token generation; changing, setting or resetting the password and logging out
bump it, so every earlier access token and every token of its refresh family (tokens refreshed from it) is refused.
"""

import pytest
from django.core import mail
from django.test import Client
from graphql_jwt.shortcuts import get_token

from core.test_helpers import DEFAULT_PASSWORD, post_graphql

pytestmark = pytest.mark.django_db

LOGIN = ("mutation authenticate($username: String!, $password: String!) "
         "{ tokenAuth(username: $username, password: $password) { token refreshExpiresIn } }")
REFRESH = "mutation refresh($token: String) { refreshToken(token: $token) { token refreshExpiresIn } }"
ME = "{ user { username } }"
NEW_PASSWORD = "An0ther-Good-One"


def _post(client, query, variables=None, **headers):
    return post_graphql(query, variables, client=client, **headers)


def _login(client=None, password=DEFAULT_PASSWORD):
    client = client or Client()
    response = _post(client, LOGIN, {"username": "Admin", "password": password})
    body = response.json()
    assert "errors" not in body, body
    return client, body["data"]["tokenAuth"]["token"]


def _works(token):
    response = _post(Client(), ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    return response.status_code == 200 and (response.json().get("data") or {}).get("user") is not None


def _refreshes(token):
    response = _post(Client(), REFRESH, {"token": token})
    body = response.json()
    return response.status_code == 200 and "errors" not in body and body["data"]["refreshToken"]["token"]


def _rest_works(token):
    return Client().get("/api/core/users/current_user/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


def test_stolen_token_dies_with_a_password_change(admin_user):
    _, stolen = _login()
    refreshed = _refreshes(stolen)  # the thief refreshes before the owner notices
    assert refreshed and _works(stolen) and _works(refreshed)
    owner, owner_token = _login()
    changed = _post(owner, 'mutation change($old: String!, $new: String!) '
                           '{ changePassword(oldPassword: $old, newPassword: $new) { success error } }',
                    {"old": DEFAULT_PASSWORD, "new": NEW_PASSWORD}, HTTP_AUTHORIZATION=f"Bearer {owner_token}")
    assert changed.json()["data"]["changePassword"]["success"] is True
    for token in (stolen, refreshed, owner_token):
        assert not _works(token), "a token issued before the password change still works"
        assert not _rest_works(token)
        assert not _refreshes(token), "a token issued before the password change can still be refreshed"
    _, fresh = _login(password=NEW_PASSWORD)
    assert _works(fresh)


def test_stolen_token_dies_with_a_password_reset(admin_user):
    admin_user.i_user.email = "admin@example.org"
    admin_user.i_user.save()
    _, stolen = _login()
    reset = _post(Client(), 'mutation { resetPassword(username: "Admin") { success } }')
    assert reset.json()["data"]["resetPassword"]["success"] is True
    link = mail.outbox[-1].body.split("token=")[1].split("&")[0]
    done = _post(Client(), 'mutation set($token: String!, $new: String!) '
                           '{ setPassword(username: "Admin", token: $token, newPassword: $new) { success } }',
                 {"token": link, "new": NEW_PASSWORD})
    assert done.json()["data"]["setPassword"]["success"] is True
    assert not _works(stolen) and not _refreshes(stolen)


def test_stolen_token_dies_when_an_administrator_sets_the_password(admin_user, make_user):
    victim = make_user("victim", rights=[])
    stolen = get_token(victim)
    assert _works(stolen)
    _, admin_token = _login()
    changed = _post(Client(), 'mutation { changePassword(username: "victim", newPassword: "An0ther-Good-One") '
                              '{ success error } }', HTTP_AUTHORIZATION=f"Bearer {admin_token}")
    assert changed.json()["data"]["changePassword"]["success"] is True, changed.json()
    assert not _works(stolen) and not _refreshes(stolen)


def test_token_refreshed_before_logout_dies_with_the_logout(admin_user):
    browser, first = _login()
    refreshed = _post(browser, REFRESH)  # the frontend refreshes through the cookie
    refreshed_token = refreshed.json()["data"]["refreshToken"]["token"]
    assert refreshed_token and _works(refreshed_token)
    out = _post(browser, "mutation logout { deleteTokenCookie { deleted } deleteRefreshTokenCookie { deleted } }")
    assert out.json()["data"]["deleteTokenCookie"]["deleted"] is True
    for token in (first, refreshed_token):
        assert not _works(token), "a token of the logged-out session still works"
        assert not _refreshes(token), "a token of the logged-out session can still be refreshed"
    _, fresh = _login()
    assert _works(fresh) and _refreshes(fresh)


def test_revoke_token_revokes_the_refresh_family(admin_user):
    _, first = _login()
    refreshed = _refreshes(first)
    revoked = _post(Client(), "mutation { revokeToken { revoked } }", HTTP_AUTHORIZATION=f"Bearer {first}")
    assert revoked.json()["data"]["revokeToken"]["revoked"] > 0
    assert not _works(refreshed) and not _refreshes(refreshed)


def test_a_failed_password_change_keeps_the_session(admin_user):
    _, token = _login()
    wrong = _post(Client(), 'mutation { changePassword(oldPassword: "nope", newPassword: "An0ther-Good-One") '
                            '{ success } }', HTTP_AUTHORIZATION=f"Bearer {token}")
    assert wrong.json()["data"]["changePassword"]["success"] is False
    assert _works(token) and _refreshes(token)


def test_the_browser_changing_its_password_stays_logged_in(admin_user):
    browser, token = _login()
    changed = _post(browser, 'mutation change($old: String!, $new: String!) '
                             '{ changePassword(oldPassword: $old, newPassword: $new) { success } }',
                    {"old": DEFAULT_PASSWORD, "new": NEW_PASSWORD})
    assert changed.json()["data"]["changePassword"]["success"] is True
    assert not _works(token)
    cookie = browser.cookies["JWT"].value
    assert cookie != token and _works(cookie)
    assert _post(browser, ME).json()["data"]["user"]["username"] == "Admin"
