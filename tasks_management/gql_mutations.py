"""Mutations: each is one service call (rights check, payload, service, mutation-log link)."""
import json

import graphene
from django.core.exceptions import ValidationError

from core.gql.mutation import BaseMutation, IdsInput, ServiceMutation
from tasks_management.models import TaskMutation
from tasks_management.services import TaskGroupService, TaskService


class TaskGroupCompletionPolicyEnum(graphene.Enum):
    ALL = "ALL"
    ANY = "ANY"
    N = "N"


class TaskStatusInputEnum(graphene.Enum):
    ACCEPTED = "ACCEPTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


def _enum_value(value):
    return getattr(value, "value", value)


class TaskGroupInputMixin:
    code = graphene.String(required=True, max_length=255)
    completion_policy = graphene.Field(TaskGroupCompletionPolicyEnum, required=True)
    completion_threshold = graphene.Int(description="N-of-M: approvals needed (policy N; default: majority)")
    user_ids = graphene.List(graphene.UUID)
    task_sources = graphene.List(graphene.String)
    task_allowed_sources = graphene.List(graphene.String)


class _TaskGroupMutation(ServiceMutation):
    _mutation_module = "tasks_management"
    service = TaskGroupService

    class Meta:
        abstract = True

    @classmethod
    def payload(cls, user, data):
        payload = {"code": data.get("code"), "completion_policy": _enum_value(data.get("completion_policy"))}
        for key in ("completion_threshold", "task_sources", "task_allowed_sources"):
            if key in data:
                payload[key] = data[key]
        if "user_ids" in data:
            payload["user_ids"] = [str(u) for u in data["user_ids"] or []]
        if data.get("id"):
            payload["id"] = str(data["id"])
        return payload


class CreateTaskGroupMutation(_TaskGroupMutation):
    permission = "tasks_management.gql_task_group_create_perms"
    method = "create"

    class Input(TaskGroupInputMixin, BaseMutation.Input):
        pass


class UpdateTaskGroupMutation(_TaskGroupMutation):
    permission = "tasks_management.gql_task_group_update_perms"
    method = "update"

    class Input(TaskGroupInputMixin, BaseMutation.Input):
        id = graphene.UUID(required=True)


class DeleteTaskGroupMutation(ServiceMutation):
    # every group of ``ids`` in one transaction: any failure rolls them all back
    _mutation_module = "tasks_management"
    permission = "tasks_management.gql_task_group_delete_perms"
    service, method, each = TaskGroupService, "delete", "ids"

    class Input(IdsInput, BaseMutation.Input):
        pass


class _TaskMutation(ServiceMutation):
    """A mutation of one task, linked to its mutation log (the ``task(clientMutationId:)`` filter)."""

    _mutation_module = "tasks_management"
    service = TaskService
    link_model, link_field = TaskMutation, "task"

    class Meta:
        abstract = True

    @classmethod
    def linked_id(cls, data, result):
        return str(data["id"])


class UpdateTaskMutation(_TaskMutation):
    permission = "tasks_management.gql_task_update_perms"
    method = "update"

    class Input(BaseMutation.Input):
        id = graphene.UUID(required=True)
        status = graphene.Field(TaskStatusInputEnum)
        task_group_id = graphene.UUID()

    @classmethod
    def payload(cls, user, data):
        payload = {"id": str(data["id"])}
        if data.get("status") is not None:
            payload["status"] = _enum_value(data["status"])
        if "task_group_id" in data:
            payload["task_group_id"] = str(data["task_group_id"]) if data["task_group_id"] else None
        return payload


class ResolveTaskMutation(_TaskMutation):
    """An executor's vote. The service enforces: right, executor of the group, own vote only, not the maker."""

    permission = "tasks_management.gql_task_search_perms"
    method = "resolve_task"

    class Input(BaseMutation.Input):
        id = graphene.UUID(required=True)
        business_status = graphene.JSONString(required=True)
        additional_data = graphene.JSONString()

    @classmethod
    def payload(cls, user, data):
        business_status = data.get("business_status")
        if isinstance(business_status, str):  # a JSON string sent inside the JSONString
            try:
                business_status = json.loads(business_status)
            except ValueError:
                raise ValidationError("businessStatus must be a JSON object")
        payload = {"id": str(data["id"]), "business_status": business_status}
        if data.get("additional_data") is not None:
            payload["additional_data"] = data["additional_data"]
        return payload


class RefreshRuleTasksMutation(BaseMutation):
    """Queue a refresh of rule-generated tasks (task_rules.md §15, right 191006): of the given contacts (ids of
    individuals, groups or headless subjects), or of every dirty subject; ``ruleNames`` limits the rules."""

    _mutation_module = "tasks_management"

    class Input(BaseMutation.Input):
        contact_ids = graphene.List(graphene.UUID)
        rule_names = graphene.List(graphene.String)

    @classmethod
    def _validate_mutation(cls, user, **data):
        from core.rights import require_for_mutation

        require_for_mutation(user, "tasks_management.gql_task_rules_refresh_perms")

    @classmethod
    def _mutate(cls, user, **data):
        from tasks_management.services import queue_rule_task_refresh

        queue_rule_task_refresh(contact_ids=data.get("contact_ids"), rule_names=data.get("rule_names"))
        return None
