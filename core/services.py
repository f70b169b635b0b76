"""Service layer base: every write goes through a service returning the openIMIS result dict."""
import functools
import json
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from core.signals import register_service_signal
from core.validation import BaseModelValidation

logger = logging.getLogger(__name__)


# --- result dicts ------------------------------------------------------------------------------
def model_representation(obj):
    data = model_to_dict(obj)
    data["id"] = str(obj.id)
    data["uuid"] = str(getattr(obj, "uuid", obj.id))
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def output_result_success(dict_representation):
    return {"success": True, "message": "Ok", "detail": "", "data": dict_representation}


def build_delete_instance_payload():
    return {"success": True, "message": "Ok", "detail": ""}


def exception_detail(exc):
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return "; ".join(str(m) for m in exc.messages)
    return str(exc)


def output_exception(model_name, method, exception):
    return {
        "success": False,
        "message": f"Failed to {method} {model_name}",
        "detail": exception_detail(exception),
        "data": "",
    }


def check_authentication(function):
    @functools.wraps(function)
    def wrapper(self, *args, **kwargs):
        user = getattr(self, "user", None)
        if user is None or not getattr(user, "is_authenticated", False):
            return {"success": False, "message": "Authentication required", "detail": "PermissionDenied"}
        return function(self, *args, **kwargs)

    return wrapper


def check_permissions(permissions):
    def decorator(function):
        @functools.wraps(function)
        def wrapper(self, *args, **kwargs):
            perms = permissions() if callable(permissions) else permissions
            if not self.user.has_perms(perms):
                return {"success": False, "message": "Permissions required", "detail": "PermissionDenied"}
            return function(self, *args, **kwargs)

        return wrapper

    return decorator


class BaseService:
    """CRUD over one HistoryModel. Subclasses set OBJECT_TYPE and register their own signals."""

    OBJECT_TYPE = None

    def __init__(self, user, validation_class=BaseModelValidation):
        self.user = user
        self.validation_class = validation_class

    # hooks -----------------------------------------------------------------------------------
    def _adjust_create_payload(self, payload_data):
        return payload_data

    def _adjust_update_payload(self, payload_data):
        return payload_data

    def _base_payload_adjust(self, obj_data):
        return obj_data

    def _model_name(self):
        return self.OBJECT_TYPE.__name__

    # operations ------------------------------------------------------------------------------
    @check_authentication
    def create(self, obj_data):
        try:
            with transaction.atomic():
                obj_data = self._adjust_create_payload(dict(obj_data))
                self.validation_class.validate_create(self.user, **obj_data)
                obj = self.OBJECT_TYPE(**obj_data)
                return self.save_instance(obj)
        except Exception as exc:
            return output_exception(model_name=self._model_name(), method="create", exception=exc)

    @check_authentication
    def update(self, obj_data):
        try:
            with transaction.atomic():
                obj_data = self._adjust_update_payload(dict(obj_data))
                self.validation_class.validate_update(self.user, **obj_data)
                obj = self.OBJECT_TYPE.objects.select_for_update().filter(id=obj_data["id"]).first()
                if obj is None:
                    raise ValidationError(f"{self._model_name()} {obj_data['id']} does not exist")
                if getattr(obj, "is_deleted", False):
                    raise ValidationError(f"{self._model_name()} {obj_data['id']} is deleted")
                for key, value in obj_data.items():
                    if key != "id":
                        setattr(obj, key, value)
                return self.save_instance(obj)
        except Exception as exc:
            return output_exception(model_name=self._model_name(), method="update", exception=exc)

    @check_authentication
    def delete(self, obj_data):
        try:
            with transaction.atomic():
                self.validation_class.validate_delete(self.user, **obj_data)
                obj = self.OBJECT_TYPE.objects.filter(id=obj_data["id"]).first()
                if obj is None:
                    raise ValidationError(f"{self._model_name()} {obj_data['id']} does not exist")
                return self.delete_instance(obj)
        except Exception as exc:
            return output_exception(model_name=self._model_name(), method="delete", exception=exc)

    def save_instance(self, obj):
        obj.save(user=self.user)
        return output_result_success(model_representation(obj))

    def delete_instance(self, obj):
        obj.delete(user=self.user)
        return build_delete_instance_payload()


