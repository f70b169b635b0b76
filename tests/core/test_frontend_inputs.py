"""The web frontend's password pages send their values as one `input` object of a named input type
(openimis-fe-core_js src/pages/ForgotPasswordPage.js and SetPasswordPage.js, upstream's relay mutations): the type
names must exist in our schema and the operations must work as sent, through HTTP."""
import uuid

import pytest
from django.core import mail
from django.test import Client

from core.test_helpers import DEFAULT_PASSWORD, post_graphql

pytestmark = pytest.mark.django_db

# Exact operation texts of the frontend pages (useGraphqlMutation adds input.clientMutationId).
FORGOT_PASSWORD = """
    mutation resetPassword($input: ResetPasswordMutationInput!) {
      resetPassword(input: $input) {
        clientMutationId
        success
        error
      }
    }
  """
SET_PASSWORD = """
      mutation setPassword($input: SetPasswordMutationInput!) {
        setPassword(input: $input) {
          clientMutationId
          success
          error
        }
      }
    """
CHANGE_PASSWORD = """
    mutation changePassword($input: ChangePasswordMutationInput!) {
      changePassword(input: $input) {
        clientMutationId
        success
        error
      }
    }
  """
LOGIN = ("mutation authenticate($username: String!, $password: String!) "
         "{ tokenAuth(username: $username, password: $password) { refreshExpiresIn } }")


def _answer(response, name):
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    return body["data"][name]


def _reset_link(admin_user):
    admin_user.i_user.email = "admin@example.org"
    admin_user.i_user.save()
    mutation_id = str(uuid.uuid4())
    answer = _answer(post_graphql(FORGOT_PASSWORD, {"input": {"username": "Admin", "clientMutationId": mutation_id}}),
                     "resetPassword")
    assert answer == {"clientMutationId": mutation_id, "success": True, "error": None}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["admin@example.org"]
    return mail.outbox[0].body.split("token=")[1].split("&")[0]


def test_forgot_password_page_mails_a_reset_link(admin_user):
    assert _reset_link(admin_user)
    ghost = _answer(post_graphql(FORGOT_PASSWORD, {"input": {"username": "ghost", "clientMutationId": "x"}}),
                    "resetPassword")
    assert ghost["success"] is True and len(mail.outbox) == 1  # the same answer for an unknown user, no mail


def test_set_password_page_sets_the_password_with_the_mailed_token(admin_user):
    token = _reset_link(admin_user)
    variables = {"input": {"username": "Admin", "token": token, "newPassword": "Fresh-Pass-4711",
                           "clientMutationId": "set-1"}}
    answer = _answer(post_graphql(SET_PASSWORD, variables), "setPassword")
    assert answer == {"clientMutationId": "set-1", "success": True, "error": None}
    login = post_graphql(LOGIN, {"username": "Admin", "password": "Fresh-Pass-4711"}, client=Client())
    assert login.json()["data"]["tokenAuth"]["refreshExpiresIn"] > 0
    reused = _answer(post_graphql(SET_PASSWORD, variables), "setPassword")
    assert reused["success"] is False and reused["error"]  # the page shows the error


def test_set_password_page_refuses_a_forged_token(admin_user):
    variables = {"input": {"username": "Admin", "token": "abc-123", "newPassword": "Fresh-Pass-4711"}}
    answer = _answer(post_graphql(SET_PASSWORD, variables), "setPassword")
    assert answer["success"] is False and answer["error"]


def test_change_password_in_the_input_shape(admin_user):
    client = Client()
    post_graphql(LOGIN, {"username": "Admin", "password": DEFAULT_PASSWORD}, client=client)
    variables = {"input": {"oldPassword": DEFAULT_PASSWORD, "newPassword": "An0ther-Good-One",
                           "clientMutationId": "chg-1"}}
    answer = _answer(post_graphql(CHANGE_PASSWORD, variables, client=client), "changePassword")
    assert answer == {"clientMutationId": "chg-1", "success": True, "error": None}


def test_flat_arguments_still_work_and_a_missing_value_is_an_error(admin_user):
    answer = _answer(post_graphql('mutation { resetPassword(username: "ghost") { success error } }'), "resetPassword")
    assert answer["success"] is True
    missing = _answer(post_graphql('mutation { setPassword(username: "Admin") { success error } }'), "setPassword")
    assert missing == {"success": False, "error": "Missing token, newPassword"}
