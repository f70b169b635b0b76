"""End to end through tasks_management (skipped when that module is not installed)."""
import json

import pytest
from django.apps import apps

from core.test_helpers import assert_log_success
from individual.models import GroupIndividual, Individual

from .conftest import add_member, make_group, make_individual

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not apps.is_installed("tasks_management"), reason="tasks_management not installed"),
]


@pytest.fixture
def checker(make_user, admin_user):
    from tasks_management.services import TaskGroupService

    user = make_user("checker", rights=[191001, 159001, 159003, 159004, 180001, 180003])
    result = TaskGroupService(admin_user).create({
        "code": "individual-checkers", "completion_policy": "ANY", "user_ids": [str(user.id)],
        "task_sources": ["IndividualService", "GroupIndividualService", "GroupService",
                         "CreateGroupAndMoveIndividualService"]})
    assert result["success"], result
    return user


def _approve(checker_user, maker):
    from tasks_management.models import Task
    from tasks_management.services import TaskService

    task = Task.objects.get(status=Task.Status.ACCEPTED)
    result = TaskService(checker_user).resolve_task({"id": str(task.id),
                                                     "business_status": {str(checker_user.id): "APPROVED"}})
    assert result["success"], result
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
    return task


def business_data(client, task):
    data = client.data('{ task(id: "%s") { edges { node { businessData } } } }' % task.id)
    return json.loads(data["task"]["edges"][0]["node"]["businessData"])


def test_update_individual_lands_after_approval(gql, admin_user, checker):
    ind = make_individual(admin_user, "Old", "Name")
    assert_log_success(gql(admin_user).mutate(
        "updateIndividual", {"id": str(ind.id), "firstName": "New", "lastName": "Name", "dob": "1990-01-01"}))
    ind.refresh_from_db()
    assert ind.first_name == "Old"
    task = _approve(checker, admin_user)
    assert task.business_event == "IndividualService.update" and task.source == "IndividualService"
    ind.refresh_from_db()
    assert ind.first_name == "New" and ind.user_updated == checker


def test_delete_individual_and_edit_membership_after_approval(gql, admin_user, checker):
    ind = make_individual(admin_user)
    assert_log_success(gql(admin_user).mutate("deleteIndividual", {"ids": [str(ind.id)]}))
    assert not Individual.objects.get(id=ind.id).is_deleted
    _approve(checker, admin_user)
    assert Individual.objects.get(id=ind.id).is_deleted

    group = make_group(admin_user)
    add_member(admin_user, group, make_individual(admin_user, "Head", "Person"))
    gi = add_member(admin_user, group, make_individual(admin_user, "A", "B"))
    from core.test_helpers import Enum

    assert_log_success(gql(admin_user).mutate("editIndividualInGroup", {
        "id": str(gi.id), "groupId": str(group.id), "individualId": str(gi.individual_id), "role": Enum("SON")}))
    # a second request on the same group is refused while the first one waits
    from individual.services import GroupIndividualService

    second = GroupIndividualService(admin_user).create_update_task({"id": str(gi.id), "role": "SPOUSE"})
    assert not second["success"] and "There is one task pending for the group" in second["detail"]
    task = _approve(checker, admin_user)
    assert GroupIndividual.objects.get(id=gi.id).role == "SON"
    # the checker reads the request with names instead of ids (the registered batch serializer)
    readable = business_data(gql(checker), task)
    assert readable["incoming_data"]["individual_id"] == "A B"
    assert readable["incoming_data"]["id"] == "A B" and readable["incoming_data"]["group_id"] == group.code


def test_business_data_shows_names_for_every_request(gql, admin_user, checker):
    """What the checker reads for each kind of request: ids become names (one lookup per kind for the page)."""
    from individual.services import CreateGroupAndMoveIndividualService, GroupService, IndividualService

    ann, ben = make_individual(admin_user, "Ann", "One"), make_individual(admin_user, "Ben", "Two")
    group = make_group(admin_user, "HH-1")
    membership = add_member(admin_user, group, ben)
    requests = [
        IndividualService(admin_user).create_update_task({"id": str(ann.id), "first_name": "Anna"}),
        GroupService(admin_user).create_create_task({"code": "HH-2", "individuals_data": [
            {"individual_id": str(ann.id), "role": "HEAD"}]}),
        GroupService(admin_user).create_update_task({"id": str(group.id), "code": "HH-1b"}),
        CreateGroupAndMoveIndividualService(admin_user).create_create_task(
            {"code": "HH-3", "group_individual_id": str(membership.id)}),
    ]
    assert all(result["success"] for result in requests), requests
    data = gql(checker).data("{ task(status: ACCEPTED) { edges { node { businessEvent businessData } } } }")
    readable = {edge["node"]["businessEvent"]: json.loads(edge["node"]["businessData"])["incoming_data"]
                for edge in data["task"]["edges"]}
    assert readable["IndividualService.update"]["id"] == "Ann One"
    assert readable["GroupService.create"]["individuals_data"] == [{"individual_id": "Ann One", "role": "HEAD"}]
    assert readable["GroupService.update"]["id"] == "HH-1"
    assert readable["CreateGroupAndMoveIndividualService.create"]["group_individual_id"] == "Ben Two"
