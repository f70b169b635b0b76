"""All writes of the individual registry: individuals, groups, memberships, data sources; and the extension
point through which a programme module tells the registry who is enrolled where.

Service methods raise business errors; the registered service signal (or ``service_operation``) is the boundary
that answers the openIMIS result dict.
"""
import copy
import datetime
import uuid

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import bulk
from core.errors import ensure_success
from core.models import NO_CHANGES_MESSAGE
from core.services import (
    BaseService,
    build_delete_instance_payload,
    model_representation,
    model_update,
    output_result_success,
    service_operation,
)
from core.signals import register_service_signal
from individual.apps import IndividualConfig
from individual.membership import align_group_after_membership_change, sync_group_json_ext
from individual.models import Group, GroupDataSource, GroupIndividual, Individual, IndividualDataSource
from individual.models import IndividualDataSourceUpload
from individual.selectors import groups_selectable, has_head, heads_of, individuals_without_group
from individual.validation import GroupIndividualValidation, GroupValidation, IndividualValidation

UploadStatus = IndividualDataSourceUpload.Status


# --- extension point: programmes (implemented by a higher module, e.g. social_protection) -------------------
class Programmes:
    """Who is a beneficiary of which programme, asked by the registry's lists, summaries and selections.

    The registry knows no programme itself: a module that enrols individuals and groups registers a subclass
    with :func:`register_programmes` in its ``ready()``. This default answers "no programme exists".
    """

    def individual_ids(self, plan_id=None):
        """Ids (a ``values(...)`` subquery) of individuals enrolled in ``plan_id`` (any plan when None)."""
        return Individual.objects.none().values("id")

    def group_ids(self, plan_id=None):
        """Ids (a subquery) of groups enrolled in ``plan_id`` (any plan when None)."""
        return Group.objects.none().values("id")

    def plan_schema(self, plan_id):
        """The JSON Schema of the beneficiary attributes of ``plan_id`` (custom-filter wizard), or None."""
        return None

    def enrolled(self, plan_id=None, group=False):
        """A condition on an individual (a group when ``group``), the outer row: it is enrolled in ``plan_id``
        (any plan when None). Defaults to ``pk IN (ids)``; an implementation answers a semi-join (``Exists``)."""
        ids = self.group_ids(plan_id) if group else self.individual_ids(plan_id)
        return Q(pk__in=ids)


_programmes = Programmes()


def register_programmes(implementation):
    global _programmes
    _programmes = implementation
    return implementation


def programmes():
    return _programmes


def _selection(noun, candidates, benefit_plan_id, status, user, custom_filters):
    """The ``<noun>s`` selected for an enrolment into ``benefit_plan_id``, split by whether they are enrolled, and
    the criteria that made the selection (``criteria``: an :class:`EnrolmentSelection`, what an approval step
    stores instead of the selected rows)."""
    if not benefit_plan_id:
        return None
    group = noun == "group"
    enrolled = programmes().enrolled(benefit_plan_id, group=group)
    return {
        f"{noun}s_assigned_to_selected_programme": candidates.filter(enrolled),
        f"{noun}s_not_assigned_to_selected_programme": candidates.exclude(enrolled),
        f"{noun}_query_with_filters": candidates,
        "benefit_plan_id": benefit_plan_id,
        "status": status,
        "user": user,
        "criteria": EnrolmentSelection(group=group, custom_filters=custom_filters, benefit_plan_id=benefit_plan_id,
                                       status=status, user_id=getattr(user, "pk", None)),
    }


# --- enrolment by criteria, stored instead of its rows -------------------------------------------------------
ENROLMENT_SELECTION_KEY = "enrolment_selection"  # the key of an upload's json_ext holding its criteria
_MAKER = object()  # "as the stored maker selects": the default user of a stored selection's queries