# ---------------------------------------------------------------------------------------------
# Roles and users
# ---------------------------------------------------------------------------------------------
def _check_rights_exist(rights):
    from core.module_config import all_declared_rights

    declared = all_declared_rights()
    unknown = sorted({int(r) for r in rights} - declared) if declared else []
    if unknown:
        raise ValidationError(f"Unknown rights: {', '.join(map(str, unknown))}")


class RoleService:
    def __init__(self, user):
        self.user = user

    def _set_rights(self, role, rights):
        from core.models import RoleRight

        wanted = {int(r) for r in rights}
        current = {rr.right_id: rr for rr in role.rights.filter(validity_to__isnull=True)}
        now = timezone.now()
        for right_id, rr in current.items():
            if right_id not in wanted:
                rr.validity_to = now
                rr.save(update_fields=["validity_to"])
        RoleRight.objects.bulk_create([
            RoleRight(role=role, right_id=r, audit_user_id=str(self.user.id_for_audit))
            for r in sorted(wanted - set(current))
        ])
        from core.models import invalidate_rights_cache

        invalidate_rights_cache()

    @check_authentication
    def create(self, data):
        from core.models import Role

        try:
            with transaction.atomic():
                rights = data.pop("rights_id", None) or []
                self._validate(data)
                _check_rights_exist(rights)
                role = Role.objects.create(
                    name=data["name"].strip(), alt_language=data.get("alt_language"),
                    is_system=int(data.get("is_system") or 0), is_blocked=bool(data.get("is_blocked")),
                    audit_user_id=str(self.user.id_for_audit),
                )
                self._set_rights(role, rights)
                return output_result_success({"id": role.id, "uuid": str(role.uuid), "name": role.name})
        except Exception as exc:
            return output_exception("Role", "create", exc)

    def _validate(self, data, exclude_uuid=None):
        from core.models import Role

        name = (data.get("name") or "").strip()
        if not name:
            raise ValidationError("Role name can't be empty")
        duplicates = Role.objects.filter(name__iexact=name, validity_to__isnull=True)
        if exclude_uuid:
            duplicates = duplicates.exclude(uuid=exclude_uuid)
        if duplicates.exists():
            raise ValidationError(f"Role name {name} already exists")

    @check_authentication
    def update(self, data):
        from core.models import Role

        try:
            with transaction.atomic():
                role = Role.objects.filter(uuid=data["uuid"], validity_to__isnull=True).first()
                if role is None:
                    raise ValidationError(f"Role {data['uuid']} does not exist")
                if "name" in data:
                    self._validate(data, exclude_uuid=role.uuid)
                    role.name = data["name"].strip()
                for field in ("alt_language", "is_blocked"):
                    if field in data:
                        setattr(role, field, data[field])
                if "is_system" in data and data["is_system"] is not None:
                    role.is_system = int(data["is_system"]) if not isinstance(data["is_system"], bool) else (
                        role.is_system if data["is_system"] else 0)
                role.audit_user_id = str(self.user.id_for_audit)
                role.save()
                if data.get("rights_id") is not None:
                    _check_rights_exist(data["rights_id"])
                    self._set_rights(role, data["rights_id"])
                return output_result_success({"id": role.id, "uuid": str(role.uuid), "name": role.name})
        except Exception as exc:
            return output_exception("Role", "update", exc)

    @check_authentication
    def delete(self, data):
        from core.models import Role, UserRole

        try:
            with transaction.atomic():
                role = Role.objects.filter(uuid=data["uuid"], validity_to__isnull=True).first()
                if role is None:
                    raise ValidationError(f"Role {data['uuid']} does not exist")
                if role.is_system:
                    raise ValidationError("System roles cannot be deleted")
                if UserRole.objects.filter(role=role, validity_to__isnull=True,
                                           user__validity_to__isnull=True).exists():
                    raise ValidationError(f"Role {role.name} is still assigned to users")
                role.validity_to = timezone.now()
                role.save()
                return build_delete_instance_payload()
        except Exception as exc:
            return output_exception("Role", "delete", exc)

    @check_authentication
    def duplicate(self, data):
        from core.models import Role

        source = Role.objects.filter(uuid=data["uuid"], validity_to__isnull=True).first()
        if source is None:
            return output_exception("Role", "duplicate", ValidationError(f"Role {data['uuid']} does not exist"))
        rights = data.get("rights_id")
        if rights is None:
            rights = list(source.rights.filter(validity_to__isnull=True).values_list("right_id", flat=True))
        return self.create({"name": data.get("name") or f"{source.name} (copy)",
                            "alt_language": data.get("alt_language", source.alt_language),
                            "is_system": 0, "is_blocked": data.get("is_blocked", source.is_blocked),
                            "rights_id": rights})


