"""Validation of tasks, task groups and executors; raises django ValidationError with client-safe text."""
import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from core.validation import BaseModelValidation
from tasks_management.models import Task, TaskExecutor, TaskGroup


def _as_uuid(value):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def validate_user_ids(user_ids):
    wanted = []
    for raw in user_ids or []:
        parsed = _as_uuid(raw)
        if parsed is None:
            raise ValidationError(_("user does not exist: %(id)s") % {"id": raw})
        if parsed not in wanted:
            wanted.append(parsed)
    found = set(get_user_model().objects.filter(id__in=wanted, is_active=True).values_list("id", flat=True))
    missing = [str(u) for u in wanted if u not in found]
    if missing:
        raise ValidationError(_("user does not exist: %(ids)s") % {"ids": ", ".join(missing)})
    return wanted


class TaskValidation(BaseModelValidation):
    OBJECT_TYPE = Task

    @classmethod
    def validate_create(cls, user, **data):
        entity_type, entity_id = data.get("entity_type"), data.get("entity_id")
        if entity_type is not None and entity_id is not None:
            model = entity_type.model_class()
            if model is None or not model._default_manager.filter(pk=entity_id).exists():
                raise ValidationError(_("entity not found"))
            if data.get("emission_key") is None:
                cls.validate_no_pending_task(entity_type, entity_id, data.get("business_event"),
                                             scope=(data.get("json_ext") or {}).get("task_scope"))
        group = data.get("task_group")
        if group is not None and group.is_deleted:
            raise ValidationError(_("Task group %(code)s is deleted") % {"code": group.code})
        status = data.get("status") or Task.Status.RECEIVED
        if status not in Task.Status.values:
            raise ValidationError(_("Unknown task status %(status)s") % {"status": status})

    @classmethod
    def validate_no_pending_task(cls, entity_type, entity_id, business_event, exclude_id=None, scope=None):
        """One pending (RECEIVED/ACCEPTED) task per entity, business event and ``json_ext.task_scope`` (usually
        none); rule-generated tasks aside."""
        pending = Task.objects.filter(entity_type=entity_type, entity_id=str(entity_id), business_event=business_event,
                                      is_deleted=False, status__in=Task.PENDING_STATUSES, emission_key__isnull=True)
        if scope is None:
            pending = pending.filter(Q(json_ext__isnull=True) | Q(json_ext__task_scope__isnull=True))
        else:
            pending = pending.filter(json_ext__task_scope=str(scope))
        if exclude_id:
            pending = pending.exclude(id=exclude_id)
        if pending.exists():
            raise ValidationError(_("another task pending for %(entity)s (%(event)s)") % {
                "entity": f"{entity_type.app_label}.{entity_type.model} {entity_id}", "event": business_event})

    @classmethod
    def validate_not_terminal(cls, task):
        if task.status in Task.TERMINAL_STATUSES:
            raise ValidationError(_("updating completed task (status %(status)s)") % {"status": task.status})

    @classmethod
    def validate_update(cls, user, task=None, **data):
        cls.validate_not_terminal(task)
        status = data.get("status", task.status)
        if "status" in data and status in Task.TERMINAL_STATUSES:
            raise ValidationError(_("status %(status)s can only be reached by completing the task")
                                  % {"status": status})
        if status not in Task.Status.values:
            raise ValidationError(_("Unknown task status %(status)s") % {"status": status})
        group = data["task_group"] if "task_group" in data else task.task_group
        if group is not None and group.is_deleted:
            raise ValidationError(_("Task group %(code)s is deleted") % {"code": group.code})
        if status == Task.Status.ACCEPTED and group is None:
            raise ValidationError(_("An ACCEPTED task must be assigned to a task group"))


class TaskGroupValidation(BaseModelValidation):
    OBJECT_TYPE = TaskGroup

    @classmethod
    def validate_code(cls, code, exclude_id=None):
        if code is None or str(code).strip() == "":
            raise ValidationError(_("code can't be empty"))
        if code != code.strip():
            raise ValidationError(_("code can't start or end with a whitespace"))
        if len(code) > 255:
            raise ValidationError(_("code can't be longer than 255 characters"))
        duplicates = TaskGroup.objects.filter(code=code, is_deleted=False)
        if exclude_id:
            duplicates = duplicates.exclude(id=exclude_id)
        if duplicates.exists():
            raise ValidationError(_("Task group code %(code)s is not unique") % {"code": code})

    @classmethod
    def validate_policy(cls, policy, threshold, executor_count):
        if policy not in TaskGroup.CompletionPolicy.values:
            raise ValidationError(_("Unknown completion policy %(policy)s") % {"policy": policy})
        if threshold is None:
            return
        if policy != TaskGroup.CompletionPolicy.N:
            raise ValidationError(_("completion threshold applies only to the N completion policy"))
        if not 1 <= int(threshold) <= executor_count:
            raise ValidationError(_("completion threshold must be between 1 and the number of executors (%(n)s)")
                                  % {"n": executor_count})

    @classmethod
    def validate_sources(cls, sources, exclude_id=None):
        if not sources:
            return
        others = TaskGroup.objects.filter(is_deleted=False, json_ext__isnull=False)
        if exclude_id:
            others = others.exclude(id=exclude_id)
        conflicts = {}
        for group in others.only("id", "code", "json_ext"):
            for source in set(group.task_sources) & set(sources):
                conflicts[source] = group.code
        if conflicts:
            raise ValidationError(_("Task sources already handled by another task group: %(c)s")
                                  % {"c": conflicts})


class TaskExecutorValidation(BaseModelValidation):
    OBJECT_TYPE = TaskExecutor

    @classmethod
    def validate_create(cls, user, **data):
        user_id = data.get("user_id") or getattr(data.get("user"), "id", None)
        validate_user_ids([user_id])
        group_id = data.get("task_group_id") or getattr(data.get("task_group"), "id", None)
        if not TaskGroup.objects.filter(id=group_id, is_deleted=False).exists():
            raise ValidationError(_("task group does not exist"))

    @classmethod
    def validate_update(cls, user, **data):
        if "user_id" in data or "user" in data:
            cls.validate_create(user, **{"task_group_id": TaskExecutor.objects.filter(id=data["id"])
                                         .values_list("task_group_id", flat=True).first(), **data})
