"""factory_boy factories of tasks_management and of its test-only app (rows saved with history, as services do).

Tests that exercise behaviour go through the services (maker-checker flows, group service); these factories
make the rows a test only needs to exist (lists, node(id:) sweeps, cost measurements).
"""
import uuid

import factory
from django.contrib.contenttypes.models import ContentType

from tasks_management.models import (
    Task,
    TaskExecutor,
    TaskGroup,
    TaskMutation,
    TaskRuleContactState,
    TaskRuleEngineState,
)
from tests.factories import HistoryModelFactory, UserFactory, mutation_link_factory
from tests.tasks_management.test_app.models import TmWidget


class TaskGroupFactory(HistoryModelFactory):
    class Meta:
        model = TaskGroup

    code = factory.Sequence(lambda n: f"task-group-{n:04}")
    completion_policy = TaskGroup.CompletionPolicy.ANY
    json_ext = factory.LazyFunction(lambda: {"task_sources": []})
    task_allowed_sources = factory.LazyFunction(lambda: {"task_allowed_sources": []})


class TaskExecutorFactory(HistoryModelFactory):
    class Meta:
        model = TaskExecutor

    user = factory.SubFactory(UserFactory)
    task_group = factory.SubFactory(TaskGroupFactory)


class TaskFactory(HistoryModelFactory):
    """A RECEIVED task with no group; pass ``task_group=`` and ``status=Task.Status.ACCEPTED`` for an
    assigned one, ``entity=`` for one about a record."""

    class Meta:
        model = Task

    source = "factory"
    business_event = factory.Sequence(lambda n: f"factory.event{n}")
    executor_action_event = "default"
    status = Task.Status.RECEIVED
    data = factory.LazyFunction(lambda: {"incoming_data": {}, "current_data": {}})
    business_status = factory.LazyFunction(dict)


TaskMutationFactory = mutation_link_factory(TaskMutation, "task", TaskFactory)


class TmWidgetFactory(HistoryModelFactory):
    class Meta:
        model = TmWidget

    name = factory.Sequence(lambda n: f"widget {n:04}")
    amount = "10.00"


class TaskRuleContactStateFactory(factory.django.DjangoModelFactory):
    """A freshness record of the rules engine (an individual, dirty)."""

    class Meta:
        model = TaskRuleContactState

    contact_type = factory.LazyFunction(lambda: ContentType.objects.get_by_natural_key("individual", "individual"))
    contact_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    is_dirty = True


class TaskRuleEngineStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskRuleEngineState
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"factory-{n}")