class UserService:
    """Interactive users: a core.User login plus its InteractiveUser profile, roles and districts."""

    def __init__(self, user):
        self.user = user

    def _assign_roles(self, i_user, role_ids):
        from core.models import Role, UserRole

        role_ids = [int(r) for r in role_ids]
        found = set(Role.objects.filter(id__in=role_ids, validity_to__isnull=True).values_list("id", flat=True))
        missing = sorted(set(role_ids) - found)
        if missing:
            raise ValidationError(f"Unknown roles: {missing}")
        UserRole.objects.filter(user=i_user, validity_to__isnull=True).update(validity_to=timezone.now())
        UserRole.objects.bulk_create([UserRole(user=i_user, role_id=r, audit_user_id=str(self.user.id_for_audit))
                                      for r in role_ids])
        from core.models import invalidate_rights_cache

        invalidate_rights_cache()

    def _assign_districts(self, i_user, district_ids):
        from core.location import invalidate_location_cache
        from core.models import Location, UserDistrict

        district_ids = [int(d) for d in district_ids]
        valid = set(Location.objects.filter(id__in=district_ids, type="D", validity_to__isnull=True)
                    .values_list("id", flat=True))
        missing = sorted(set(district_ids) - valid)
        if missing:
            raise ValidationError(f"Unknown districts: {missing}")
        UserDistrict.objects.filter(user=i_user, validity_to__isnull=True).update(validity_to=timezone.now())
        UserDistrict.objects.bulk_create([UserDistrict(user=i_user, location_id=d) for d in district_ids])
        invalidate_location_cache()

    def _validate_password(self, password, user=None):
        from django.contrib.auth.password_validation import validate_password

        validate_password(password, user=user)

    @check_authentication
    def create_or_update(self, data):
        from core.models import InteractiveUser, User

        method = "update" if data.get("uuid") else "create"
        try:
            with transaction.atomic():
                if method == "update":
                    account = User.objects.select_related("i_user").filter(id=data["uuid"]).first()
                    if account is None or not account.is_active:
                        raise ValidationError(f"User {data['uuid']} does not exist")
                else:
                    username = (data.get("username") or "").strip()
                    if not username:
                        raise ValidationError("Username can't be empty")
                    if User.objects.filter(username__iexact=username).exists():
                        raise ValidationError(f"Username {username} already exists")
                    account = User(username=username)
                if method == "update" and data.get("username") and data["username"] != account.username:
                    if User.objects.filter(username__iexact=data["username"]).exclude(id=account.id).exists():
                        raise ValidationError(f"Username {data['username']} already exists")
                    account.username = data["username"]
                i_user = account.i_user or InteractiveUser()
                for field in ("last_name", "other_names", "email", "phone", "health_facility_id"):
                    if field in data and data[field] is not None:
                        setattr(i_user, field, data[field])
                if data.get("language"):
                    i_user.language_id = data["language"]
                if not i_user.last_name or not i_user.other_names:
                    raise ValidationError("Last name and other names are required")
                i_user.full_clean(exclude=["language"])
                i_user.save()
                account.i_user = i_user
                if data.get("password"):
                    self._validate_password(data["password"], account)
                    account.set_password(data["password"])
                elif method == "create":
                    account.set_unusable_password()
                account.save()
                if data.get("roles") is not None:
                    self._assign_roles(i_user, data["roles"])
                if data.get("districts") is not None:
                    self._assign_districts(i_user, data["districts"])
                return output_result_success({"id": str(account.id), "uuid": str(account.id),
                                              "username": account.username})
        except Exception as exc:
            return output_exception("User", method, exc)

    @check_authentication
    def delete(self, data):
        from core.models import User

        try:
            with transaction.atomic():
                account = User.objects.select_related("i_user").filter(id=data["uuid"]).first()
                if account is None:
                    raise ValidationError(f"User {data['uuid']} does not exist")
                if account.id == self.user.id:
                    raise ValidationError("You cannot delete your own account")
                account.is_active = False
                account.save(update_fields=["is_active"])
                if account.i_user_id:
                    account.i_user.validity_to = timezone.now()
                    account.i_user.save(update_fields=["validity_to"])
                return build_delete_instance_payload()
        except Exception as exc:
            return output_exception("User", "delete", exc)
