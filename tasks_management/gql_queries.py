"""GraphQL types of tasks_management (reads only; row security for tasks lives in Task visibility)."""
import copy
import logging

import graphene
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from graphene_django import DjangoObjectType

from core.gql.connection import ExtendedConnection
from tasks_management.apps import TasksManagementConfig
from tasks_management.models import Task, TaskExecutor, TaskGroup
from tasks_management.utils import can_see_all_tasks

logger = logging.getLogger(__name__)

DATE_FILTERS = ["exact", "lt", "lte", "gt", "gte"]
TEXT_FILTERS = ["exact", "iexact", "istartswith", "icontains"]
USER_FILTERS = {
    "username": TEXT_FILTERS,
    "i_user__last_name": TEXT_FILTERS,
    "i_user__other_names": TEXT_FILTERS,
    "i_user__email": ["exact", "iexact", "icontains"],
    "is_active": ["exact"],
}
TASK_GROUP_FILTERS = {
    "id": ["exact"],
    "code": ["exact", "iexact", "startswith", "istartswith", "contains", "icontains"],
    "completion_policy": ["exact", "iexact"],
    "date_created": DATE_FILTERS,
    "date_updated": DATE_FILTERS,
    "is_deleted": ["exact"],
    "version": ["exact"],
}


def live_executors(group):
    """Non-deleted executors of ``group``, from the page's prefetch when there is one."""
    cache = getattr(group, "_prefetched_objects_cache", {})
    if "taskexecutor_set" in cache:
        return [e for e in cache["taskexecutor_set"] if not e.is_deleted]
    return list(group.taskexecutor_set.filter(is_deleted=False).select_related("user__i_user").order_by("date_created"))


def visible_tasks(user, queryset=None):
    """Tasks the user may see: all (admin, triage, 191005) or those of groups the user executes, not RECEIVED."""
    queryset = Task.objects.all() if queryset is None else queryset
    if not user or not user.is_authenticated:
        return queryset.none()
    queryset = queryset.filter(is_deleted=False)
    if can_see_all_tasks(user):
        return queryset
    return queryset.filter(
        task_group__is_deleted=False,
        task_group__in=TaskGroup.objects.filter(
            taskexecutor__user_id=user.id, taskexecutor__is_deleted=False).values("id"),
    ).exclude(status=Task.Status.RECEIVED)


def require_task_group_search(user):
    if not user or not user.is_authenticated or not user.has_perms(TasksManagementConfig.gql_task_group_search_perms):
        raise PermissionDenied("unauthorized")


class TaskExecutorGQLType(DjangoObjectType):
    uuid = graphene.String(source="uuid")

    class Meta:
        model = TaskExecutor
        interfaces = (graphene.relay.Node,)
        filter_fields = {
            "id": ["exact"],
            **{f"user__{k}": v for k, v in USER_FILTERS.items()},
            **{f"task_group__{k}": v for k, v in TASK_GROUP_FILTERS.items()},
            "date_created": DATE_FILTERS,
            "date_updated": DATE_FILTERS,
            "is_deleted": ["exact"],
            "version": ["exact"],
        }
        connection_class = ExtendedConnection

    @classmethod
    def get_node(cls, info, id):
        require_task_group_search(info.context.user)
        return super().get_node(info, id)


class TaskGroupGQLType(DjangoObjectType):
    uuid = graphene.String(source="uuid")
    # live executors only (soft-deleted memberships are history, not members)
    taskexecutor_set = graphene.relay.ConnectionField(TaskExecutorGQLType._meta.connection)
    user = graphene.List(lambda: TaskExecutorGQLType, description="live executors of the group")
    task_sources = graphene.List(graphene.String)

    class Meta:
        model = TaskGroup
        interfaces = (graphene.relay.Node,)
        filter_fields = TASK_GROUP_FILTERS
        connection_class = ExtendedConnection

    @classmethod
    def get_node(cls, info, id):
        require_task_group_search(info.context.user)
        return super().get_node(info, id)

    def resolve_taskexecutor_set(self, info, **kwargs):
        items = live_executors(self)
        connection = graphene.relay.ConnectionField.resolve_connection(
            TaskExecutorGQLType._meta.connection, kwargs, items)
        connection.length = len(items)  # totalCount
        return connection

    def resolve_user(self, info):
        return live_executors(self)

    def resolve_task_sources(self, info):
        return self.task_sources


