"""Password guessing (issue 10, item 9), attacked as a script would: many ``tokenAuth`` requests, many aliased
``tokenAuth`` in one document, the Django admin login form, ``resetPassword`` in a loop.

Failures are counted per username and per client address (every ``tokenAuth`` of a document counts); past
``LOGIN_FAILURE_LIMIT`` failures the username, or the client, is locked out for ``LOGIN_COOLOFF_MINUTES``, even
with the right password. The counts live in the database (django-axes), so every worker process sees them.
"""
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from graphql_jwt.shortcuts import get_token

from core.test_helpers import DEFAULT_PASSWORD, post_graphql

pytestmark = pytest.mark.django_db

LIMIT = getattr(settings, "AXES_FAILURE_LIMIT", 10)
LOGIN = ("mutation authenticate($username: String!, $password: String!) "
         "{ tokenAuth(username: $username, password: $password) { token refreshExpiresIn } }")
ATTACKER = "203.0.113.7"
OFFICE = "198.51.100.20"


def _post(query, variables=None, ip=ATTACKER, **headers):
    return post_graphql(query, variables, REMOTE_ADDR=ip, **headers)


def _login(username, password, ip=ATTACKER):
    return _post(LOGIN, {"username": username, "password": password}, ip=ip)


def _logged_in(response):
    body = response.json()
    return response.status_code == 200 and "errors" not in body and bool(body["data"]["tokenAuth"]["token"])


def _messages(response):
    return [e["message"] for e in response.json().get("errors", [])]


def test_forty_wrong_passwords_then_the_right_one_is_refused(admin_user):
    answers = [_login("Admin", f"guess-{i}") for i in range(40)]
    assert all(not _logged_in(a) for a in answers)
    assert "LOGIN_LOCKED_OUT" in " ".join(_messages(answers[-1]))
    assert answers[-1].status_code == 429
    right = _login("Admin", DEFAULT_PASSWORD)
    assert not _logged_in(right), "the right password was accepted after 40 guesses"
    assert right.status_code == 429 and "LOGIN_LOCKED_OUT" in " ".join(_messages(right))
    assert "JWT" not in right.cookies


def test_the_first_failures_answer_incorrect_credentials_and_the_right_password_still_works(admin_user):
    for i in range(LIMIT - 2):
        assert _messages(_login("Admin", f"typo-{i}")) == ["INCORRECT_CREDENTIALS"]
    assert _logged_in(_login("Admin", DEFAULT_PASSWORD))


def test_every_aliased_token_auth_of_a_document_counts(admin_user):
    guesses = " ".join(f'g{i}: tokenAuth(username: "Admin", password: "guess-{i}") {{ token }}' for i in range(15))
    answer = _post(f"mutation {{ {guesses} }}")
    messages = _messages(answer)
    assert len(messages) == 15
    assert messages.count("INCORRECT_CREDENTIALS") == LIMIT - 1, messages
    assert answer.status_code == 429
    # the right password, in the same document after the guesses or in the next request, is refused
    mixed = _post('mutation { a: tokenAuth(username: "Admin", password: "x") { token } '
                  f'b: tokenAuth(username: "Admin", password: "{DEFAULT_PASSWORD}") {{ token }} }}')
    assert not (mixed.json().get("data") or {}).get("b")
    assert not _logged_in(_login("Admin", DEFAULT_PASSWORD, ip=OFFICE))


def test_guessing_many_usernames_from_one_client_locks_the_client_out(admin_user):
    for i in range(LIMIT + 2):
        _login(f"user{i}", "Password1!")
    assert not _logged_in(_login("Admin", DEFAULT_PASSWORD)), "the guessing client may still log in"
    # the username itself was not guessed at: from another address its owner logs in
    assert _logged_in(_login("Admin", DEFAULT_PASSWORD, ip=OFFICE))


def test_the_lockout_holds_across_processes_and_expires_after_the_cool_off(admin_user):
    from axes.models import AccessAttempt

    for i in range(LIMIT):
        _login("Admin", f"guess-{i}")
    cache.clear()  # another worker process has nothing of this one's memory: the counts are in the database
    assert not _logged_in(_login("Admin", DEFAULT_PASSWORD, ip=OFFICE))
    past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)
    assert _logged_in(_login("Admin", DEFAULT_PASSWORD, ip=OFFICE))


def test_a_user_holding_a_token_is_not_affected_by_a_lockout_of_its_address(admin_user):
    token = get_token(admin_user)
    for i in range(LIMIT + 1):
        _login(f"someone{i}", "nope")
    answer = _post("{ user { username } }", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200 and answer.json()["data"]["user"]["username"] == "Admin"


def test_admin_login_form_is_locked_out_too(superuser):
    url = f"/{settings.SITE_ROOT}/admin/login/"
    for i in range(LIMIT + 5):
        Client().post(url, {"username": "root", "password": f"guess-{i}", "next": f"/{settings.SITE_ROOT}/admin/"},
                      REMOTE_ADDR=ATTACKER)
    browser = Client()
    right = browser.post(url, {"username": "root", "password": DEFAULT_PASSWORD,
                               "next": f"/{settings.SITE_ROOT}/admin/"}, REMOTE_ADDR=ATTACKER)
    assert right.status_code == 429, right.status_code
    assert browser.get(f"/{settings.SITE_ROOT}/admin/", REMOTE_ADDR=ATTACKER).status_code == 302  # not logged in


def test_admin_login_failures_count_for_the_graphql_login(admin_user):
    url = f"/{settings.SITE_ROOT}/admin/login/"
    for i in range(LIMIT):
        Client().post(url, {"username": "Admin", "password": f"guess-{i}"}, REMOTE_ADDR=ATTACKER)
    assert not _logged_in(_login("Admin", DEFAULT_PASSWORD, ip=OFFICE))


def test_reset_password_in_a_loop_is_throttled(admin_user):
    admin_user.i_user.email = "admin@example.org"
    admin_user.i_user.save()
    mail.outbox.clear()
    answers = [_post('mutation { resetPassword(username: "Admin") { success error } }') for _ in range(40)]
    assert len(mail.outbox) <= LIMIT, f"{len(mail.outbox)} reset mails sent to one user"
    assert answers[-1].status_code == 429
    assert "PASSWORD_RESET_LOCKED_OUT" in json.dumps(answers[-1].json())
    # aliases count one by one too
    mail.outbox.clear()
    many = " ".join(f'r{i}: resetPassword(username: "Admin") {{ success }}' for i in range(15))
    _post(f"mutation {{ {many} }}", ip=OFFICE)
    assert len(mail.outbox) == 0
    # the login of the user is not locked by someone asking for reset mails
    assert _logged_in(_login("Admin", DEFAULT_PASSWORD, ip="192.0.2.99"))


def test_a_stolen_session_cannot_guess_the_old_password_of_change_password(admin_user):
    token = get_token(admin_user)
    change = 'mutation change($old: String) { changePassword(oldPassword: $old, newPassword: "An0ther-Good-One") ' \
             '{ success error } }'
    for i in range(LIMIT + 3):
        _post(change, {"old": f"guess-{i}"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    right = _post(change, {"old": DEFAULT_PASSWORD}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert right.json()["data"]["changePassword"]["success"] is False, "the old password was guessed"
    assert "LOGIN_LOCKED_OUT" in right.json()["data"]["changePassword"]["error"]
    assert right.status_code == 429
    assert not _logged_in(_login("Admin", DEFAULT_PASSWORD, ip=OFFICE))  # the username is locked everywhere