class EnrolmentSelection:
    """An enrolment by criteria as an approval step keeps it: individuals (without a household) or groups, the
    custom filters, the plan and status, the maker (whose row security the selection keeps) and the snapshot
    time — never the selected rows. Re-running it (:meth:`to_enrol`) answers, set-based:

    * rows created after the snapshot are not part of the request;
    * rows changed after it (``date_updated`` later) are skipped (:meth:`changed` counts them): the checker
      approved what the maker saw;
    * rows that no longer match (criteria, household, deletion, the maker's row security) or that were enrolled
      meanwhile are not enrolled; groups without a live HEAD are skipped, as on the direct path.
    """

    def __init__(self, *, group, custom_filters, benefit_plan_id, status, user_id=None, snapshot=None):
        self.group = bool(group)
        self.custom_filters = list(custom_filters or [])
        self.benefit_plan_id = str(benefit_plan_id) if benefit_plan_id else None
        self.status = getattr(status, "value", status)
        self.user_id = str(user_id) if user_id else None
        self.snapshot = snapshot

    def taken_now(self, **changes):
        """This selection with its snapshot taken now (and ``changes``: e.g. the plan id as stored)."""
        values = {"group": self.group, "custom_filters": self.custom_filters, "benefit_plan_id": self.benefit_plan_id,
                  "status": self.status, "user_id": self.user_id, **changes}
        return EnrolmentSelection(**values, snapshot=timezone.now())

    def as_json(self):
        return {"group": self.group, "custom_filters": self.custom_filters, "benefit_plan_id": self.benefit_plan_id,
                "status": self.status, "user_id": self.user_id,
                "snapshot": self.snapshot.isoformat() if self.snapshot else None}

    @classmethod
    def from_json(cls, data):
        """The selection stored in ``data`` (an upload's ``json_ext[ENROLMENT_SELECTION_KEY]``), or None."""
        if not isinstance(data, dict) or not data.get("snapshot"):
            return None
        return cls(group=data.get("group"), custom_filters=data.get("custom_filters"),
                   benefit_plan_id=data.get("benefit_plan_id"), status=data.get("status"), user_id=data.get("user_id"),
                   snapshot=parse_datetime(data["snapshot"]))

    def user(self):
        """The maker (None: the system, no row security)."""
        if not self.user_id:
            return None
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=self.user_id).first()

    def _pending(self, user=_MAKER):
        """Candidates as at the snapshot, not enrolled in the plan, as ``user`` selects them (default: the maker,
        loaded; None: the system)."""
        user = self.user() if user is _MAKER else user
        select = groups_selectable if self.group else individuals_without_group
        rows = select(self.custom_filters, user).filter(
            Q(date_created__lte=self.snapshot) | Q(date_created__isnull=True))
        if self.group:
            rows = rows.filter(has_head())
        return rows.exclude(programmes().enrolled(self.benefit_plan_id, group=self.group))

    def to_enrol(self, user=_MAKER):
        """The individuals (groups) the approval enrols: pending and unchanged since the snapshot."""
        return self._pending(user).filter(Q(date_updated__lte=self.snapshot) | Q(date_updated__isnull=True))

    def changed(self, user=_MAKER):
        """Pending candidates changed after the snapshot: skipped, counted."""
        return self._pending(user).filter(date_updated__gt=self.snapshot)

    def people(self, user=_MAKER):
        """The individuals the approval concerns: those enrolled, or the HEAD of each group enrolled."""
        rows = self.to_enrol(user)
        return heads_of(rows) if self.group else rows


def enrolment_selection_of_upload(upload_id):
    """``(upload, EnrolmentSelection or None)`` of an upload (``(None, None)`` when there is none)."""
    upload = IndividualDataSourceUpload.objects.filter(pk=upload_id).first() if upload_id else None
    if upload is None:
        return None, None
    json_ext = upload.json_ext if isinstance(upload.json_ext, dict) else {}
    return upload, EnrolmentSelection.from_json(json_ext.get(ENROLMENT_SELECTION_KEY))


# --- maker-checker mixins (tasks_management, optional) -----------------------------------------------------
class _MakerCheckerUnavailable:
    @staticmethod
    def _unavailable(op):
        return {"success": False, "message": f"Failed to create_{op}_task",
                "detail": "Maker-checker needs the tasks_management module", "data": ""}


class _CreateCheckerFallback(_MakerCheckerUnavailable):
    def create_create_task(self, obj_data):
        return self._unavailable("create")


class _UpdateCheckerFallback(_MakerCheckerUnavailable):
    def create_update_task(self, obj_data):
        return self._unavailable("update")


