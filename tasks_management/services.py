"""Public service API of tasks_management (names are a contract used by other modules).

* ``TaskService(user)``: create / update / delete / resolve_task / complete_task, each a registered
  service signal ``task_service.<method>``.
* ``TaskGroupService`` / ``TaskExecutorService``: groups of executors.
* Maker-checker mixins (``CreateCheckerLogicServiceMixin`` …) turning a CRUD request into a task, and
  ``on_task_complete_service_handler(ServiceClass)`` carrying the change out when the task completes.
* Business-data serializers: ``register_business_data_serializer(name, BatchSerializer subclass)``.

Service methods raise business errors (``ValidationError``, ``PermissionDenied``); the registered service
signal (or ``service_operation``) is the boundary turning them into the openIMIS result dict.
"""
import copy
import json
import logging

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import bulk
from core.errors import ensure_success
from core.models import NO_CHANGES_MESSAGE
from core.rights import require
from core.serializers import BatchSerializer
from core.services import (
    BaseService,
    build_delete_instance_payload,
    model_representation,
    model_update,
    output_result_success,
    service_operation,
)
from core.signals import register_service_signal
from tasks_management.apps import TasksManagementConfig
from tasks_management.models import Task, TaskExecutor, TaskGroup
from tasks_management.utils import (  # noqa: F401  (public helpers re-exported here)
    crud_business_data_builder,
    flat_business_data_builder,
    merge_business_status,
    serialize_payload,
    serialize_value,
)
from tasks_management.validation import (
    TaskExecutorValidation,
    TaskGroupValidation,
    TaskValidation,
    validate_user_ids,
)

logger = logging.getLogger(__name__)


