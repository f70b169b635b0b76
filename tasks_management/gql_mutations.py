"""Mutations: thin layers (rights check + service call); the service does validation and writes."""
import json

import graphene
from django.core.exceptions import ValidationError

from core.gql.mutation import BaseMutation, check_perms
from tasks_management.apps import TasksManagementConfig
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


def _str_ids(values):
    return [str(v) for v in values] if values is not None else None


def _link(user, data, task_id):
    if data.get("client_mutation_id"):
        TaskMutation.object_mutated(user, client_mutation_id=data["client_mutation_id"], task_id=task_id)


class TaskGroupInputMixin:
    code = graphene.String(required=True, max_length=255)
    completion_policy = graphene.Field(TaskGroupCompletionPolicyEnum, required=True)
    completion_threshold = graphene.Int(description="N-of-M: approvals needed (policy N; default: majority)")
    user_ids = graphene.List(graphene.UUID)
    task_sources = graphene.List(graphene.String)
    task_allowed_sources = graphene.List(graphene.String)


def _group_payload(data):
    payload = {"code": data.get("code"), "completion_policy": _enum_value(data.get("completion_policy"))}
    for key in ("completion_threshold", "task_sources", "task_allowed_sources"):
        if key in data:
            payload[key] = data[key]
    if "user_ids" in data:
        payload["user_ids"] = _str_ids(data["user_ids"]) or []
    if data.get("id"):
        payload["id"] = str(data["id"])
    return payload


class CreateTaskGroupMutation(BaseMutation):
    _mutation_module = "tasks_management"
    _mutation_class = "CreateTaskGroupMutation"

    class Input(TaskGroupInputMixin, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, TasksManagementConfig.gql_task_group_create_perms)

    @classmethod
    def _mutate(cls, user, **data):
        result = TaskGroupService(user).create(_group_payload(data))
        return None if result["success"] else result


class UpdateTaskGroupMutation(BaseMutation):
    _mutation_module = "tasks_management"
    _mutation_class = "UpdateTaskGroupMutation"

    class Input(TaskGroupInputMixin, BaseMutation.Input):
        id = graphene.UUID(required=True)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, TasksManagementConfig.gql_task_group_update_perms)

    @classmethod
    def _mutate(cls, user, **data):
        result = TaskGroupService(user).update(_group_payload(data))
        return None if result["success"] else result


class DeleteTaskGroupMutation(BaseMutation):
    _mutation_module = "tasks_management"
    _mutation_class = "DeleteTaskGroupMutation"

    class Input(BaseMutation.Input):
        ids = graphene.List(graphene.UUID)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, TasksManagementConfig.gql_task_group_delete_perms)

    @classmethod
    def _mutate(cls, user, **data):
        service = TaskGroupService(user)
        errors = []
        for group_id in data.get("ids") or []:
            result = service.delete({"id": str(group_id)})
            if not result["success"]:
                errors.append(result)
        return errors or None  # any error rolls the whole mutation back


class UpdateTaskMutation(BaseMutation):
    _mutation_module = "tasks_management"
    _mutation_class = "UpdateTaskMutation"

    class Input(BaseMutation.Input):
        id = graphene.UUID(required=True)
        status = graphene.Field(TaskStatusInputEnum)
        task_group_id = graphene.UUID()

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, TasksManagementConfig.gql_task_update_perms)

    @classmethod
    def _mutate(cls, user, **data):
        payload = {"id": str(data["id"])}
        if data.get("status") is not None:
            payload["status"] = _enum_value(data["status"])
        if "task_group_id" in data:
            payload["task_group_id"] = str(data["task_group_id"]) if data["task_group_id"] else None
        result = TaskService(user).update(payload)
        if not result["success"]:
            return result
        _link(user, data, payload["id"])
        return None


class ResolveTaskMutation(BaseMutation):
    """An executor's vote. The service enforces: right, executor of the group, own vote only, not the maker."""

    _mutation_module = "tasks_management"
    _mutation_class = "ResolveTaskMutation"

    class Input(BaseMutation.Input):
        id = graphene.UUID(required=True)
        business_status = graphene.JSONString(required=True)
        additional_data = graphene.JSONString()

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, TasksManagementConfig.gql_task_search_perms)

    @classmethod
    def _mutate(cls, user, **data):
        payload = {"id": str(data["id"]), "business_status": data.get("business_status")}
        if data.get("additional_data") is not None:
            payload["additional_data"] = data["additional_data"]
        if isinstance(payload["business_status"], str):
            try:
                payload["business_status"] = json.loads(payload["business_status"])
            except ValueError:
                raise ValidationError("businessStatus must be a JSON object")
        result = TaskService(user).resolve_task(payload)
        if not result["success"]:
            return result
        _link(user, data, payload["id"])
        return None