class _DeleteCheckerFallback(_MakerCheckerUnavailable):
    def create_delete_task(self, obj_data):
        return self._unavailable("delete")


def _checker_mixins():
    if apps.is_installed("tasks_management"):
        from tasks_management.services import (
            CreateCheckerLogicServiceMixin,
            DeleteCheckerLogicServiceMixin,
            UpdateCheckerLogicServiceMixin,
        )

        return CreateCheckerLogicServiceMixin, UpdateCheckerLogicServiceMixin, DeleteCheckerLogicServiceMixin
    return _CreateCheckerFallback, _UpdateCheckerFallback, _DeleteCheckerFallback


CreateChecker, UpdateChecker, DeleteChecker = _checker_mixins()


def _plain(value):
    if isinstance(value, (uuid.UUID, datetime.date, datetime.datetime)):
        return str(value)
    return value


def _choice(value):
    return getattr(value, "value", value) or None


# --- individuals --------------------------------------------------------------------------------
class IndividualService(BaseService, UpdateChecker, DeleteChecker, signals="individual_service"):
    CHECKER_SOURCE = "IndividualService"
    BUSINESS_DATA_SERIALIZER = "individual.IndividualService"
    CHECKER_EXTRA_OPERATIONS = ("undo_delete",)
    OBJECT_TYPE, VALIDATION = Individual, IndividualValidation

    def needs_approval(self, operation, obj_data):
        """Reversing a deletion is approved like the deletion itself (``check_individual_delete``)."""
        return operation == "undo_delete" and bool(IndividualConfig.check_individual_delete)

    @service_operation("create_undo_delete_task")
    def create_undo_delete_task(self, obj_data):
        """The approval task of ``undo_delete`` (business event ``IndividualService.undo_delete``)."""
        if not hasattr(self, "_create_checker_task"):
            raise ValidationError("Maker-checker needs the tasks_management module")
        return self._create_checker_task(obj_data, "undo_delete")

    def _adjust_create_payload(self, payload_data):
        """On create as on update, the names and dob inside json_ext follow the top-level values."""
        return self._sync_json_ext(payload_data, None)

    def _adjust_update_payload(self, payload_data):
        """The names and dob inside json_ext follow the top-level values (spec §6.1)."""
        return self._sync_json_ext(payload_data, Individual.objects.filter(id=payload_data.get("id")).first())

    @staticmethod
    def _sync_json_ext(payload_data, current):
        json_ext = payload_data.get("json_ext")
        source = copy.deepcopy(json_ext if json_ext is not None else (current.json_ext if current else None))
        if not isinstance(source, dict):
            return payload_data
        changed = False
        for key in ("first_name", "last_name", "dob"):
            if key in payload_data and key in source and str(source[key]) != str(payload_data[key]):
                source[key] = _plain(payload_data[key])
                changed = True
        if changed or json_ext is not None:
            payload_data["json_ext"] = source
        return payload_data

    @register_service_signal("individual_service.undo_delete")
    def undo_delete(self, obj_data):
        self.validation_class.validate_undo_delete(self.user, **obj_data)
        obj = Individual.objects.select_for_update().get(id=obj_data.get("id"))
        obj.is_deleted = False
        obj.save(user=self.user)
        return output_result_success(model_representation(obj))

    @register_service_signal("individual_service.select_individuals_to_benefit_plan", boundary=False)
    def select_individuals_to_benefit_plan(self, custom_filters, benefit_plan_id, status, user):
        """The selection of a confirmed enrolment (spec §6.4); a programme module enrols it (AFTER signal)."""
        return _selection("individual", individuals_without_group(custom_filters, user or self.user),
                          benefit_plan_id, status, user or self.user, custom_filters)

    @register_service_signal("individual_service.create_accept_enrolment_task", boundary=False)
    def create_accept_enrolment_task(self, individual_queryset, benefit_plan_id):
        """Hook for an approval step on enrolment (empty upstream too)."""
        return None


class IndividualDataSourceService(BaseService, signals="individual_data_source_service"):
    OBJECT_TYPE = IndividualDataSource


