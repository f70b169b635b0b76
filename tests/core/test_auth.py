from datetime import timedelta

import pytest
from django.test import Client
from graphql_jwt.settings import jwt_settings
from graphql_jwt.shortcuts import get_token

from core.test_helpers import DEFAULT_PASSWORD, post_graphql

pytestmark = pytest.mark.django_db

LOGIN = "mutation authenticate($username: String!, $password: String!) { tokenAuth(username: $username, password: $password) { refreshExpiresIn } }"
REFRESH = "mutation refreshAuthToken { refreshToken { refreshExpiresIn } }"
ME = "{ user { username } }"


def post(client, query, variables=None, **headers):
    return post_graphql(query, variables, client=client, **headers)


def test_login_sets_httponly_jwt_cookie_and_cookie_auth_works(admin_user):
    client = Client()
    response = post(client, LOGIN, {"username": "Admin", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert response.json()["data"]["tokenAuth"]["refreshExpiresIn"] > 0
    cookie = response.cookies["JWT"]
    assert cookie["httponly"]
    assert post(client, ME).json()["data"]["user"]["username"] == "Admin"
    me = client.get("/api/core/users/current_user/")
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == "Admin" and body["t_user"] is None
    assert 121701 in body["i_user"]["rights"] and body["i_user"]["has_password"]
    assert "csrftoken" in me.cookies


@pytest.mark.parametrize("username,password", [("Admin", "wrong"), ("NoSuchUser", "whatever")])
def test_failed_login_never_reveals_whether_user_exists(admin_user, username, password):
    response = post(Client(), LOGIN, {"username": username, "password": password})
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == "INCORRECT_CREDENTIALS"
    assert "JWT" not in response.cookies


def test_inactive_user_cannot_log_in(admin_user):
    admin_user.is_active = False
    admin_user.save(update_fields=["is_active"])
    response = post(Client(), LOGIN, {"username": "Admin", "password": DEFAULT_PASSWORD})
    assert response.json()["errors"][0]["message"] == "INCORRECT_CREDENTIALS"


def test_refresh_without_token_is_401_token_is_required():
    response = post(Client(), REFRESH)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Token is required"


def test_refresh_with_cookie(admin_user):
    client = Client()
    post(client, LOGIN, {"username": "Admin", "password": DEFAULT_PASSWORD})
    response = post(client, REFRESH)
    assert response.status_code == 200
    assert response.json()["data"]["refreshToken"]["refreshExpiresIn"] > 0


def test_current_user_anonymous_is_401():
    assert Client().get("/api/core/users/current_user/").status_code == 401


def test_bearer_header(admin_user):
    token = get_token(admin_user)
    response = post(Client(), ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json()["data"]["user"]["username"] == "Admin"
    rest = Client().get("/api/core/users/current_user/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert rest.status_code == 200


def test_expired_token_is_401(admin_user, monkeypatch):
    monkeypatch.setattr(jwt_settings, "JWT_EXPIRATION_DELTA", timedelta(seconds=-60))
    token = get_token(admin_user)
    monkeypatch.undo()
    response = post(Client(), ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["message"].lower()


def test_garbage_token_is_401(admin_user):
    response = post(Client(), ME, HTTP_AUTHORIZATION="Bearer not.a.token")
    assert response.status_code == 401


def test_revoke_token(admin_user):
    token = get_token(admin_user)
    header = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    response = post(Client(), "mutation { revokeToken { revoked } }", **header)
    assert response.json()["data"]["revokeToken"]["revoked"] > 0
    assert post(Client(), ME, **header).status_code == 401
    assert Client().get("/api/core/users/current_user/", **header).status_code == 401


def test_logout_deletes_cookies_and_revokes(admin_user):
    client = Client()
    post(client, LOGIN, {"username": "Admin", "password": DEFAULT_PASSWORD})
    token = client.cookies["JWT"].value
    response = post(client, "mutation logout { deleteTokenCookie { deleted } deleteRefreshTokenCookie { deleted } }")
    assert response.json()["data"]["deleteTokenCookie"]["deleted"] is True
    assert post(Client(), ME, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_csrf_enforced_on_browser_login(admin_user):
    client = Client(enforce_csrf_checks=True)
    variables = {"username": "Admin", "password": DEFAULT_PASSWORD}
    refused = post(client, LOGIN, variables, HTTP_ORIGIN="http://testserver")
    assert refused.status_code == 403
    # the app's dance: any POST (e.g. moduleConfigurations) hands out the csrftoken cookie first
    first = post(client, "{ moduleConfigurations { module config controls { field usage } } }")
    assert first.status_code == 200 and first.json()["data"]["moduleConfigurations"] == []
    token = client.cookies["csrftoken"].value
    accepted = post(client, LOGIN, variables, HTTP_ORIGIN="http://testserver", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 200 and "JWT" in accepted.cookies


def test_script_login_without_cookies_needs_no_csrf(admin_user):
    client = Client(enforce_csrf_checks=True)
    response = post(client, LOGIN, {"username": "Admin", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200 and "errors" not in response.json()


def test_other_mutations_do_not_need_csrf(admin_user):
    client = Client(enforce_csrf_checks=True)
    token = get_token(admin_user)
    response = post(client, 'mutation { changeUserLanguage(input: {languageId: "fr"}) { internalId } }',
                    HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


def test_password_change_and_reset(admin_user, mailoutbox=None):
    from django.core import mail

    token = get_token(admin_user)
    header = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    bad = post(Client(), 'mutation { changePassword(oldPassword: "nope", newPassword: "An0ther-Good-One") { success error } }', **header)
    assert bad.json()["data"]["changePassword"]["success"] is False
    weak = post(Client(), f'mutation {{ changePassword(oldPassword: "{DEFAULT_PASSWORD}", newPassword: "123") {{ success error }} }}', **header)
    assert weak.json()["data"]["changePassword"]["success"] is False
    ok = post(Client(), f'mutation {{ changePassword(oldPassword: "{DEFAULT_PASSWORD}", newPassword: "An0ther-Good-One") {{ success }} }}', **header)
    assert ok.json()["data"]["changePassword"]["success"] is True

    admin_user.i_user.email = "admin@example.org"
    admin_user.i_user.save()
    for name in ("Admin", "ghost"):
        reset = post(Client(), f'mutation {{ resetPassword(username: "{name}") {{ success }} }}')
        assert reset.json()["data"]["resetPassword"]["success"] is True  # same answer for unknown users
    assert len(mail.outbox) == 1
    link = mail.outbox[0].body.split("token=")[1].split("&")[0]
    done = post(Client(), f'mutation {{ setPassword(username: "Admin", token: "{link}", newPassword: "Thirds-Pass-99") {{ success }} }}')
    assert done.json()["data"]["setPassword"]["success"] is True
    reused = post(Client(), f'mutation {{ setPassword(username: "Admin", token: "{link}", newPassword: "Fourth-Pass-99") {{ success }} }}')
    assert reused.json()["data"]["setPassword"]["success"] is False