class TaskGQLType(DjangoObjectType):
    uuid = graphene.String(source="uuid")
    entity_type = graphene.String(description="app_label.model of the entity")
    business_data = graphene.JSONString()
    entity_string = graphene.String()
    client_mutation_id = graphene.String()

    class Meta:
        model = Task
        interfaces = (graphene.relay.Node,)
        exclude = ("mutations",)
        filter_fields = {
            "id": ["exact"],
            "entity_id": ["exact"],
            "source": TEXT_FILTERS,
            "status": TEXT_FILTERS,
            "executor_action_event": TEXT_FILTERS,
            "business_event": TEXT_FILTERS,
            "date_created": DATE_FILTERS,
            "date_updated": DATE_FILTERS,
            "is_deleted": ["exact"],
            "version": ["exact"],
        }
        connection_class = ExtendedConnection

    @classmethod
    def get_queryset(cls, queryset, info):
        return visible_tasks(info.context.user, queryset)

    def resolve_entity_type(self, info):
        if self.entity_type_id is None:
            return None
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_id(self.entity_type_id)  # cached by Django
        return f"{ct.app_label}.{ct.model}"

    def resolve_entity_string(self, info):
        try:
            entity = self.entity
        except Exception:  # a stale entity type must not break a task list
            return None
        return str(entity) if entity is not None else None

    @classmethod
    def prime_page(cls, nodes, info):
        """``businessData`` of the whole page: one batch per registered serializer (spec §8.1)."""
        parent = getattr(super(), "prime_page", None)
        if parent is not None:
            parent(nodes, info)
        by_serializer = {}
        for task in nodes:
            if task.business_data_serializer:
                by_serializer.setdefault(task.business_data_serializer, []).append(task)
        for name, tasks in by_serializer.items():
            readable = _serialize_business_data(name, [t.data for t in tasks], info.context.user)
            for task, data in zip(tasks, readable):
                task._business_data = data

    def resolve_business_data(self, info):
        if not self.business_data_serializer:
            return copy.deepcopy(self.data)
        if not hasattr(self, "_business_data"):  # a task read alone (node(id:), a mutation payload)
            self._business_data = _serialize_business_data(self.business_data_serializer, [self.data],
                                                           info.context.user)[0]
        return self._business_data

    def resolve_client_mutation_id(self, info):
        links = getattr(self, "mutation_links", None)
        if links is None:
            links = list(self.mutations.select_related("mutation").order_by("-mutation__request_date_time")[:1])
        return links[0].mutation.client_mutation_id if links else None


def _serialize_business_data(name, datas, user):
    from tasks_management.services import business_data_serializer

    serializer_class = business_data_serializer(name)
    if serializer_class is None:
        return [{"error": f"business data serializer {name} unavailable"} for _ in datas]
    try:
        return serializer_class(user).serialize_many([copy.deepcopy(d) for d in datas])
    except Exception as exc:  # a broken serializer must not break the task list
        logger.warning("businessData serializer %s failed", name, exc_info=True)
        return [{"error": f"business data serializer {name} unavailable ({exc.__class__.__name__})"} for _ in datas]


def executors_filter_q(search):
    return (Q(code__icontains=search)
            | Q(taskexecutor__user__i_user__last_name__icontains=search, taskexecutor__is_deleted=False)
            | Q(taskexecutor__user__i_user__other_names__icontains=search, taskexecutor__is_deleted=False))
