import pytest

from core.signals import ServiceSignalBindType, bind_service_signal, unbind_service_signal
from tasks_management.apps import TasksManagementConfig
from tasks_management.models import Task, TaskGroup
from tasks_management.services import TaskGroupService, TaskService, on_task_complete_service_handler
from tests.tasks_management.factories import TmWidgetFactory

TASK_SEE = 191001

# the lists as the frontend reads them (``.format(first=<page size>)``)
TASK_LIST = ('{{ task(isDeleted: false, first: {first}, orderBy: ["-dateCreated"]) {{ totalCount edges {{ node {{ '
             'id uuid entityId entityType entityString source status executorActionEvent businessEvent dateCreated '
             'isDeleted businessStatus businessData data jsonExt '
             'taskGroup {{ id code completionPolicy '
             'taskexecutorSet {{ edges {{ node {{ user {{ id username lastName }} }} }} }} }} }} }} }} }}')
GROUP_LIST = ('{{ taskGroup(isDeleted: false, first: {first}, orderBy: ["code"]) {{ totalCount edges {{ node {{ '
              'id uuid code completionPolicy jsonExt taskSources '
              'taskexecutorSet {{ edges {{ node {{ user {{ id username lastName }} }} }} }} }} }} }} }}')
EXECUTOR_LIST = ('{{ taskExecutor(first: {first}) {{ totalCount edges {{ node {{ uuid user {{ username lastName }} '
                 'taskGroup {{ code }} }} }} }} }}')


@pytest.fixture
def maker(make_user):
    return make_user("maker", rights=[TASK_SEE])


@pytest.fixture
def checkers(make_user):
    return [make_user(f"checker{i}", rights=[TASK_SEE]) for i in range(1, 4)]


@pytest.fixture
def make_group(admin_user):
    def factory(policy="ANY", executors=(), code=None, threshold=None, sources=()):
        result = TaskGroupService(admin_user).create({
            "code": code or f"group-{policy}-{TaskGroup.objects.count()}",
            "completion_policy": policy,
            "completion_threshold": threshold,
            "user_ids": [str(u.id) for u in executors],
            "task_sources": list(sources),
        })
        assert result["success"], result
        return TaskGroup.objects.get(id=result["data"]["id"])

    return factory


@pytest.fixture
def make_task(maker):
    def factory(group=None, user=None, **fields):
        data = {"source": "test", "executor_action_event": TasksManagementConfig.default_executor_event,
                "business_event": "test.event", **fields}
        if group is not None:
            data["task_group"] = group
        result = TaskService(user or maker).create(data)
        assert result["success"], result
        return Task.objects.get(id=result["data"]["id"])

    return factory


def vote(user, task, value="APPROVED", **extra):
    return TaskService(user).resolve_task({"id": str(task.id), "business_status": {str(user.id): value}, **extra})


@pytest.fixture
def widget(admin_user):
    return TmWidgetFactory(name="original", amount="10.00", acting_user=admin_user)


@pytest.fixture
def widget_service():
    """Binds the maker-checker completion handler of the test service (as other modules do at start-up)."""
    from tests.tasks_management.test_app.services import WidgetService

    handler = on_task_complete_service_handler(WidgetService)
    bind_service_signal("task_service.complete_task", handler, ServiceSignalBindType.AFTER)
    yield WidgetService
    unbind_service_signal("task_service.complete_task", handler)


@pytest.fixture
def config_override(monkeypatch):
    """``config_override(maker_cannot_approve=False)``: module settings changed for one test."""

    def setter(**values):
        for key, value in values.items():
            monkeypatch.setattr(TasksManagementConfig, key, value)

    return setter
