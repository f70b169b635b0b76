"""Helpers: who sees what (task row security), payload serialization for task data, business_status merging."""
import datetime
import decimal
import uuid

from django.db import models
from django.db.models import Q

from tasks_management.apps import TasksManagementConfig
from tasks_management.models import TASK_GROUP_RIGHTS, Task, TaskGroup


def is_task_triage(user):
    """True when the user holds all four task-group rights (IMIS admins pass every right)."""
    if not user or not user.is_authenticated:
        return False
    return user.has_perms(list(TASK_GROUP_RIGHTS), list_evaluation_or=False)


def can_see_all_tasks(user):
    if not user or not user.is_authenticated:
        return False
    return (user.is_superuser or getattr(user, "is_imis_admin", False) or is_task_triage(user)
            or user.has_perms(TasksManagementConfig.gql_task_search_all_perms))


def visible_tasks(user, queryset=None):
    """Tasks the user may see: all (admin, triage, 191005) or those of groups the user executes, not RECEIVED."""
    queryset = Task.objects.all() if queryset is None else queryset
    if not user or not user.is_authenticated:
        return queryset.none()
    queryset = queryset.filter(is_deleted=False)
    if can_see_all_tasks(user):
        return queryset
    groups = TaskGroup.objects.filter(taskexecutor__user_id=user.id, taskexecutor__is_deleted=False).values("id")
    # maker-checker tasks once assigned (not RECEIVED); rule-generated tasks (task_rules.md §15) of the groups
    # the user executes, or assigned to the user, in any state
    of_groups = Q(task_group__is_deleted=False, task_group__in=groups) & ~Q(
        status=Task.Status.RECEIVED, emission_key__isnull=True)
    return queryset.filter(of_groups | Q(assignee_id=user.id, emission_key__isnull=False))


def serialize_value(value):
    """JSON-safe form of a payload value: UUID, dates, Decimal → str; model instances → pk string."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, dict):
        return {str(k): serialize_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [serialize_value(v) for v in value]
    return str(value)


def serialize_payload(data):
    """Flat serialized dict (``key_id`` for model instances so the payload can be replayed)."""
    out = {}
    for key, value in (data or {}).items():
        if isinstance(value, models.Model):
            out[f"{key}_id"] = serialize_value(value.pk)
        else:
            out[key] = serialize_value(value)
    return out


def crud_business_data_builder(data, serializer):
    """Apply ``serializer(key, value)`` to every field of every top-level section of CRUD task data."""
    if not isinstance(data, dict):
        return data
    result = {}
    for section, fields in data.items():
        if isinstance(fields, dict):
            result[section] = {key: serializer(key, value) for key, value in fields.items()}
        else:
            result[section] = fields
    return result


def flat_business_data_builder(data, serializer):
    """Apply ``serializer(key, value)`` to every top-level field (non-CRUD tasks)."""
    if not isinstance(data, dict):
        return data
    return {key: serializer(key, value) for key, value in data.items()}


def merge_business_status(current, incoming):
    """Deep merge: dicts recurse, two lists concatenate, anything else is replaced by the incoming value."""
    result = dict(current or {})
    for key, value in (incoming or {}).items():
        old = result.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            result[key] = merge_business_status(old, value)
        elif isinstance(old, list) and isinstance(value, list):
            result[key] = old + value
        else:
            result[key] = value
    return result
