import pytest

from core.models import MutationLog
from core.test_helpers import assert_log_error, assert_log_success

pytestmark = pytest.mark.django_db


def test_admin_user_query(admin_user, gql):
    data = gql(admin_user).data("{ user { username rights iUser { language { code } } } }")
    assert data["user"]["username"] == "Admin"
    assert 121701 in data["user"]["rights"]


def test_create_role_logs_success_and_replay(admin_user, gql):
    client = gql(admin_user)
    log = client.mutate("createRole", {"name": "Clerk", "rightsId": [121701]}, client_mutation_id="abc")
    assert_log_success(log)
    again = client.mutate("createRole", {"name": "Clerk", "rightsId": [121701]}, client_mutation_id="abc")
    assert again.id == log.id
    assert MutationLog.objects.filter(client_mutation_id="abc").count() == 1


def test_create_role_denied_without_right(no_rights_user, gql):
    log = gql(no_rights_user).mutate("createRole", {"name": "Clerk"})
    assert_log_error(log, "unauthorized")