# =============================================================================================
# Tasks
# =============================================================================================
class TaskService(BaseService):
    OBJECT_TYPE = Task

    def __init__(self, user, validation_class=TaskValidation):
        super().__init__(user, validation_class)

    # --- payload normalisation -------------------------------------------------------------------
    @staticmethod
    def _normalise_entity(data):
        entity = data.pop("entity", None)
        if entity is not None:
            data["entity_type"] = ContentType.objects.get_for_model(entity)
            data["entity_id"] = str(entity.pk)
        entity_type = data.get("entity_type")
        if entity_type is not None and not isinstance(entity_type, ContentType):
            if isinstance(entity_type, type) and issubclass(entity_type, models.Model):
                data["entity_type"] = ContentType.objects.get_for_model(entity_type)
            else:
                data["entity_type"] = ContentType.objects.filter(pk=entity_type).first()
                if data["entity_type"] is None:
                    raise ValidationError(_("Unknown entity type %(t)s") % {"t": entity_type})
        if data.get("entity_type_id") is not None and data.get("entity_type") is None:
            data["entity_type"] = ContentType.objects.get(pk=data.pop("entity_type_id"))
        if data.get("entity_id") is not None:
            data["entity_id"] = str(data["entity_id"])
        return data

    @staticmethod
    def _normalise_group(data):
        if "task_group_id" in data:
            group_id = data.pop("task_group_id")
            data["task_group"] = None
            if group_id:
                data["task_group"] = TaskGroup.objects.filter(id=group_id).first()
                if data["task_group"] is None:
                    raise ValidationError(_("task group does not exist"))
        group = data.get("task_group")
        if group is not None and not isinstance(group, TaskGroup):
            data["task_group"] = TaskGroup.objects.filter(id=group).first()
            if data["task_group"] is None:
                raise ValidationError(_("task group does not exist"))
        return data

    @staticmethod
    def _normalise_json(data):
        for key in ("data", "business_status", "json_ext"):
            if key in data and data[key] is not None:
                data[key] = serialize_value(data[key])
        return data

    @staticmethod
    def route_by_source(source):
        """First non-deleted group whose ``json_ext.task_sources`` lists ``source`` (oldest group first)."""
        if not source:
            return None
        groups = TaskGroup.objects.filter(is_deleted=False, json_ext__isnull=False).order_by("date_created", "id")
        for group in groups:
            if source in group.task_sources:
                return group
        return None

    def _adjust_create_payload(self, payload_data):
        data = self._normalise_json(self._normalise_group(self._normalise_entity(payload_data)))
        data.pop("id", None)
        data.setdefault("status", Task.Status.RECEIVED)
        if not data.get("status"):
            data["status"] = Task.Status.RECEIVED
        if data.get("business_status") is None:
            data["business_status"] = {}
        if data.get("data") is None:
            data["data"] = {}
        routed = self.route_by_source(data.get("source"))
        if routed is not None:
            data["task_group"] = routed
            data["status"] = Task.Status.ACCEPTED
        elif data.get("task_group") is not None and data["status"] == Task.Status.RECEIVED:
            data["status"] = Task.Status.ACCEPTED
        return data

    def _result(self, task):
        return output_result_success({"task": model_representation(task), "user": {"id": str(self.user.id)}})

    # --- CRUD ------------------------------------------------------------------------------------
    create = register_service_signal("task_service.create")(BaseService.create)
    delete = register_service_signal("task_service.delete")(BaseService.delete)

    @register_service_signal("task_service.update")
    def update(self, obj_data):
        data = self._normalise_json(self._normalise_group(self._normalise_entity(dict(obj_data))))
        task = self.get_live(data.get("id"), lock=True)
        if task.emission_key is not None:
            return self._reassign_rule_task(task, data)
        self.validation_class.validate_update(self.user, task=task, **data)
        for key, value in data.items():
            if key not in ("id", "uuid"):
                setattr(task, key, value)
        return self.save_instance(task)

    def _reassign_rule_task(self, task, data):
        """A rule-generated task (task_rules.md §12) only changes its task group here; its state comes from
        its rule (``resolved_if``), never from a caller."""
        changed = set(data) - {"id", "uuid", "task_group"}
        if changed:
            raise ValidationError(_("A rule-generated task can only be re-assigned to another task group"))
        group = data.get("task_group")
        if group is not None and group.is_deleted:
            raise ValidationError(_("Task group %(code)s is deleted") % {"code": group.code})
        task.task_group = group
        return self.save_instance(task)

    @staticmethod
    def _refuse_rule_task(task):
        if task.emission_key is not None:
            raise ValidationError(_("A rule-generated task is completed by its rule, not by a vote"))

    # --- voting ----------------------------------------------------------------------------------
    def _check_resolver(self, task):
        """Our rule (not upstream): right + live executor of the task's group + not the maker."""
        require(self.user, "tasks_management.gql_task_search_perms")
        if task.status != Task.Status.ACCEPTED or task.task_group_id is None:
            raise ValidationError(_("Task is not assigned to a task group yet (status %(s)s)") % {"s": task.status})
        is_executor = TaskExecutor.objects.filter(
            task_group_id=task.task_group_id, task_group__is_deleted=False, user_id=self.user.id, is_deleted=False,
        ).exists()
        if not is_executor:
            raise PermissionDenied(_("You are not an executor of the task group of this task"))
        if TasksManagementConfig.maker_cannot_approve and task.user_created_id == self.user.id:
            raise PermissionDenied(_("The maker of a request cannot resolve its approval task"))

    def _own_vote(self, business_status):
        """Only the caller's own vote is accepted: ``{"<caller uuid>": "APPROVED"|"FAILED"|{ACCEPT,REJECT}}``."""
        if isinstance(business_status, str):
            try:
                business_status = json.loads(business_status)
            except ValueError:
                raise ValidationError(_("businessStatus must be a JSON object"))
        if not isinstance(business_status, dict) or len(business_status) != 1:
            raise ValidationError(_("businessStatus must hold exactly one vote, keyed by your user id"))
        (key, value), = business_status.items()
        if str(key) != str(self.user.id):
            raise PermissionDenied(_("You can only record your own vote"))
        tokens = (TasksManagementConfig.task_user_approved, TasksManagementConfig.task_user_failed)
        if isinstance(value, str):
            if value not in tokens:
                raise ValidationError(_("A vote must be one of %(t)s") % {"t": ", ".join(tokens)})
        elif isinstance(value, dict):
            if not value or set(value) - {"ACCEPT", "REJECT"} or not all(isinstance(v, list) for v in value.values()):
                raise ValidationError(_("A partial vote must be {\"ACCEPT\": [...], \"REJECT\": [...]}"))
            value = {k: serialize_value(v) for k, v in value.items()}
        else:
            raise ValidationError(_("A vote must be a string or a partial ACCEPT/REJECT object"))
        return {str(self.user.id): value}

    @register_service_signal("task_service.resolve_task")
    def resolve_task(self, obj_data):
        task = self.get_live(obj_data.get("id"), lock=True)
        self._refuse_rule_task(task)
        TaskValidation.validate_not_terminal(task)
        self._check_resolver(task)
        vote = self._own_vote(obj_data.get("business_status"))
        changes = {"business_status": merge_business_status(task.business_status, vote)}
        additional = obj_data.get("additional_data")
        if additional is not None:
            json_ext = dict(task.json_ext or {})
            json_ext["additional_resolve_data"] = {**(json_ext.get("additional_resolve_data") or {}),
                                                   str(self.user.id): serialize_value(additional)}
            changes["json_ext"] = json_ext
        # the same vote sent again changes nothing: still a success, without a history row
        task, _changed = model_update(task, fields=list(changes), data=changes, user=self.user)
        return self._result(task)

    @register_service_signal("task_service.complete_task")
    def complete_task(self, obj_data):
        task = self.get_live(obj_data.get("id"), lock=True)
        self._refuse_rule_task(task)
        # our rule: completing a terminal task is refused, so a business effect never runs twice
        TaskValidation.validate_not_terminal(task)
        task.status = Task.Status.FAILED if obj_data.get("failed") else Task.Status.COMPLETED
        task.save(user=self.user)
        return self._result(task)