class IndividualDataSourceUploadService(BaseService):
    """Uploads and their data sources, also those a programme module writes for an approval (enrolment).

    ``open_upload``, ``add_sources`` and ``set_status`` run inside the caller's operation (they raise)."""

    OBJECT_TYPE = IndividualDataSourceUpload

    def open_upload(self, *, source_name, source_type, status=UploadStatus.PENDING, json_ext=None):
        upload = IndividualDataSourceUpload(source_name=source_name, source_type=source_type, status=status,
                                            json_ext=json_ext or {})
        upload.save(user=self.user)
        return upload

    def add_sources(self, upload_id, source, *, individual=F("id"), json_ext=F("json_ext"), now=None):
        """One data source of ``upload_id`` per row of ``source`` (any queryset), linked to the individual
        ``individual`` and holding ``json_ext`` (expressions over ``source``), with history rows, set-based."""
        return bulk.insert_from_select(IndividualDataSource, source, {
            "individual": individual,
            "upload": bulk.constant(upload_id, IndividualDataSource, "upload"),
            "validations": bulk.constant({}, IndividualDataSource, "validations"),
            "json_ext": json_ext,
        }, user=self.user, now=now)

    @service_operation("request approval")
    def request_approval(self, upload_id):
        """The approval task of a staged upload that has none (the REST step create_task_with_importing_...)."""
        from individual.imports import request_approval

        request_approval(upload_id, self.user)
        return output_result_success({"upload_id": str(upload_id)})

    def set_status(self, upload_id, status, error=None):
        """``(upload, changed)``: the upload's status and error, saved (with history) only when they change."""
        upload = IndividualDataSourceUpload.objects.get(id=upload_id)
        return model_update(upload, fields=["status", "error"], data={"status": status, "error": error or {}},
                            user=self.user)


class GroupDataSourceService(BaseService):
    OBJECT_TYPE = GroupDataSource


# --- extension point: group filters of the ``group`` query's ``additionalFilter`` (e.g. policy_notification) ---
_group_filters = {}


def register_group_filter(name, function):
    """``function(queryset, value) -> queryset`` applied when the ``additionalFilter`` JSON of the ``group``
    query has the key ``name`` (upstream's ``signal_before_family_query`` hook). A higher module registers it
    in its ``ready()``; an invalid value raises ``ValidationError``."""
    _group_filters[name] = function
    return function


def apply_group_filters(queryset, additional_filter):
    """The registered group filters named by ``additional_filter`` (a dict; unknown keys are ignored)."""
    if additional_filter in (None, ""):
        return queryset
    if not isinstance(additional_filter, dict):
        raise ValidationError("additionalFilter must be a JSON object")
    for name, value in additional_filter.items():
        function = _group_filters.get(name)
        if function is not None:
            queryset = function(queryset, value)
    return queryset


# --- groups -------------------------------------------------------------------------------------
def _membership_payload(item, group_id=None):
    data = {"individual_id": item.get("individual_id"), "group_id": group_id or item.get("group_id")}
    for key in ("role", "recipient_type"):
        data[key] = _choice(item.get(key))
    return data


def _household_recipients(group_id):
    """``(head individual id, primary recipient individual id)`` of the group's live memberships (str or None)."""
    head = primary = None
    for individual_id, role, recipient_type in GroupIndividual.objects.filter(
            group_id=group_id, is_deleted=False).values_list("individual_id", "role", "recipient_type"):
        if role == GroupIndividual.Role.HEAD:
            head = str(individual_id)
        if recipient_type == GroupIndividual.RecipientType.PRIMARY:
            primary = str(individual_id)
    return head, primary


def _takes_over(item, head, primary):
    """A new member given the role HEAD or the PRIMARY recipient type while the group already has one."""
    individual_id = str(item.get("individual_id"))
    return ((_choice(item.get("role")) == GroupIndividual.Role.HEAD and head not in (None, individual_id))
            or (_choice(item.get("recipient_type")) == GroupIndividual.RecipientType.PRIMARY
                and primary not in (None, individual_id)))


def _household_checked():
    """The household head and primary recipient (who is paid) change only through the checker while
    ``check_group_individual_update`` is on."""
    return bool(IndividualConfig.check_group_individual_update)


