"""Validation classes used by services; they raise django ValidationError."""
import functools

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class BaseModelValidation:
    OBJECT_TYPE = None

    @classmethod
    def validate_create(cls, user, **data):
        pass

    @classmethod
    def validate_update(cls, user, **data):
        pass

    @classmethod
    def validate_delete(cls, user, **data):
        pass


class UniqueCodeValidationMixin:
    @classmethod
    def validate_unique_code_name(cls, code, excluded_id=None, code_key="code"):
        qs = cls.OBJECT_TYPE.objects.filter(**{code_key: code, "is_deleted": False})
        if excluded_id:
            qs = qs.exclude(id=excluded_id)
        if qs.exists():
            return [{"message": _("Object code %(code)s is not unique") % {"code": code}}]
        return []


class ObjectExistsValidationMixin:
    @classmethod
    def validate_object_exists(cls, id_):
        if not cls.OBJECT_TYPE.objects.filter(id=id_).exists():
            raise ValidationError(_("Object %(type)s with id %(id)s does not exist")
                                  % {"type": cls.OBJECT_TYPE.__name__, "id": id_})


class StringFieldValidationMixin:
    @classmethod
    def validate_empty_string(cls, value, field="value"):
        if value is None or str(value).strip() == "":
            raise ValidationError(_("%(field)s can't be empty") % {"field": field})

    @classmethod
    def validate_string_whitespace_start(cls, value, field="value"):
        if value and str(value)[0].isspace():
            raise ValidationError(_("%(field)s can't start with a whitespace") % {"field": field})

    @classmethod
    def validate_string_whitespace_end(cls, value, field="value"):
        if value and str(value)[-1].isspace():
            raise ValidationError(_("%(field)s can't end with a whitespace") % {"field": field})


class ObligatoryFieldValidation:
    """Checks a ``{field: "O"|"H"|"M"}`` map: optional, hidden (must be absent), mandatory."""

    OPTIONAL, HIDDEN, MANDATORY = "O", "H", "M"

    def __init__(self, field_map):
        self.field_map = field_map or {}

    def validate(self, payload):
        errors = []
        for field, mode in self.field_map.items():
            present = payload.get(field) not in (None, "")
            if mode == self.MANDATORY and not present:
                errors.append(_("Field %(f)s is mandatory") % {"f": field})
            if mode == self.HIDDEN and present:
                errors.append(_("Field %(f)s is not allowed") % {"f": field})
        if errors:
            raise ValidationError(errors)


def validate_payload_for_obligatory_fields(field_map, payload_arg="data"):
    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            payload = kwargs.get(payload_arg)
            if payload is None and len(args) > 1:
                payload = args[1]
            ObligatoryFieldValidation(field_map).validate(payload or {})
            return func(*args, **kwargs)

        return wrapper

    return decorator
