import uuid

import graphene
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch

from core.gql.connection import OrderedDjangoFilterConnectionField, _selections
from core.schema import require
from tasks_management.apps import TasksManagementConfig
from tasks_management.gql_mutations import (
    CreateTaskGroupMutation,
    DeleteTaskGroupMutation,
    ResolveTaskMutation,
    UpdateTaskGroupMutation,
    UpdateTaskMutation,
)
from tasks_management.gql_queries import (
    TaskExecutorGQLType,
    TaskGQLType,
    TaskGroupGQLType,
    executors_filter_q,
    require_task_group_search,
    visible_tasks,
)
from tasks_management.models import TaskExecutor, TaskGroup, TaskMutation
from tasks_management.utils import can_see_all_tasks


def _selected(info, name):
    """True when a field called ``name`` appears anywhere in the selection set of this query field."""
    stack = list(info.field_nodes)
    while stack:
        node = stack.pop()
        for sel in _selections(node, info):
            if sel.name.value == name:
                return True
            stack.append(sel)
    return False


def _live_executors_prefetch(path):
    return Prefetch(path, queryset=TaskExecutor.objects.filter(is_deleted=False)
                    .select_related("user__i_user").order_by("date_created", "id"))


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


class Query(graphene.ObjectType):
    task = OrderedDjangoFilterConnectionField(
        TaskGQLType,
        apply_default_validity_filter=graphene.Boolean(),
        client_mutation_id=graphene.String(),
        task_group_id=graphene.String(),
        entity_ids=graphene.List(graphene.UUID),
        entity_string__icontains=graphene.String(),
        entity_type=graphene.String(description="app_label.model or content type id"),
        group_id=graphene.String(),
        custom_filters=graphene.List(graphene.String),
    )
    task_group = OrderedDjangoFilterConnectionField(
        TaskGroupGQLType,
        date_valid_from__gte=graphene.DateTime(),
        date_valid_to__lte=graphene.DateTime(),
        client_mutation_id=graphene.String(),
        search=graphene.String(),
    )
    task_executor = OrderedDjangoFilterConnectionField(
        TaskExecutorGQLType,
        task_group_id_string=graphene.String(),
    )

    def resolve_task(self, info, client_mutation_id=None, task_group_id=None, entity_ids=None,
                     entity_string__icontains=None, entity_type=None, **kwargs):
        user = info.context.user
        require(user)
        # our rule: 191001 (or a see-all right), or being a live executor of some group (sees only its tasks)
        if not user.has_perms(TasksManagementConfig.gql_task_search_perms) and not can_see_all_tasks(user) \
                and not TaskExecutor.objects.filter(
                user_id=user.id, is_deleted=False, task_group__is_deleted=False).exists():
            raise PermissionDenied("unauthorized")
        qs = visible_tasks(user)
        if client_mutation_id:
            qs = qs.filter(id__in=TaskMutation.objects.filter(
                mutation__client_mutation_id=client_mutation_id).values("task_id"))
        if task_group_id:
            parsed = _uuid_or_none(task_group_id)
            qs = qs.filter(task_group_id=parsed) if parsed else qs.none()
        if entity_ids is not None:
            qs = qs.filter(entity_id__in=[str(e) for e in entity_ids])
        if entity_type:
            if "." in entity_type:
                app_label, model = entity_type.split(".", 1)
                qs = qs.filter(entity_type__app_label=app_label, entity_type__model=model.lower())
            elif entity_type.isdigit():
                qs = qs.filter(entity_type_id=int(entity_type))
            else:
                qs = qs.none()
        if entity_string__icontains:
            # str(entity) is computed in Python (spec §8.1); the match becomes an id filter so paging stays exact
            needle = entity_string__icontains.lower()
            candidates = qs.filter(entity_id__isnull=False).prefetch_related("entity").only(
                "id", "entity_type", "entity_id")
            ids = [t.id for t in candidates.iterator(chunk_size=500) if t.entity is not None
                   and needle in str(t.entity).lower()]
            qs = qs.filter(id__in=ids)
        if _selected(info, "entityString"):
            qs = qs.prefetch_related("entity")
        if _selected(info, "taskexecutorSet") or _selected(info, "user"):
            qs = qs.prefetch_related(_live_executors_prefetch("task_group__taskexecutor_set"))
        if _selected(info, "clientMutationId"):
            qs = qs.prefetch_related(Prefetch("mutations", queryset=TaskMutation.objects.select_related("mutation")
                                              .order_by("-mutation__request_date_time"), to_attr="mutation_links"))
        return qs

    def resolve_task_group(self, info, client_mutation_id=None, search=None, **kwargs):
        require_task_group_search(info.context.user)
        qs = TaskGroup.objects.all()
        if search:
            qs = qs.filter(id__in=TaskGroup.objects.filter(executors_filter_q(search)).values("id"))
        if _selected(info, "taskexecutorSet") or _selected(info, "user"):
            qs = qs.prefetch_related(_live_executors_prefetch("taskexecutor_set"))
        return qs

    def resolve_task_executor(self, info, task_group_id_string=None, **kwargs):
        require_task_group_search(info.context.user)
        qs = TaskExecutor.objects.all()
        if task_group_id_string:
            parsed = _uuid_or_none(task_group_id_string)
            qs = qs.filter(task_group_id=parsed) if parsed else qs.none()
        return qs.select_related("user__i_user")


class Mutation(graphene.ObjectType):
    create_task_group = CreateTaskGroupMutation.Field()
    update_task_group = UpdateTaskGroupMutation.Field()
    delete_task_group = DeleteTaskGroupMutation.Field()
    update_task = UpdateTaskMutation.Field()
    resolve_task = ResolveTaskMutation.Field()