class GroupService(BaseService, CreateChecker, UpdateChecker):
    CHECKER_SOURCE = "GroupService"
    BUSINESS_DATA_SERIALIZER = "individual.GroupService"
    OBJECT_TYPE, VALIDATION = Group, GroupValidation

    def needs_approval(self, operation, obj_data):
        """Replacing the members (``individuals_data`` of an update) so that the head or the primary recipient
        leaves, or a newcomer takes either place, is a change the checker approves (``GroupService.update``)."""
        individuals_data = obj_data.get("individuals_data")
        if operation != "update" or individuals_data is None or not _household_checked():
            return False
        head, primary = _household_recipients(obj_data.get("id"))
        wanted = {str(item.get("individual_id")) for item in individuals_data}
        if (head and head not in wanted) or (primary and primary not in wanted):
            return True
        current = {str(i) for i in GroupIndividual.objects.filter(group_id=obj_data.get("id"), is_deleted=False)
                   .values_list("individual_id", flat=True)}
        return any(_takes_over(item, head, primary) for item in individuals_data
                   if str(item.get("individual_id")) not in current)

    def _add_members(self, group, individuals_data):
        membership_service = GroupIndividualService(self.user)
        for item in individuals_data:
            ensure_success(membership_service.create(_membership_payload(item, group.id)))

    @register_service_signal("group_service.create")
    def create(self, obj_data):
        obj_data = dict(obj_data)
        individuals_data = obj_data.pop("individuals_data", None) or []
        self.validation_class.validate_create(self.user, **obj_data)
        individual_ids = [str(i.get("individual_id")) for i in individuals_data]
        names = {str(pk): f"{first} {last}" for pk, first, last in Individual.objects.filter(
            id__in=individual_ids).values_list("id", "first_name", "last_name")}
        json_ext = dict(obj_data.pop("json_ext", None) or {})
        json_ext["members"] = {i: names.get(i) for i in individual_ids}
        group = Group(json_ext=json_ext, **obj_data)
        group.save(user=self.user)
        self._add_members(group, individuals_data)
        group.refresh_from_db()
        return output_result_success(model_representation(group))

    @register_service_signal("group_service.update")
    def update(self, obj_data):
        obj_data = dict(obj_data)
        individuals_data = obj_data.pop("individuals_data", None)
        self.validation_class.validate_update(self.user, **obj_data)
        group = self.get_live(obj_data["id"], lock=True)
        group, changed = model_update(group, fields=[k for k in obj_data if k != "id"], data=obj_data,
                                      user=self.user)
        if individuals_data is not None:
            self._replace_members(group, individuals_data)
        elif not changed:
            raise ValidationError(NO_CHANGES_MESSAGE)
        group.refresh_from_db()
        return output_result_success(model_representation(group))

    def _replace_members(self, group, individuals_data):
        wanted = {str(item.get("individual_id")): item for item in individuals_data}
        current = GroupIndividual.objects.filter(group=group, is_deleted=False)
        kept = set()
        for membership in current:
            if str(membership.individual_id) in wanted:
                kept.add(str(membership.individual_id))
            else:
                membership.delete(user=self.user)
        self._add_members(group, [item for individual_id, item in wanted.items() if individual_id not in kept])

    @register_service_signal("group_service.delete")
    def delete(self, obj_data):
        self.validation_class.validate_delete(self.user, **obj_data)
        group = self.get_live(obj_data["id"], lock=True)
        bulk.soft_delete_with_history(GroupIndividual.objects.filter(group=group), user=self.user)
        group = sync_group_json_ext(group, self.user)
        group.delete(user=self.user)
        return build_delete_instance_payload()

    @register_service_signal("group_service.select_groups_to_benefit_plan", boundary=False)
    def select_groups_to_benefit_plan(self, custom_filters, benefit_plan_id, status, user):
        return _selection("group", groups_selectable(custom_filters, user or self.user), benefit_plan_id, status,
                          user or self.user, custom_filters)


