"""All writes of the individual registry: individuals, groups, memberships, data sources."""
import copy
import datetime
import logging
import uuid

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction

from core.custom_filters import custom_filter_q
from core.services import (
    BaseService,
    build_delete_instance_payload,
    check_authentication,
    model_representation,
    output_exception,
    output_result_success,
)
from core.signals import register_service_signal
from individual.models import (
    Group,
    GroupDataSource,
    GroupIndividual,
    Individual,
    IndividualDataSource,
    IndividualDataSourceUpload,
)
from individual.validation import (
    GroupIndividualValidation,
    GroupValidation,
    IndividualValidation,
)

logger = logging.getLogger(__name__)


# --- maker-checker mixins (tasks_management, optional) ----------------------------------------------
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
        try:
            from tasks_management.services import (
                CreateCheckerLogicServiceMixin,
                DeleteCheckerLogicServiceMixin,
                UpdateCheckerLogicServiceMixin,
            )

            return CreateCheckerLogicServiceMixin, UpdateCheckerLogicServiceMixin, DeleteCheckerLogicServiceMixin
        except ImportError:
            logger.warning("tasks_management is installed but its checker mixins are missing")
    return _CreateCheckerFallback, _UpdateCheckerFallback, _DeleteCheckerFallback


CreateChecker, UpdateChecker, DeleteChecker = _checker_mixins()


class _ServiceFailure(Exception):
    """A nested service call failed: carries its result so the outer transaction rolls back."""

    def __init__(self, result):
        super().__init__(result.get("detail") or result.get("message"))
        self.result = result


def _ensure(result):
    if not result.get("success"):
        raise _ServiceFailure(result)
    return result


def _plain(value):
    if isinstance(value, (uuid.UUID, datetime.date, datetime.datetime)):
        return str(value)
    return value


def _name_of(individual_id):
    individual = Individual.objects.filter(id=individual_id).only("first_name", "last_name").first()
    return str(individual) if individual else individual_id


def _code_of(group_id):
    group = Group.objects.filter(id=group_id).only("code").first()
    return group.code if group else group_id


def _serialize_sections(service, data):
    """Readable task data (tasks_management ``businessData``): ids become names/codes in every section."""
    if not isinstance(data, dict):
        return data
    return {section: ({k: service._serialize_field(k, v) for k, v in values.items()}
                      if isinstance(values, dict) else values) for section, values in data.items()}


class _ReadableTaskData:
    def _business_data_serializer(self, data):
        return _serialize_sections(self, data)


def _beneficiary_model(name):
    if not apps.is_installed("social_protection"):
        return None
    try:
        return apps.get_model("social_protection", name)
    except LookupError:
        return None


# --- individuals --------------------------------------------------------------------------------
class IndividualService(_ReadableTaskData, BaseService, UpdateChecker, DeleteChecker):
    CHECKER_SOURCE = "IndividualService"
    OBJECT_TYPE = Individual

    def __init__(self, user, validation_class=IndividualValidation):
        super().__init__(user, validation_class)

    @register_service_signal("individual_service.create")
    def create(self, obj_data):
        return super().create(obj_data)

    def _adjust_update_payload(self, payload_data):
        """The names and dob inside json_ext follow the top-level values (spec §6.1)."""
        current = Individual.objects.filter(id=payload_data.get("id")).first()
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

    @register_service_signal("individual_service.update")
    def update(self, obj_data):
        return super().update(obj_data)

    @register_service_signal("individual_service.delete")
    def delete(self, obj_data):
        return super().delete(obj_data)

    @register_service_signal("individual_service.undo_delete")
    @check_authentication
    def undo_delete(self, obj_data):
        try:
            with transaction.atomic():
                obj = Individual.objects.select_for_update().filter(id=obj_data.get("id")).first()
                if obj is None:
                    raise ValidationError(f"Individual {obj_data.get('id')} does not exist")
                if not obj.is_deleted:
                    raise ValidationError(f"Individual {obj.id} is not deleted.")
                obj.is_deleted = False
                obj.save(user=self.user)
                return output_result_success(model_representation(obj))
        except Exception as exc:
            return output_exception(model_name="Individual", method="undo_delete", exception=exc)

    @register_service_signal("individual_service.select_individuals_to_benefit_plan")
    def select_individuals_to_benefit_plan(self, custom_filters, benefit_plan_id, status, user):
        candidates = individuals_without_group(custom_filters)
        if not benefit_plan_id:
            return None
        Beneficiary = _beneficiary_model("Beneficiary")
        if Beneficiary is None:
            assigned = candidates.none()
        else:
            assigned = candidates.filter(id__in=Beneficiary.objects.filter(
                benefit_plan_id=benefit_plan_id, is_deleted=False).values("individual_id"))
        return {
            "individuals_assigned_to_selected_programme": assigned,
            "individuals_not_assigned_to_selected_programme": candidates.exclude(id__in=assigned.values("id")),
            "individual_query_with_filters": candidates,
            "benefit_plan_id": benefit_plan_id,
            "status": status,
            "user": user,
        }

    @register_service_signal("individual_service.create_accept_enrolment_task")
    def create_accept_enrolment_task(self, individual_queryset, benefit_plan_id):
        """Hook for an approval step on enrolment (empty upstream too)."""
        return None

    def _serialize_field(self, key, value):
        if key == "id":
            return _name_of(value)
        return _plain(value)


