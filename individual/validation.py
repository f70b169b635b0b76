"""Validation used by the individual services (raise django ValidationError)."""
from django.core.exceptions import ValidationError

from core.validation import BaseModelValidation
from individual.apps import IndividualConfig
from individual.models import Group, GroupIndividual, Individual


def json_ext_errors(json_ext, schema=None):
    """Errors of ``json_ext`` against ``individual_schema``: [{"field", "message"}] (empty when valid)."""
    import jsonschema

    schema = IndividualConfig.get_individual_schema() if schema is None else schema
    if not schema or json_ext is None:
        return []
    if not isinstance(json_ext, dict):
        return [{"field": "json_ext", "message": "json_ext must be a JSON object"}]
    try:
        validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
        validator = validator_cls(schema, format_checker=jsonschema.FormatChecker())
    except Exception:
        return []  # an invalid configured schema is reported at start-up, it does not block writes
    errors = []
    for error in sorted(validator.iter_errors(json_ext), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in error.absolute_path)
        if not path and error.validator == "required":
            # "'x' is a required property": report it on the missing field
            path = error.message.split("'")[1] if error.message.count("'") >= 2 else "json_ext"
        errors.append({"field": path or "json_ext", "message": error.message})
    return errors


def validate_json_ext(json_ext):
    errors = json_ext_errors(json_ext)
    if errors:
        raise ValidationError("json_ext does not match individual_schema: "
                              + "; ".join(f"{e['field']}: {e['message']}" for e in errors))


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


class GroupValidation(BaseModelValidation):
    OBJECT_TYPE = Group

    @classmethod
    def validate_create(cls, user, **data):
        code = data.get("code")
        if code is None or not str(code).strip():
            raise ValidationError("code is required")

    @classmethod
    def validate_update(cls, user, **data):
        if not Group.objects.filter(id=data.get("id")).exists():
            raise ValidationError(f"Group {data.get('id')} does not exist")
        if "code" in data and (data["code"] is None or not str(data["code"]).strip()):
            raise ValidationError("code is required")

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

    @classmethod
    def validate_update(cls, user, **data):
        membership = GroupIndividual.objects.filter(id=data.get("id"), is_deleted=False).first()
        if membership is None:
            raise ValidationError(f"no GroupIndividual found with this id {data.get('id')}")
        if pending_task_exists(membership.group_id):
            raise ValidationError(f"There is one task pending for the group {membership.group_id}.")

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