# --- memberships --------------------------------------------------------------------------------
class GroupIndividualService(BaseService, CreateChecker, UpdateChecker, DeleteChecker):
    CHECKER_SOURCE = "GroupIndividualService"
    BUSINESS_DATA_SERIALIZER = "individual.GroupIndividualService"
    OBJECT_TYPE, VALIDATION = GroupIndividual, GroupIndividualValidation

    def needs_approval(self, operation, obj_data):
        """Adding a member as HEAD or PRIMARY recipient of a group that has one, or removing the head or the
        primary recipient, waits for the checker (``GroupIndividualService.create`` / ``.delete``); ordinary
        members, and the first head of an empty household, come and go directly."""
        if not _household_checked():
            return False
        if operation == "create":
            return _takes_over(obj_data, *_household_recipients(obj_data.get("group_id")))
        if operation == "delete":
            return GroupIndividual.objects.filter(id=obj_data.get("id"), is_deleted=False).filter(
                Q(role=GroupIndividual.Role.HEAD) | Q(recipient_type=GroupIndividual.RecipientType.PRIMARY)).exists()
        return False

    def _adjust_create_payload(self, payload_data):
        for key in ("role", "recipient_type"):
            if key in payload_data:
                payload_data[key] = _choice(payload_data[key])
        return payload_data

    _adjust_update_payload = _adjust_create_payload

    @register_service_signal("groupindividual_service.create")
    def create(self, obj_data):
        return super().create(obj_data)

    @register_service_signal("groupindividual_service.update")
    def update(self, obj_data):
        obj_data = self._adjust_update_payload(dict(obj_data))
        self.validation_class.validate_update(self.user, **obj_data)
        membership = self.get_live(obj_data["id"], lock=True)
        new_group_id = obj_data.get("group_id")
        if new_group_id and str(new_group_id) != str(membership.group_id):
            # moving to another group: a new membership there, the old one soft-deleted
            moved = GroupIndividual(group_id=new_group_id,
                                    individual_id=obj_data.get("individual_id") or membership.individual_id)
            moved.save(user=self.user)
            membership.delete(user=self.user)
            return output_result_success(model_representation(moved))
        for key, value in obj_data.items():
            if key not in ("id", "group_id"):
                setattr(membership, key, value)
        return self.save_instance(membership)

    @register_service_signal("groupindividual_service.delete")
    def delete(self, obj_data):
        return super().delete(obj_data)


class CreateGroupAndMoveIndividualService(BaseService, CreateChecker):
    CHECKER_SOURCE = "CreateGroupAndMoveIndividualService"
    BUSINESS_DATA_SERIALIZER = "individual.CreateGroupAndMoveIndividualService"
    OBJECT_TYPE, VALIDATION = Group, GroupValidation

    @register_service_signal("create_group_and_move_individual.create")
    def create(self, obj_data):
        obj_data = dict(obj_data)
        membership_id = obj_data.pop("group_individual_id", None)
        obj_data.pop("individuals_data", None)
        membership = GroupIndividual.objects.select_for_update().filter(
            id=membership_id, is_deleted=False).first() if membership_id else None
        if membership is None:
            raise ValidationError("GroupIndividual does not exist.")
        self.validation_class.validate_create(self.user, **obj_data)
        group = Group(**obj_data)
        group.save(user=self.user)
        old_group = membership.group
        membership.group = group  # re-pointed in place: the membership keeps its id and role
        membership.save(user=self.user)
        # the group it left loses its head/primary if it was this member: re-run the defaults there
        remaining = GroupIndividual.objects.filter(group=old_group, is_deleted=False).order_by(
            "date_created", "id").first()
        if remaining is not None:
            align_group_after_membership_change(remaining, self.user)
        else:
            sync_group_json_ext(old_group, self.user)
        group.refresh_from_db()
        result = output_result_success(model_representation(group))
        result["detail"] = str(membership.id)
        return result


# --- uploads (the engine is individual/imports.py; programmes drive it through these names) -------------
from individual.imports import (  # noqa: E402
    FileAlreadyStored,
    ImportRejected,
    ImportTarget,
    invalid_rows,
    receive_request,
    register_plan_target,
    template_columns,
    update_individuals,
)  # noqa: F401
from individual.views import invalid_items_response, start_import  # noqa: E402,F401
from individual.workflows import start_apply, start_validation  # noqa: E402,F401