def individuals_without_group(custom_filters=None):
    """Enrolment candidates: non-deleted individuals with no membership row, custom-filtered."""
    queryset = Individual.objects.filter(is_deleted=False, groupindividual__isnull=True)
    if custom_filters:
        queryset = queryset.filter(custom_filter_q(custom_filters))
    return queryset.distinct()


def groups_selectable(custom_filters=None):
    queryset = Group.objects.filter(is_deleted=False)
    if custom_filters:
        queryset = queryset.filter(custom_filter_q(custom_filters))
    return queryset.distinct()


class IndividualDataSourceService(BaseService):
    OBJECT_TYPE = IndividualDataSource

    @register_service_signal("individual_data_source_service.create")
    def create(self, obj_data):
        return super().create(obj_data)

    @register_service_signal("individual_data_source_service.update")
    def update(self, obj_data):
        return super().update(obj_data)

    @register_service_signal("individual_data_source_service.delete")
    def delete(self, obj_data):
        return super().delete(obj_data)


# --- groups -------------------------------------------------------------------------------------
def _membership_payload(item, group_id=None):
    data = {"individual_id": item.get("individual_id"), "group_id": group_id or item.get("group_id")}
    for key in ("role", "recipient_type"):
        value = item.get(key)
        data[key] = getattr(value, "value", value) or None
    return data


class GroupService(_ReadableTaskData, BaseService, CreateChecker, UpdateChecker):
    CHECKER_SOURCE = "GroupService"
    OBJECT_TYPE = Group

    def __init__(self, user, validation_class=GroupValidation):
        super().__init__(user, validation_class)

    @register_service_signal("group_service.create")
    @check_authentication
    def create(self, obj_data):
        try:
            with transaction.atomic():
                obj_data = dict(obj_data)
                individuals_data = obj_data.pop("individuals_data", None) or []
                self.validation_class.validate_create(self.user, **obj_data)
                individual_ids = [str(i.get("individual_id")) for i in individuals_data]
                names = dict(
                    (str(pk), f"{fn} {ln}") for pk, fn, ln in
                    Individual.objects.filter(id__in=individual_ids).values_list("id", "first_name", "last_name"))
                json_ext = dict(obj_data.pop("json_ext", None) or {})
                json_ext["members"] = {i: names.get(i) for i in individual_ids}
                group = Group(json_ext=json_ext, **obj_data)
                group.save(user=self.user)
                membership_service = GroupIndividualService(self.user)
                for item in individuals_data:
                    _ensure(membership_service.create(_membership_payload(item, group.id)))
                group.refresh_from_db()
                return output_result_success(model_representation(group))
        except _ServiceFailure as failure:
            return {**failure.result, "message": "Failed to create Group"}
        except Exception as exc:
            return output_exception(model_name="Group", method="create", exception=exc)

    @register_service_signal("group_service.update")
    @check_authentication
    def update(self, obj_data):
        try:
            with transaction.atomic():
                obj_data = dict(obj_data)
                individuals_data = obj_data.pop("individuals_data", None)
                self.validation_class.validate_update(self.user, **obj_data)
                group = Group.objects.select_for_update().get(id=obj_data["id"])
                if group.is_deleted:
                    raise ValidationError(f"Group {group.id} is deleted")
                changed = False
                for key, value in obj_data.items():
                    if key != "id" and getattr(group, key) != value:
                        setattr(group, key, value)
                        changed = True
                if changed:
                    group.save(user=self.user)
                elif individuals_data is None:
                    raise ValidationError("Record has not be updated - there are no changes in fields")
                if individuals_data is not None:
                    self._replace_members(group, individuals_data)
                group.refresh_from_db()
                return output_result_success(model_representation(group))
        except _ServiceFailure as failure:
            return {**failure.result, "message": "Failed to update Group"}
        except Exception as exc:
            return output_exception(model_name="Group", method="update", exception=exc)

    def _replace_members(self, group, individuals_data):
        wanted = {str(item.get("individual_id")): item for item in individuals_data}
        current = GroupIndividual.objects.filter(group=group, is_deleted=False)
        kept = set()
        for membership in current:
            if str(membership.individual_id) in wanted:
                kept.add(str(membership.individual_id))
            else:
                membership.delete(user=self.user)
        membership_service = GroupIndividualService(self.user)
        for individual_id, item in wanted.items():
            if individual_id not in kept:
                _ensure(membership_service.create(_membership_payload(item, group.id)))

    @register_service_signal("group_service.delete")
    @check_authentication
    def delete(self, obj_data):
        try:
            with transaction.atomic():
                self.validation_class.validate_delete(self.user, **obj_data)
                group = Group.objects.select_for_update().get(id=obj_data["id"])
                for membership in GroupIndividual.objects.filter(group=group, is_deleted=False):
                    membership.delete(user=self.user, align=False)
                from individual.membership import sync_group_json_ext

                group = sync_group_json_ext(group, self.user)
                group.delete(user=self.user)
                return build_delete_instance_payload()
        except Exception as exc:
            return output_exception(model_name="Group", method="delete", exception=exc)

    @register_service_signal("group_service.select_groups_to_benefit_plan")
    def select_groups_to_benefit_plan(self, custom_filters, benefit_plan_id, status, user):
        candidates = groups_selectable(custom_filters)
        if not benefit_plan_id:
            return None
        GroupBeneficiary = _beneficiary_model("GroupBeneficiary")
        if GroupBeneficiary is None:
            assigned = candidates.none()
        else:
            assigned = candidates.filter(id__in=GroupBeneficiary.objects.filter(
                benefit_plan_id=benefit_plan_id, is_deleted=False).values("group_id"))
        return {
            "groups_assigned_to_selected_programme": assigned,
            "groups_not_assigned_to_selected_programme": candidates.exclude(id__in=assigned.values("id")),
            "group_query_with_filters": candidates,
            "benefit_plan_id": benefit_plan_id,
            "status": status,
            "user": user,
        }

    def _serialize_field(self, key, value):
        if key == "id":
            return _code_of(value)
        if key == "individuals_data" and isinstance(value, list):
            return [{**item, "individual_id": _name_of(item.get("individual_id"))} for item in value]
        return _plain(value)


