import io
import json

import pytest

from core.test_helpers import Enum, assert_log_success
from tasks_management import demo
from tasks_management.models import Task, TaskExecutor, TaskGroup

pytestmark = pytest.mark.django_db


class Ctx:
    def __init__(self, admin):
        self.admin, self.villages, self.credentials, self.stdout = admin, [], [], io.StringIO()

    def add_credentials(self, username, password, description=""):
        self.credentials.append((username, password, description))

    def log(self, message):
        self.stdout.write(message)


def test_demo_is_idempotent_and_the_graphiql_flow_works(admin_user, gql):
    ctx = Ctx(admin_user)
    demo.contribute(ctx)
    demo.contribute(ctx)
    assert [c[0] for c in ctx.credentials] == ["Checker"]
    group = TaskGroup.objects.get(code="demo-approvers")
    assert TaskGroup.objects.count() == 1 and TaskExecutor.objects.filter(task_group=group).count() == 2
    task = Task.objects.get(source="demo")
    assert task.status == Task.Status.RECEIVED
    # the flow a new user follows in GraphiQL: see the pending task, assign it, approve it
    client = gql(admin_user)
    assert client.data("{ task(status: RECEIVED) { totalCount } }")["task"]["totalCount"] == 1
    assert_log_success(client.mutate("updateTask", {"id": str(task.id), "status": Enum("ACCEPTED"),
                                                    "taskGroupId": str(group.id)}))
    assert_log_success(client.mutate("resolveTask", {
        "id": str(task.id), "businessStatus": json.dumps({str(admin_user.id): "APPROVED"})}))
    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
