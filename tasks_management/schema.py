import graphene
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch

from core.gql.connection import OrderedDjangoFilterConnectionField, selected
from core.gql.filters import parse_uuid
from core.gql.mutation import mutation_fields
from core.rights import require
from tasks_management.gql_mutations import (
    CreateTaskGroupMutation,
    DeleteTaskGroupMutation,
    RefreshRuleTasksMutation,
    ResolveTaskMutation,
    UpdateTaskGroupMutation,
    UpdateTaskMutation,
)
from tasks_management.gql_queries import (
    TASK_GROUP_SEARCH,
    TASK_SEARCH,
    TaskExecutorGQLType,
    TaskGQLType,
    TaskGroupGQLType,
    RuleTaskStateCount,
    executors_filter_q,
    task_list_allowed,
)
from tasks_management.models import Task, TaskExecutor, TaskGroup, TaskMutation
from tasks_management.utils import visible_tasks


def _live_executors_prefetch(path):
    # live, ordered, users joined: the connection's optimiser keeps it instead of its plain lookup
    return Prefetch(path, queryset=TaskExecutor.objects.filter(is_deleted=False)
                    .select_related("user__i_user").order_by("date_created", "id"))


def _by_group_id(queryset, value):
    group_id = parse_uuid(value)
    return queryset.filter(task_group_id=group_id) if group_id else queryset.none()


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
    # rule-generated tasks (task_rules.md §15)
    due_tasks = OrderedDjangoFilterConnectionField(
        TaskGQLType,
        user_id=graphene.UUID(description="another user's due tasks (IMIS admin, triage, 191005)"),
        include_draft=graphene.Boolean(),
        overdue_only=graphene.Boolean(),
        rule_names=graphene.List(graphene.String),
        contact_ids=graphene.List(graphene.UUID),
        due_date__gte=graphene.Date(),
        due_date__lte=graphene.Date(),
    )
    rule_tasks_breakdown = graphene.List(RuleTaskStateCount, contact_ids=graphene.List(graphene.UUID),
                                         rule_names=graphene.List(graphene.String))

    def resolve_due_tasks(self, info, user_id=None, include_draft=False, overdue_only=False, rule_names=None,
                          contact_ids=None, due_date__gte=None, due_date__lte=None, **kwargs):
        """Ready (and, when asked, Draft) rule tasks of the caller (or of ``userId``), decayed first."""
        from tasks_management.rules.queries import due_tasks

        user = info.context.user
        require(user, TASK_SEARCH)
        qs = due_tasks(user, user_id=user_id, include_draft=bool(include_draft), overdue_only=bool(overdue_only),
                       rule_names=rule_names, contact_ids=contact_ids, due_date__gte=due_date__gte,
                       due_date__lte=due_date__lte)
        if selected(info, "entityString"):
            qs = qs.prefetch_related("entity")  # one query per entity type for the page
        return qs

    def resolve_rule_tasks_breakdown(self, info, contact_ids=None, rule_names=None):
        from tasks_management.rules.queries import breakdown

        user = info.context.user
        require(user, TASK_SEARCH)
        return [RuleTaskStateCount(**row) for row in breakdown(user, contact_ids=contact_ids, rule_names=rule_names)]

    def resolve_task(self, info, client_mutation_id=None, task_group_id=None, entity_ids=None,
                     entity_string__icontains=None, entity_type=None, **kwargs):
        """Rows are restricted by the type (Task.get_queryset); this adds the list right and the filters."""
        user = info.context.user
        require(user)
        if not task_list_allowed(user):
            raise PermissionDenied("unauthorized")
        qs = Task.objects.all()
        if client_mutation_id:
            qs = qs.filter(id__in=TaskMutation.objects.filter(
                mutation__client_mutation_id=client_mutation_id).values("task_id"))
        if task_group_id:
            qs = _by_group_id(qs, task_group_id)
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
            candidates = visible_tasks(user, qs).filter(entity_id__isnull=False).prefetch_related("entity").only(
                "id", "entity_type", "entity_id")
            ids = [t.id for t in candidates.iterator(chunk_size=500) if t.entity is not None
                   and needle in str(t.entity).lower()]
            qs = qs.filter(id__in=ids)
        if selected(info, "entityString"):
            qs = qs.prefetch_related("entity")  # one query per entity type for the page
        if selected(info, "taskexecutorSet") or selected(info, "user"):
            qs = qs.prefetch_related(_live_executors_prefetch("task_group__taskexecutor_set"))
        if selected(info, "clientMutationId"):
            qs = qs.prefetch_related(Prefetch("mutations", queryset=TaskMutation.objects.select_related("mutation")
                                              .order_by("-mutation__request_date_time"), to_attr="mutation_links"))
        return qs

    def resolve_task_group(self, info, client_mutation_id=None, search=None, **kwargs):
        require(info.context.user, TASK_GROUP_SEARCH)
        qs = TaskGroup.objects.all()
        if search:
            qs = qs.filter(id__in=TaskGroup.objects.filter(executors_filter_q(search)).values("id"))
        if selected(info, "taskexecutorSet") or selected(info, "user"):
            qs = qs.prefetch_related(_live_executors_prefetch("taskexecutor_set"))
        return qs

    def resolve_task_executor(self, info, task_group_id_string=None, **kwargs):
        require(info.context.user, TASK_GROUP_SEARCH)
        qs = TaskExecutor.objects.select_related("user__i_user")
        return _by_group_id(qs, task_group_id_string) if task_group_id_string else qs


Mutation = mutation_fields(CreateTaskGroupMutation, UpdateTaskGroupMutation, DeleteTaskGroupMutation,
                           UpdateTaskMutation, ResolveTaskMutation, RefreshRuleTasksMutation)