# ---------------------------------------------------------------------------------------------
# Generic resolver: completion policies (bound AFTER task_service.resolve_task)
# ---------------------------------------------------------------------------------------------
def required_approvals(group, executor_count):
    """How many APPROVED votes of live executors complete a task of ``group``."""
    policy = group.completion_policy
    if policy == TaskGroup.CompletionPolicy.ANY:
        return 1
    if policy == TaskGroup.CompletionPolicy.ALL:
        return executor_count
    if policy == TaskGroup.CompletionPolicy.N:
        return group.completion_threshold or executor_count // 2 + 1
    raise ValidationError(_("Unknown completion policy %(p)s") % {"p": policy})


def evaluate_completion_policy(task, user):
    """Decide on the locked ``task``: ``(failed: bool)`` to complete it, or ``None`` to keep waiting."""
    approved = TasksManagementConfig.task_user_approved
    failed = TasksManagementConfig.task_user_failed
    votes = {k: v for k, v in (task.business_status or {}).items() if isinstance(v, str)}
    if any(v == failed for v in votes.values()):
        return True  # FAILED wins and evaluation stops
    group = task.task_group
    executors = set()
    if not group.is_deleted:
        executors = {str(u) for u in TaskExecutor.objects.filter(task_group=group, is_deleted=False)
                     .values_list("user_id", flat=True)}
    if not executors:
        logger.warning("Task %s: group %s has no live executor", task.id, group.code)
        return None
    approvals = sum(1 for key, value in votes.items() if value == approved and key in executors)
    if approvals >= required_approvals(group, len(executors)):
        return False
    return None


def on_task_resolve(**kwargs):
    """Completes the task when its group's policy is satisfied (ALL / ANY / N of M)."""
    result = kwargs.get("result") or {}
    if not result.get("success"):
        return None
    try:
        task_data = result["data"]["task"]
        if task_data.get("status") != Task.Status.ACCEPTED:
            return None
        if task_data.get("executor_action_event") != TasksManagementConfig.default_executor_event:
            return None
        user = get_user_model().objects.get(id=result["data"]["user"]["id"])
        with transaction.atomic():
            task = Task.objects.select_for_update().filter(id=task_data["id"]).first()
            if task is None or task.status != Task.Status.ACCEPTED:
                return None  # completed meanwhile by a concurrent vote
            if task.task_group_id is None:
                logger.error("Task %s not assigned to TaskGroup", task.id)
                return ["Task not assigned to TaskGroup"]
            decision = evaluate_completion_policy(task, user)
            if decision is None:
                return None
            completed = TaskService(user).complete_task({"id": str(task.id), "failed": decision})
            if not completed.get("success"):
                return [f"{completed.get('message')}: {completed.get('detail')}"]
    except Exception as exc:
        logger.exception("Generic task resolver failed")
        return [f"Task resolver failed: {exc.__class__.__name__}"]
    return None


# =============================================================================================
# Task groups and executors
# =============================================================================================
class TaskExecutorService(BaseService):
    OBJECT_TYPE = TaskExecutor

    def __init__(self, user, validation_class=TaskExecutorValidation):
        super().__init__(user, validation_class)

    create = register_service_signal("task_executor_service.create")(BaseService.create)
    update = register_service_signal("task_executor_service.update")(BaseService.update)
    delete = register_service_signal("task_executor_service.delete")(BaseService.delete)