# --- memberships --------------------------------------------------------------------------------
class GroupIndividualService(_ReadableTaskData, BaseService, UpdateChecker):
    CHECKER_SOURCE = "GroupIndividualService"
    OBJECT_TYPE = GroupIndividual

    def __init__(self, user, validation_class=GroupIndividualValidation):
        super().__init__(user, validation_class)

    def _adjust_create_payload(self, payload_data):
        for key in ("role", "recipient_type"):
            if key in payload_data:
                payload_data[key] = getattr(payload_data[key], "value", payload_data[key]) or None
        return payload_data

    _adjust_update_payload = _adjust_create_payload

    @register_service_signal("groupindividual_service.create")
    def create(self, obj_data):
        return super().create(obj_data)

    @register_service_signal("groupindividual_service.update")
    @check_authentication
    def update(self, obj_data):
        try:
            with transaction.atomic():
                obj_data = self._adjust_update_payload(dict(obj_data))
                self.validation_class.validate_update(self.user, **obj_data)
                membership = GroupIndividual.objects.select_for_update().get(id=obj_data["id"])
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
        except Exception as exc:
            return output_exception(model_name="GroupIndividual", method="update", exception=exc)

    @register_service_signal("groupindividual_service.delete")
    def delete(self, obj_data):
        return super().delete(obj_data)

    def _serialize_field(self, key, value):
        if key in ("id",):
            membership = GroupIndividual.objects.select_related("individual").filter(id=value).first()
            return str(membership.individual) if membership else value
        if key == "individual_id":
            return _name_of(value)
        if key == "group_id":
            return _code_of(value)
        return _plain(value)


class CreateGroupAndMoveIndividualService(_ReadableTaskData, BaseService, CreateChecker):
    CHECKER_SOURCE = "CreateGroupAndMoveIndividualService"
    OBJECT_TYPE = Group

    def __init__(self, user, validation_class=GroupValidation):
        super().__init__(user, validation_class)

    @register_service_signal("create_group_and_move_individual.create")
    @check_authentication
    def create(self, obj_data):
        try:
            with transaction.atomic():
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
                from individual.membership import align_group_after_membership_change

                # the group it left loses its head/primary if it was this member: re-run the defaults there
                remaining = GroupIndividual.objects.filter(group=old_group, is_deleted=False).order_by(
                    "date_created", "id").first()
                if remaining is not None:
                    align_group_after_membership_change(remaining, self.user)
                else:
                    from individual.membership import sync_group_json_ext

                    sync_group_json_ext(old_group, self.user)
                group.refresh_from_db()
                result = output_result_success(model_representation(group))
                result["detail"] = str(membership.id)
                return result
        except Exception as exc:
            return output_exception(model_name="Group", method="create", exception=exc)

    def _serialize_field(self, key, value):
        if key == "group_individual_id":
            membership = GroupIndividual.objects.select_related("individual").filter(id=value).first()
            return str(membership.individual) if membership else value
        if key == "id":
            return "NEW_GROUP"
        return _plain(value)


class GroupDataSourceService(BaseService):
    OBJECT_TYPE = GroupDataSource


class IndividualDataSourceUploadService(BaseService):
    OBJECT_TYPE = IndividualDataSourceUpload
