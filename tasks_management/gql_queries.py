"""GraphQL types of tasks_management (reads only).

Rights: task groups and executors need the group search right (190001); tasks follow the task list rule
(191001, a see-all right, or executing some group) and their row security (``Task.get_queryset``: executors
see the tasks of their groups). ``businessData`` of a page of tasks is built with one batch per registered
serializer (spec §8.1, issue 9).
"""
import copy
import logging

import graphene
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from core.gql.filters import HISTORY_MODEL_FILTERS, STRING_LOOKUPS, filterset_for, prefixed
from core.gql.types import HISTORY_MODEL_FIELDS, HistoryModelType
from core.request_memo import memoized
from core.rights import has_rights, is_authenticated
from tasks_management.models import Task, TaskExecutor, TaskGroup
from tasks_management.services import business_data_serializer
from tasks_management.utils import can_see_all_tasks

logger = logging.getLogger(__name__)

TASK_SEARCH = "tasks_management.gql_task_search_perms"
TASK_GROUP_SEARCH = "tasks_management.gql_task_group_search_perms"

USER_FILTERS = {
    "username": STRING_LOOKUPS,
    "i_user__last_name": STRING_LOOKUPS,
    "i_user__other_names": STRING_LOOKUPS,
    "i_user__email": ["exact", "iexact", "icontains"],
    "is_active": ["exact"],
}
TASK_GROUP_FILTERS = {
    **HISTORY_MODEL_FILTERS,
    "code": ["exact", "iexact", "startswith", "istartswith", "contains", "icontains"],
    "completion_policy": ["exact", "iexact"],
}
TASK_EXECUTOR_FILTERS = {
    **HISTORY_MODEL_FILTERS,
    **prefixed("user", USER_FILTERS),
    **prefixed("task_group", TASK_GROUP_FILTERS),
}
TASK_FILTERS = {
    **HISTORY_MODEL_FILTERS,
    "entity_id": ["exact"],
    "source": STRING_LOOKUPS,
    "status": STRING_LOOKUPS,
    "executor_action_event": STRING_LOOKUPS,
    "business_event": STRING_LOOKUPS,
}


def task_list_allowed(user):
    """Our rule (spec §8.1): the task search right, a see-all right, or being a live executor of a group
    (executors without 191001 still see their group's tasks). Membership is read once per request."""
    if not is_authenticated(user):
        return False
    if has_rights(user, TASK_SEARCH) or can_see_all_tasks(user):
        return True
    return memoized(("tasks_management.is_executor", user.pk), lambda: TaskExecutor.objects.filter(
        user_id=user.id, is_deleted=False, task_group__is_deleted=False).exists())


def live_executors(group):
    """Non-deleted executors of ``group``, from the page's prefetch when there is one."""
    cache = getattr(group, "_prefetched_objects_cache", {})
    if "taskexecutor_set" in cache:
        return [e for e in cache["taskexecutor_set"] if not e.is_deleted]
    return list(group.taskexecutor_set.filter(is_deleted=False).select_related("user__i_user").order_by("date_created"))


class TaskExecutorGQLType(HistoryModelType):
    read_perms = TASK_GROUP_SEARCH

    class Meta:
        model = TaskExecutor
        fields = (*HISTORY_MODEL_FIELDS, "user", "task_group")
        filterset_class = filterset_for(TaskExecutor, TASK_EXECUTOR_FILTERS)


class TaskGroupGQLType(HistoryModelType):
    read_perms = TASK_GROUP_SEARCH

    # live executors only (soft-deleted memberships are history, not members)
    taskexecutor_set = graphene.relay.ConnectionField(TaskExecutorGQLType._meta.connection)
    user = graphene.List(lambda: TaskExecutorGQLType, description="live executors of the group")
    task_sources = graphene.List(graphene.String)

    class Meta:
        model = TaskGroup
        fields = (*HISTORY_MODEL_FIELDS, "code", "completion_policy", "completion_threshold", "task_allowed_sources",
                  "task_set")
        filterset_class = filterset_for(TaskGroup, TASK_GROUP_FILTERS)

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


class TaskGQLType(HistoryModelType):
    read_perms = TASK_SEARCH

    entity_type = graphene.String(description="app_label.model of the entity")
    # a task's group is shown to whoever may see the task (its checkers have no group search right)
    task_group = graphene.Field(TaskGroupGQLType)
    business_data = graphene.JSONString()
    entity_string = graphene.String()
    client_mutation_id = graphene.String()
    # rule-generated tasks (task_rules.md §15); null on maker-checker tasks
    rule_state = graphene.String(description="Draft, Ready, Cancelled, Completed or Failed")
    state_reason = graphene.String()
    overdue = graphene.Boolean(description="Ready and due before today")
    title = graphene.String()
    icon = graphene.String()
    priority = graphene.String(description="high, medium, or a numeric score")
    priority_label = graphene.String()
    contact_label = graphene.String()
    actions = graphene.JSONString()
    for_id = graphene.String()
    assignee_id = graphene.UUID()

    class Meta:
        model = Task
        fields = (*HISTORY_MODEL_FIELDS, "source", "entity_type", "entity_id", "status", "executor_action_event",
                  "business_event", "business_status", "task_group", "data", "business_data_serializer",
                  "emission_key", "rule_name", "due_date", "start_date", "end_date")
        filterset_class = filterset_for(Task, TASK_FILTERS)

    def _rule_data(self):
        return self.data if self.emission_key and isinstance(self.data, dict) else {}

    def resolve_rule_state(self, info):
        return self.rule_state

    def resolve_state_reason(self, info):
        return ((self.json_ext or {}).get("task_rules") or {}).get("state_reason") if self.emission_key else None

    def resolve_overdue(self, info):
        if not self.emission_key:
            return None
        from django.utils import timezone

        return self.rule_state == "Ready" and self.due_date is not None and self.due_date < timezone.localdate()

    def resolve_title(self, info):
        return TaskGQLType._rule_data(self).get("title")

    def resolve_icon(self, info):
        return TaskGQLType._rule_data(self).get("icon")

    def resolve_priority(self, info):
        value = TaskGQLType._rule_data(self).get("priority")
        return None if value is None else str(value)

    def resolve_priority_label(self, info):
        return TaskGQLType._rule_data(self).get("priority_label")

    def resolve_contact_label(self, info):
        return TaskGQLType._rule_data(self).get("contact_label")

    def resolve_actions(self, info):
        return TaskGQLType._rule_data(self).get("actions") if self.emission_key else None

    def resolve_for_id(self, info):
        return TaskGQLType._rule_data(self).get("for_id")

    def resolve_assignee_id(self, info):
        return self.assignee_id

    @classmethod
    def readable(cls, info):
        return task_list_allowed(getattr(info.context, "user", None))

    def resolve_task_group(self, info):
        return self.task_group  # joined with the page (select_related)

    def resolve_entity_type(self, info):
        if self.entity_type_id is None:
            return None
        ct = ContentType.objects.get_for_id(self.entity_type_id)  # cached by Django
        return f"{ct.app_label}.{ct.model}"

    def resolve_entity_string(self, info):
        try:
            entity = self.entity  # the page prefetches the entities (one query per entity type)
        except Exception:  # a stale entity type must not break a task list
            return None
        return str(entity) if entity is not None else None

    @classmethod
    def prime_page(cls, nodes, info):
        """``businessData`` of the whole page: one batch per registered serializer (spec §8.1)."""
        super().prime_page(nodes, info)
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


class RuleTaskStateCount(graphene.ObjectType):
    state = graphene.String()
    count = graphene.Int()


def _serialize_business_data(name, datas, user):
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