def _sources(values):
    return sorted(set(values or []))


def _allowed_sources(values):
    """``{"task_allowed_sources": [...]}`` in the given order, without repetitions (spec §4.1, our rule)."""
    return {"task_allowed_sources": list(dict.fromkeys(values or []))}


class TaskGroupService(BaseService):
    OBJECT_TYPE = TaskGroup

    def __init__(self, user, validation_class=TaskGroupValidation):
        super().__init__(user, validation_class)

    def _set_executors(self, group, user_ids):
        """Make the live executors of ``group`` exactly ``user_ids`` (soft delete + insert, with history rows);
        True when the membership changed."""
        live = TaskExecutor.objects.filter(task_group=group, is_deleted=False)
        current = set(live.values_list("user_id", flat=True))
        wanted = set(user_ids)
        if current - wanted:
            bulk.soft_delete_with_history(live.exclude(user_id__in=wanted), user=self.user)
        added = [{"user_id": uid, "task_group_id": group.id} for uid in user_ids if uid not in current]
        if added:
            bulk.insert_rows(TaskExecutor, added, user=self.user)
        return bool(current - wanted or added)

    @register_service_signal("task_group_service.create")
    def create(self, obj_data):
        user_ids = validate_user_ids(obj_data.get("user_ids"))
        code, policy = obj_data.get("code"), obj_data.get("completion_policy")
        threshold = obj_data.get("completion_threshold")
        sources = _sources(obj_data.get("task_sources"))
        self.validation_class.validate_code(code)
        self.validation_class.validate_policy(policy, threshold, len(user_ids))
        self.validation_class.validate_sources(sources)
        group = TaskGroup(code=code, completion_policy=policy, completion_threshold=threshold,
                          json_ext={**(obj_data.get("json_ext") or {}), "task_sources": sources},
                          task_allowed_sources=_allowed_sources(obj_data.get("task_allowed_sources")))
        group.save(user=self.user)
        self._set_executors(group, user_ids)
        return output_result_success(model_representation(group))

    def _changes(self, group, obj_data):
        """The validated new values of the group's own fields (executors aside)."""
        changes = {}
        if "code" in obj_data:
            self.validation_class.validate_code(obj_data["code"], exclude_id=group.id)
            changes["code"] = obj_data["code"]
        if obj_data.get("completion_policy"):
            changes["completion_policy"] = obj_data["completion_policy"]
        if "completion_threshold" in obj_data:
            changes["completion_threshold"] = obj_data["completion_threshold"]
        if changes.get("completion_policy", group.completion_policy) != TaskGroup.CompletionPolicy.N:
            changes["completion_threshold"] = None
        if obj_data.get("task_sources") is not None:
            sources = _sources(obj_data["task_sources"])
            self.validation_class.validate_sources(sources, exclude_id=group.id)
            changes["json_ext"] = {**(group.json_ext or {}), "task_sources": sources}
        if obj_data.get("task_allowed_sources") is not None:
            changes["task_allowed_sources"] = _allowed_sources(obj_data["task_allowed_sources"])
        return changes

    @register_service_signal("task_group_service.update")
    def update(self, obj_data):
        group = self.get_live(obj_data.get("id"), lock=True)
        changes = self._changes(group, obj_data)
        executors_changed = False
        if obj_data.get("user_ids") is not None:
            executors_changed = self._set_executors(group, validate_user_ids(obj_data["user_ids"]))
        executor_count = TaskExecutor.objects.filter(task_group=group, is_deleted=False).count()
        self.validation_class.validate_policy(changes.get("completion_policy", group.completion_policy),
                                              changes.get("completion_threshold", group.completion_threshold),
                                              executor_count)
        group, changed = model_update(group, fields=list(changes), data=changes, user=self.user)
        if not (changed or executors_changed):
            # as any update of the platform, a request that changes nothing is refused (spec §2)
            raise ValidationError(NO_CHANGES_MESSAGE)
        return output_result_success(model_representation(group))

    @register_service_signal("task_group_service.delete")
    def delete(self, obj_data):
        group = self.get_live(obj_data.get("id"), lock=True)
        self._set_executors(group, [])  # our rule: executors are soft-deleted too (with history)
        group.delete(user=self.user)
        return build_delete_instance_payload()


