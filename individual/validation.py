"""Validation used by the individual services (raise django ValidationError)."""
import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date

from core import json_schema
from core.validation import BaseModelValidation
from individual.apps import IndividualConfig
from individual.models import Group, GroupIndividual, Individual


def json_ext_errors(json_ext, schema=None):
    """Errors of ``json_ext`` against ``individual_schema``: [{"field", "message"}] (empty when valid)."""
    schema = IndividualConfig.get_individual_schema() if schema is None else schema
    if not schema or json_ext is None:
        return []
    if not isinstance(json_ext, dict):
        return [{"field": "json_ext", "message": "json_ext must be a JSON object"}]
    return [{"field": field or "json_ext", "message": message} for field, message in json_schema.errors(schema, json_ext)]


def validate_json_ext(json_ext):
    if json_ext is not None and not isinstance(json_ext, dict):
        raise ValidationError("json_ext must be a JSON object")
    errors = json_ext_errors(json_ext)
    if errors:
        raise ValidationError("json_ext does not match individual_schema: "
                              + "; ".join(f"{e['field']}: {e['message']}" for e in errors))


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        parsed = parse_date(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError(f"dob {value} is not a valid date")
    return parsed


def validate_village(location_id, what):
    """An individual or a group lives in a village (locations of type ``V``), never in a region, district or
    ward."""
    if location_id in (None, ""):
        return
    from core.models import Location

    location_type = Location.objects.filter(id=location_id).values_list("type", flat=True).first()
    if location_type is None:
        raise ValidationError(f"Location {location_id} does not exist")
    if location_type != "V":
        raise ValidationError(f"The location of {what} must be a village")


def _validate_live(model, record_id):
    """A member (or beneficiary) is a live record: a soft-deleted one is refused."""
    record = model.objects.filter(id=record_id).only("id", "is_deleted").first()
    if record is None:
        raise ValidationError(f"{model.__name__} {record_id} does not exist")
    if record.is_deleted:
        raise ValidationError(f"{model.__name__} {record_id} is deleted")


def validate_live_individual(individual_id):
    _validate_live(Individual, individual_id)


def validate_live_group(group_id):
    _validate_live(Group, group_id)


class IndividualValidation(BaseModelValidation):
    OBJECT_TYPE = Individual

    @classmethod
    def _common(cls, data, creating):
        for field in ("first_name", "last_name"):
            if creating or field in data:
                value = data.get(field)
                if value is None or not str(value).strip():
                    raise ValidationError(f"{field} is required")
        if (creating or "dob" in data) and not data.get("dob"):
            raise ValidationError("dob is required")
        if data.get("dob") and _as_date(data["dob"]) > timezone.localdate():
            raise ValidationError("dob can't be in the future")
        if "location_id" in data:
            validate_village(data["location_id"], "an individual")
        if "json_ext" in data:
            validate_json_ext(data.get("json_ext"))

    @classmethod
    def validate_create(cls, user, **data):
        cls._common(data, creating=True)

    @classmethod
    def validate_update(cls, user, **data):
        if not data.get("id"):
            raise ValidationError("id is required")
        obj = Individual.objects.filter(id=data["id"]).first()
        if obj is None:
            raise ValidationError(f"Individual {data['id']} does not exist")
        cls._common(data, creating=False)

    @classmethod
    def validate_delete(cls, user, **data):
        obj = Individual.objects.filter(id=data.get("id")).first()
        if obj is None:
            raise ValidationError(f"Individual {data.get('id')} does not exist")
        if obj.is_deleted:
            raise ValidationError(f"Individual {data.get('id')} is already deleted")

    @classmethod
    def validate_undo_delete(cls, user, **data):
        obj = Individual.objects.filter(id=data.get("id")).first()
        if obj is None:
            raise ValidationError(f"Individual {data.get('id')} does not exist")
        if not obj.is_deleted:
            raise ValidationError(f"Individual {obj.id} is not deleted.")


class GroupValidation(BaseModelValidation):
    OBJECT_TYPE = Group

    @classmethod
    def _common(cls, data):
        if "location_id" in data:
            validate_village(data["location_id"], "a group")
        if data.get("json_ext") is not None and not isinstance(data["json_ext"], dict):
            raise ValidationError("json_ext must be a JSON object")
        for item in data.get("individuals_data") or []:
            if isinstance(item, dict) and item.get("individual_id"):
                validate_live_individual(item["individual_id"])

    @classmethod
    def validate_create(cls, user, **data):
        code = data.get("code")
        if code is None or not str(code).strip():
            raise ValidationError("code is required")
        cls._common(data)

    @classmethod
    def validate_update(cls, user, **data):
        if not Group.objects.filter(id=data.get("id")).exists():
            raise ValidationError(f"Group {data.get('id')} does not exist")
        if "code" in data and (data["code"] is None or not str(data["code"]).strip()):
            raise ValidationError("code is required")
        cls._common(data)

    @classmethod
    def validate_delete(cls, user, **data):
        if not Group.objects.filter(id=data.get("id"), is_deleted=False).exists():
            raise ValidationError(f"Group {data.get('id')} does not exist")


class GroupIndividualValidation(BaseModelValidation):
    OBJECT_TYPE = GroupIndividual

    @classmethod
    def validate_create(cls, user, **data):
        if not data.get("group_id"):
            raise ValidationError("Missing group_id.")
        validate_live_group(data["group_id"])
        if data.get("individual_id"):
            validate_live_individual(data["individual_id"])

    @classmethod
    def validate_update(cls, user, **data):
        membership = GroupIndividual.objects.filter(id=data.get("id"), is_deleted=False).first()
        if membership is None:
            raise ValidationError(f"no GroupIndividual found with this id {data.get('id')}")
        if pending_task_exists(membership.group_id):
            raise ValidationError(f"There is one task pending for the group {membership.group_id}.")
        if data.get("group_id"):
            validate_live_group(data["group_id"])
        if data.get("individual_id"):
            validate_live_individual(data["individual_id"])

    @classmethod
    def validate_delete(cls, user, **data):
        if not GroupIndividual.objects.filter(id=data.get("id"), is_deleted=False).exists():
            raise ValidationError(f"no GroupIndividual found with this id {data.get('id')}")


def pending_task_exists(group_id):
    """A pending maker-checker task on the group or one of its memberships blocks membership edits."""
    from django.apps import apps

    if not apps.is_installed("tasks_management"):
        return False
    from tasks_management.services import pending_task_exists as pending

    membership_ids = list(GroupIndividual.objects.filter(group_id=group_id).values_list("id", flat=True))
    return pending([group_id, *membership_ids])