# =============================================================================================
# Maker-checker (CRUD approval) mixins
# =============================================================================================
class _CheckerLogicBase:
    """Shared by the mixins; combine with a core ``BaseService`` subclass (OBJECT_TYPE, validation_class).

    A service using them declares ``CHECKER_SOURCE``: the task ``source`` and the prefix of its
    ``business_event`` (``"<CHECKER_SOURCE>.<operation>"``), a constant so that renaming the class never
    orphans pending tasks; and ``BUSINESS_DATA_SERIALIZER``, the registered name of the batch serializer
    that makes its task data readable (``register_business_data_serializer``), or None.
    """

    CHECKER_SOURCE = None
    BUSINESS_DATA_SERIALIZER = None
    # operations beyond create/update/delete whose approval tasks the service creates itself (with
    # ``_create_checker_task(obj_data, "<operation>")``) and which the completion handler replays
    CHECKER_EXTRA_OPERATIONS = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if getattr(cls, "OBJECT_TYPE", None) is not None and not cls.CHECKER_SOURCE:
            raise ImproperlyConfigured(f"{cls.__name__} uses maker-checker but declares no CHECKER_SOURCE")

    @staticmethod
    def _current_data(entity, incoming):
        current = {}
        for key in incoming:
            if key in ("id", "uuid"):
                continue
            value = getattr(entity, key, None)
            if isinstance(value, models.Model):
                value = value.pk
            current[key] = serialize_value(value)
        return current

    def _create_checker_task(self, obj_data, operation):
        """The approval task of ``operation`` on ``obj_data``, validated as the operation itself would be."""
        obj_data = dict(obj_data or {})
        getattr(self.validation_class, f"validate_{operation}")(self.user, **obj_data)
        incoming = serialize_payload(obj_data)
        task_data = {
            "source": self.CHECKER_SOURCE,
            "business_event": f"{self.CHECKER_SOURCE}.{operation}",
            "executor_action_event": TasksManagementConfig.default_executor_event,
            "business_data_serializer": self.BUSINESS_DATA_SERIALIZER,
            "data": {"incoming_data": incoming, "current_data": {}},
        }
        if operation in ("update", "delete"):
            entity = self.get_live(obj_data.get("id"))
            task_data["entity"] = entity
            if operation == "update":
                task_data["data"]["current_data"] = self._current_data(entity, incoming)
        elif operation != "create":  # an extra operation (CHECKER_EXTRA_OPERATIONS), e.g. undo_delete
            entity = self.OBJECT_TYPE.objects.filter(id=obj_data.get("id")).first()
            if entity is None:
                raise ValidationError(_("%(model)s %(id)s does not exist") % {
                    "model": self.OBJECT_TYPE.__name__, "id": obj_data.get("id")})
            task_data["entity"] = entity
        return ensure_success(TaskService(self.user).create(task_data))


class CreateCheckerLogicServiceMixin(_CheckerLogicBase):
    @service_operation("create_create_task")
    def create_create_task(self, obj_data):
        return self._create_checker_task(obj_data, "create")


class UpdateCheckerLogicServiceMixin(_CheckerLogicBase):
    @service_operation("create_update_task")
    def create_update_task(self, obj_data):
        return self._create_checker_task(obj_data, "update")


class DeleteCheckerLogicServiceMixin(_CheckerLogicBase):
    @service_operation("create_delete_task")
    def create_delete_task(self, obj_data):
        return self._create_checker_task(obj_data, "delete")


class CheckerLogicServiceMixin(CreateCheckerLogicServiceMixin, UpdateCheckerLogicServiceMixin,
                               DeleteCheckerLogicServiceMixin):
    pass


def supported_checker_operations(service_class):
    operations = set()
    if issubclass(service_class, CreateCheckerLogicServiceMixin):
        operations.add("create")
    if issubclass(service_class, UpdateCheckerLogicServiceMixin):
        operations.add("update")
    if issubclass(service_class, DeleteCheckerLogicServiceMixin):
        operations.add("delete")
    operations.update(getattr(service_class, "CHECKER_EXTRA_OPERATIONS", ()))
    return operations


def record_business_effect(task_id, user, success, message="", detail=""):
    """Store the outcome of a completed task's business effect in ``task.json_ext["business_effect"]``.

    ``{"success", "message", "detail", "date"}`` (ISO date-time), saved as ``user`` (a history row). Only the
    task's ``json_ext`` changes: the effect is not run again and the task status stays as it is.
    """
    with transaction.atomic():
        task = Task.objects.select_for_update().filter(id=task_id).first()
        if task is None:
            logger.error("Cannot record the business effect of task %s: task not found", task_id)
            return None
        json_ext = dict(task.json_ext or {})
        json_ext["business_effect"] = {
            "success": bool(success),
            "message": str(message or ""),
            "detail": str(detail or ""),
            "date": timezone.now().isoformat(),
        }
        task.json_ext = json_ext
        task.save(user=user)
        return task


def on_task_complete_service_handler(service_class):
    """A ``task_service.complete_task`` listener running the approved change as the completing checker.

    The outcome is recorded on the task (``json_ext.business_effect``, see ``record_business_effect``):
    success, a failure result of the service, or an exception (only its class name is stored: internal
    exception text never reaches clients). The effect runs inside a savepoint, so a failing effect leaves
    no partial change and the task stays ``COMPLETED`` with the failure visible.
    """
    prefix = f"{service_class.CHECKER_SOURCE}."
    operations = supported_checker_operations(service_class)

    def handler(**kwargs):
        result = kwargs.get("result") or {}
        if not result.get("success"):
            return None
        task = result.get("data", {}).get("task") or {}
        if task.get("status") != Task.Status.COMPLETED:
            return None  # FAILED: the requested change is discarded
        event = task.get("business_event") or ""
        if not event.startswith(prefix):
            return None
        operation = event[len(prefix):]
        if operation not in operations:
            return None
        checker = None
        try:
            checker = get_user_model().objects.get(id=result["data"]["user"]["id"])
            incoming = copy.deepcopy((task.get("data") or {}).get("incoming_data") or {})
            with transaction.atomic():  # savepoint: an exception leaves nothing behind and the transaction usable
                outcome = getattr(service_class(checker), operation)(incoming)
        except Exception as exc:
            logger.exception("Completion handler of %s failed for task %s", service_class.__name__, task.get("id"))
            message = f"{service_class.__name__} completion handler failed"
            _record_safely(task.get("id"), checker, False, message, exc.__class__.__name__)
            return [f"{message}: {exc.__class__.__name__}"]
        if isinstance(outcome, dict) and not outcome.get("success", True):
            logger.error("Approved %s of task %s failed: %s %s", event, task.get("id"),
                         outcome.get("message"), outcome.get("detail"))
            _record_safely(task.get("id"), checker, False, outcome.get("message"), outcome.get("detail"))
            return [f"{outcome.get('message')}: {outcome.get('detail')}"]
        _record_safely(task.get("id"), checker, True, "Ok", "")
        return None

    handler.__name__ = f"on_{service_class.__name__}_task_complete"
    return handler


def _record_safely(task_id, user, success, message, detail):
    if user is None:
        logger.error("Cannot record the business effect of task %s: completing user unknown", task_id)
        return
    try:
        record_business_effect(task_id, user, success, message, detail)
    except Exception:
        logger.exception("Recording the business effect of task %s failed", task_id)


# =============================================================================================
# Public helpers for other modules


# =============================================================================================
# Public helpers for other modules
# =============================================================================================
TaskStatus = Task.Status


def task_of_result(kwargs):
    """``(task dict, acting user id)`` of a successful ``task_service.*`` result handed to an AFTER receiver,
    else ``(None, None)``."""
    result = kwargs.get("result") or {}
    if not result.get("success"):
        return None, None
    data = result.get("data") or {}
    task = data.get("task") or {}
    user_id = (data.get("user") or {}).get("id")
    if not task or not user_id:
        return None, None
    return task, user_id


def default_executor_event():
    return TasksManagementConfig.default_executor_event


def _pending_tasks(entity_ids, business_events):
    pending = Task.objects.filter(entity_id__in=[str(i) for i in entity_ids], status__in=Task.PENDING_STATUSES,
                                  is_deleted=False, emission_key__isnull=True)
    if business_events is not None:
        pending = pending.filter(business_event__in=business_events)
    return pending


def pending_task_exists(entity_ids, business_event=None):
    """True when a maker-checker task (RECEIVED/ACCEPTED, not rule-generated) is pending on any of these
    entities (optionally for one business event)."""
    return _pending_tasks(entity_ids, None if business_event is None else [business_event]).exists()


def pending_task_ids(entity_ids, business_events=None):
    """Ids of the pending maker-checker tasks on these entities (optionally for these business events)."""
    return list(_pending_tasks(entity_ids, business_events).order_by("date_created").values_list("id", flat=True))


def pending_task(entity_id, business_event, scope=None):
    """The pending maker-checker task on ``entity_id`` for ``business_event`` (and ``json_ext.task_scope``
    ``scope``), or None."""
    pending = _pending_tasks([entity_id], [business_event])
    if scope is None:
        pending = pending.filter(models.Q(json_ext__isnull=True) | models.Q(json_ext__task_scope__isnull=True))
    else:
        pending = pending.filter(json_ext__task_scope=str(scope))
    return pending.order_by("date_created").first()


BUSINESS_DATA_SERIALIZERS = {}


def register_business_data_serializer(name, serializer_class):
    """Register a ``core.serializers.BatchSerializer`` under ``name`` (the value services declare as
    ``BUSINESS_DATA_SERIALIZER`` and tasks store): ``businessData`` of a page of tasks is then built with one
    ``get_attrs`` per serializer, not one lookup per task. Call it from the module's ``ready()``."""
    if not (isinstance(serializer_class, type) and issubclass(serializer_class, BatchSerializer)):
        raise ImproperlyConfigured(f"business data serializer {name}: {serializer_class!r} is not a BatchSerializer")
    registered = BUSINESS_DATA_SERIALIZERS.setdefault(name, serializer_class)
    if registered is not serializer_class:
        raise ImproperlyConfigured(f"business data serializer {name} is already registered ({registered!r})")


def business_data_serializer(name):
    """The serializer class registered under ``name``, or None."""
    return BUSINESS_DATA_SERIALIZERS.get(name)


# =============================================================================================
# Rule-generated tasks (task_rules.md): the public API other modules register with
# =============================================================================================
from tasks_management.rules.registry import (  # noqa: E402,F401  (public: modules' task_rules modules use it)
    ContactAdapter,
    ReportSource,
    register_contact_type,
    register_report_source,
    register_rule,
    rules_hash,
)
from tasks_management.rules.schema import TaskAction, TaskEvent, TaskRule  # noqa: E402,F401
from tasks_management.rules.sources import chunk_memo, rows as rule_rows  # noqa: E402,F401
from tasks_management.rules import utils as rule_utils  # noqa: E402,F401


class TaskRulesSignals:
    """Sender of ``task_rules.state_changed`` (after; ``result = {task, old_state, new_state, reason}``)."""

    @register_service_signal("task_rules.state_changed", boundary=False)
    def state_changed(self, change):
        return change


def state_changed_has_listeners():
    from core.signals import REGISTERED_SERVICE_SIGNALS

    registered = REGISTERED_SERVICE_SIGNALS["task_rules.state_changed"]
    return registered.after_service_signal.has_listeners() or registered.before_service_signal.has_listeners()


def refresh_rule_tasks(subjects=None, rule_names=None, **kwargs):
    """Run the rules engine now (see ``tasks_management.rules.engine.refresh``)."""
    from tasks_management.rules.engine import refresh

    return refresh(subjects=subjects, rule_names=rule_names, **kwargs)


def mark_rule_subjects_dirty(subjects):
    """Mark ``[(model label, id)]`` dirty and queue a debounced refresh once the transaction commits."""
    from tasks_management.rules.triggers import schedule_dirty

    schedule_dirty(subjects)


def queue_rule_task_refresh(contact_ids=None, rule_names=None):
    """Queue (once the transaction commits) a refresh of the subjects with these ids — whatever their kind —
    or of every dirty subject; unknown rule names are refused."""
    from core.scheduling import enqueue_on_commit
    from tasks_management.rules.registry import RULES
    from tasks_management.rules.sources import find_subjects
    from tasks_management.tasks import refresh_rule_tasks as refresh_task

    unknown = sorted(set(rule_names or ()) - set(RULES))
    if unknown:
        raise ValidationError(_("Unknown task rules: %(names)s") % {"names": ", ".join(unknown)})
    subjects = [list(s) for s in find_subjects(contact_ids)] if contact_ids else None
    if contact_ids and not subjects:
        raise ValidationError(_("No contact with these ids"))
    enqueue_on_commit(refresh_task, subjects=subjects, rule_names=list(rule_names) if rule_names else None)
