"""Service layer base: every write goes through a service returning the openIMIS result dict."""
import functools
import json
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from core.errors import ServiceResultError, ensure_success, failure_result
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


def output_exception(model_name, method, exception):
    """Failure envelope for ``exception``: business text, or the generic sentence (the error is logged)."""
    return failure_result(model_name, method, exception)


def authentication_failure():
    return {"success": False, "message": "Authentication required", "detail": "PermissionDenied"}


def default_acting_user(username=None):
    """The user unattended work (commands, scheduled runs) writes as: ``username`` when given, else the first
    active superuser, else the first active IMIS administrator (the demo's Admin); None when there is none."""
    from core.models import User

    active = User.objects.filter(is_active=True).order_by("username")
    if username:
        return active.filter(username=username).first()
    return active.filter(is_superuser=True).first() or next((u for u in active if u.is_imis_admin), None)


def is_authenticated(user):
    return user is not None and getattr(user, "is_authenticated", False)


def check_authentication(function):
    @functools.wraps(function)
    def wrapper(self, *args, **kwargs):
        if not is_authenticated(getattr(self, "user", None)):
            return authentication_failure()
        return function(self, *args, **kwargs)

    return wrapper


def service_model_name(service):
    if hasattr(service, "_model_name"):
        return service._model_name()
    if getattr(service, "OBJECT_TYPE", None) is not None:
        return service.OBJECT_TYPE.__name__
    name = service.__class__.__name__
    return name[:-len("Service")] if name.endswith("Service") else name


def run_at_boundary(service, method, call):
    """The error boundary of a service operation: one transaction; the result dict built here.

    ``call()`` runs inside ``transaction.atomic``; a returned failure result rolls the transaction back; a
    business error becomes the failure envelope with its text; any other exception is logged with its stack
    trace and reported with the spec's generic sentence (its text never reaches a client).
    """
    if not is_authenticated(getattr(service, "user", None)):
        return authentication_failure()
    model_name = service_model_name(service)
    try:
        with transaction.atomic():
            result = call()
            if isinstance(result, dict) and result.get("success") is False:
                transaction.set_rollback(True)
            return result
    except ServiceResultError as exc:
        return {**exc.result, "message": f"Failed to {method} {model_name}"}
    except Exception as exc:
        return failure_result(model_name, method, exc)


def service_operation(method):
    """Decorate a service method that raises business errors: it answers the openIMIS result dict.

    Methods registered with :func:`core.signals.register_service_signal` already run at this boundary."""

    def decorator(function):
        @functools.wraps(function)
        def wrapper(self, *args, **kwargs):
            return run_at_boundary(self, method, lambda: function(self, *args, **kwargs))

        wrapper.service_boundary = True
        return wrapper

    return decorator


def _inherited(cls, operation):
    def call(self, obj_data):
        return getattr(super(cls, self), operation)(obj_data)

    call.__name__ = operation
    return call


def model_update(instance, *, fields, data, user):
    """Apply ``data[f]`` for each ``f`` of ``fields`` present in ``data``; save (with history) only on a change.

    Returns ``(instance, changed)``: "nothing to change" is a result, not an error to catch by its message.
    """
    changed = False
    for field in fields:
        if field in data and getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed = True
    if changed:
        instance.save(user=user)
    return instance, changed


class BaseService:
    """CRUD over one HistoryModel. Subclasses set OBJECT_TYPE and register their own signals.

    Operations raise business errors (``ValidationError``, ``PermissionDenied``); the boundary turns them
    into the result dict."""

    OBJECT_TYPE = None
    VALIDATION = BaseModelValidation  # the validation class of the service's model

    def __init__(self, user, validation_class=None):
        self.user = user
        self.validation_class = validation_class or self.VALIDATION

    def __init_subclass__(cls, signals=None, **kwargs):
        """``class ThingService(BaseService, signals="thing_service")`` registers the service signals
        ``thing_service.create/update/delete`` around the CRUD operations the class does not write itself."""
        super().__init_subclass__(**kwargs)
        if signals is None:
            return
        from core.signals import register_service_signal

        for operation in ("create", "update", "delete"):
            if operation not in cls.__dict__:
                setattr(cls, operation, register_service_signal(f"{signals}.{operation}")(_inherited(cls, operation)))

    # hooks -----------------------------------------------------------------------------------
    def _adjust_create_payload(self, payload_data):
        return payload_data

    def _adjust_update_payload(self, payload_data):
        return payload_data

    def _model_name(self):
        return self.OBJECT_TYPE.__name__

    # operations ------------------------------------------------------------------------------
    @service_operation("create")
    def create(self, obj_data):
        obj_data = self._adjust_create_payload(dict(obj_data))
        self.validation_class.validate_create(self.user, **obj_data)
        return self.save_instance(self.OBJECT_TYPE(**obj_data))

    @service_operation("update")
    def update(self, obj_data):
        obj_data = self._adjust_update_payload(dict(obj_data))
        self.validation_class.validate_update(self.user, **obj_data)
        obj = self.get_live(obj_data["id"], lock=True)
        for key, value in obj_data.items():
            if key != "id":
                setattr(obj, key, value)
        return self.save_instance(obj)

    @service_operation("delete")
    def delete(self, obj_data):
        self.validation_class.validate_delete(self.user, **obj_data)
        obj = self.OBJECT_TYPE.objects.filter(id=obj_data["id"]).first()
        if obj is None:
            raise ValidationError(f"{self._model_name()} {obj_data['id']} does not exist")
        return self.delete_instance(obj)

    def get_live(self, obj_id, lock=False):
        """The non-deleted object ``obj_id`` (row-locked with ``lock``), else a ValidationError."""
        queryset = self.OBJECT_TYPE.objects.select_for_update() if lock else self.OBJECT_TYPE.objects
        obj = queryset.filter(id=obj_id).first()
        if obj is None:
            raise ValidationError(f"{self._model_name()} {obj_id} does not exist")
        if getattr(obj, "is_deleted", False):
            raise ValidationError(f"{self._model_name()} {obj_id} is deleted")
        return obj

    def save_instance(self, obj):
        obj.save(user=self.user)
        return output_result_success(model_representation(obj))

    def delete_instance(self, obj):
        obj.delete(user=self.user)
        return build_delete_instance_payload()


# ---------------------------------------------------------------------------------------------
# Roles and users
# ---------------------------------------------------------------------------------------------
# Nobody hands out more than they hold: rights granted to a role, roles and districts granted to a user stay
# within the caller's own; accounts and roles holding more than the caller are out of the caller's reach.
# IMIS administrators and superusers are the exception (superuser accounts stay reserved to superusers).
def is_administrator(user):
    return bool(user.is_superuser or user.is_imis_admin)


def _codes(rights):
    return ", ".join(str(r) for r in sorted(rights))


def check_can_grant_rights(user, rights):
    """``PermissionDenied`` unless ``user`` holds every right of ``rights`` (administrators hold them all)."""
    if is_administrator(user):
        return
    missing = {int(r) for r in rights} - set(user.rights)
    if missing:
        raise PermissionDenied(f"You cannot grant rights you do not hold: {_codes(missing)}")


def check_can_change_role(user, role):
    """System roles are read-only for non-administrators; so is a role holding rights the caller lacks."""
    if is_administrator(user):
        return
    if role.is_system:
        raise PermissionDenied(f"Role {role.name} is a system role: only an administrator can change it")
    missing = set(role.rights.filter(validity_to__isnull=True).values_list("right_id", flat=True)) - set(user.rights)
    if missing:
        raise PermissionDenied(f"Role {role.name} holds rights you do not hold ({_codes(missing)}): only an "
                               "administrator can change it")


def check_can_manage_account(user, target):
    """No change (password, roles, districts, profile, activation) to an account holding rights or an
    administrator status the caller lacks; one's own account is always one's own."""
    if target.pk == user.pk or user.is_superuser:
        return
    if target.is_superuser:
        raise PermissionDenied(f"User {target.username} is a superuser: only a superuser can change it")
    if user.is_imis_admin:
        return
    held_rights, holds_admin_role = _roles_held(target)
    if holds_admin_role or target.is_imis_admin or (target.is_staff and not user.is_staff):
        raise PermissionDenied(f"User {target.username} is an administrator: only an administrator can change it")
    missing = (set(target.rights) | held_rights) - set(user.rights)
    if missing:
        raise PermissionDenied(f"User {target.username} holds rights you do not hold ({_codes(missing)}): only an "
                               "administrator can change it")


def _roles_held(target):
    """``(rights, holds the IMIS Administrator role)`` of the target's current roles, blocked ones included: a
    blocked role grants nothing today but comes back whole when unblocked, so its holder stays protected."""
    from core.models import IMIS_ADMIN_SYSTEM_ID, RoleRight, UserRole

    if not target.i_user_id:
        return set(), False
    roles = UserRole.objects.filter(user_id=target.i_user_id, validity_to__isnull=True, role__validity_to__isnull=True)
    rights = set(RoleRight.objects.filter(validity_to__isnull=True, role_id__in=roles.values("role_id"))
                 .values_list("right_id", flat=True))
    return rights, roles.filter(role__is_system=IMIS_ADMIN_SYSTEM_ID).exists()


def check_can_assign_roles(user, role_ids):
    """Roles handed out hold only rights the caller holds; the IMIS Administrator role only from an administrator
    (it grants every right whatever its rights list)."""
    from core.models import IMIS_ADMIN_SYSTEM_ID, Role, RoleRight

    if not role_ids or is_administrator(user):
        return
    if Role.objects.filter(id__in=role_ids, is_system=IMIS_ADMIN_SYSTEM_ID).exists():
        raise PermissionDenied("Only an administrator can assign the IMIS Administrator role")
    check_can_grant_rights(user, RoleRight.objects.filter(role_id__in=role_ids, validity_to__isnull=True)
                           .values_list("right_id", flat=True).distinct())


def check_can_grant_districts(user, district_ids):
    """A district-restricted caller grants or withdraws only districts of his own."""
    from core.location import is_unrestricted, location_manager

    if not district_ids or is_unrestricted(user):
        return
    outside = {int(d) for d in district_ids} - set(location_manager.get_allowed_ids(user, loc_types=("D",)))
    if outside:
        raise PermissionDenied(f"You cannot grant or withdraw districts outside your own: {_codes(outside)}")


def check_max_length(model, field, value, label):
    """A clear business error when ``value`` is longer than the column ``model.field`` holds."""
    max_length = model._meta.get_field(field).max_length
    if max_length and value is not None and len(str(value)) > max_length:
        raise ValidationError(f"{label} must be at most {max_length} characters")


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
        from core.models import RoleRight, invalidate_rights_cache

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
        invalidate_rights_cache()

    @staticmethod
    def _result(role):
        return output_result_success({"id": role.id, "uuid": str(role.uuid), "name": role.name})

    @staticmethod
    def _current(role_uuid, lock=False):
        from core.models import Role

        roles = Role.objects.select_for_update() if lock else Role.objects
        role = roles.filter(uuid=role_uuid, validity_to__isnull=True).first()
        if role is None:
            raise ValidationError(f"Role {role_uuid} does not exist")
        return role

    @service_operation("create")
    def create(self, data):
        from core.models import Role

        rights = data.pop("rights_id", None) or []
        self._validate(data)
        _check_rights_exist(rights)
        check_can_grant_rights(self.user, rights)
        role = Role.objects.create(
            name=data["name"].strip(), alt_language=data.get("alt_language"),
            is_system=int(data.get("is_system") or 0), is_blocked=bool(data.get("is_blocked")),
            audit_user_id=str(self.user.id_for_audit),
        )
        self._set_rights(role, rights)
        return self._result(role)

    def _validate(self, data, exclude_uuid=None):
        from core.models import Role

        name = (data.get("name") or "").strip()
        if not name:
            raise ValidationError("Role name can't be empty")
        check_max_length(Role, "name", name, "Role name")
        duplicates = Role.objects.filter(name__iexact=name, validity_to__isnull=True)
        if exclude_uuid:
            duplicates = duplicates.exclude(uuid=exclude_uuid)
        if duplicates.exists():
            raise ValidationError(f"Role name {name} already exists")

    @service_operation("update")
    def update(self, data):
        role = self._current(data["uuid"], lock=True)
        check_can_change_role(self.user, role)
        if data.get("rights_id") is not None:
            _check_rights_exist(data["rights_id"])
            check_can_grant_rights(self.user, data["rights_id"])
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
            self._set_rights(role, data["rights_id"])
        return self._result(role)

    @service_operation("delete")
    def delete(self, data):
        from core.models import UserRole

        role = self._current(data["uuid"], lock=True)
        if role.is_system:
            raise ValidationError("System roles cannot be deleted")
        check_can_change_role(self.user, role)
        if UserRole.objects.filter(role=role, validity_to__isnull=True, user__validity_to__isnull=True).exists():
            raise ValidationError(f"Role {role.name} is still assigned to users")
        role.validity_to = timezone.now()
        role.save()
        return build_delete_instance_payload()

    @service_operation("duplicate")
    def duplicate(self, data):
        source = self._current(data["uuid"])
        rights = data.get("rights_id")
        if rights is None:
            rights = list(source.rights.filter(validity_to__isnull=True).values_list("right_id", flat=True))
        return ensure_success(self.create({
            "name": data.get("name") or f"{source.name} (copy)",
            "alt_language": data.get("alt_language", source.alt_language),
            "is_system": 0, "is_blocked": data.get("is_blocked", source.is_blocked), "rights_id": rights}))


class UserService:
    """Interactive users: a core.User login plus its InteractiveUser profile, roles and districts."""

    def __init__(self, user):
        self.user = user

    def _assign_roles(self, i_user, role_ids):
        from core.models import Role, UserRole, invalidate_rights_cache

        role_ids = [int(r) for r in role_ids]
        found = set(Role.objects.filter(id__in=role_ids, validity_to__isnull=True).values_list("id", flat=True))
        missing = sorted(set(role_ids) - found)
        if missing:
            raise ValidationError(f"Unknown roles: {missing}")
        check_can_assign_roles(self.user, role_ids)
        UserRole.objects.filter(user=i_user, validity_to__isnull=True).update(validity_to=timezone.now())
        UserRole.objects.bulk_create([UserRole(user=i_user, role_id=r, audit_user_id=str(self.user.id_for_audit))
                                      for r in role_ids])
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
        current = set(UserDistrict.objects.filter(user=i_user, validity_to__isnull=True)
                      .values_list("location_id", flat=True)) if i_user.pk else set()
        check_can_grant_districts(self.user, current.symmetric_difference(district_ids))
        UserDistrict.objects.filter(user=i_user, validity_to__isnull=True).update(validity_to=timezone.now())
        UserDistrict.objects.bulk_create([UserDistrict(user=i_user, location_id=d) for d in district_ids])
        invalidate_location_cache()

    def create_or_update(self, data):
        method = "update" if data.get("uuid") else "create"
        return run_at_boundary(self, method, lambda: self._create_or_update(data, method))

    def _create_or_update(self, data, method):
        from django.contrib.auth.password_validation import validate_password

        from core.models import InteractiveUser, User

        if method == "update":
            account = User.objects.select_related("i_user").filter(id=data["uuid"]).first()
            if account is None or not account.is_active:
                raise ValidationError(f"User {data['uuid']} does not exist")
            check_can_manage_account(self.user, account)
        else:
            username = (data.get("username") or "").strip()
            if not username:
                raise ValidationError("Username can't be empty")
            check_max_length(User, "username", username, "Username")
            if User.objects.filter(username__iexact=username).exists():
                raise ValidationError(f"Username {username} already exists")
            account = User(username=username)
        if method == "update" and data.get("username") and data["username"] != account.username:
            check_max_length(User, "username", data["username"], "Username")
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
            validate_password(data["password"], user=account)
            account.set_password(data["password"])
        elif method == "create":
            account.set_unusable_password()
        account.save()
        if data.get("roles") is not None:
            self._assign_roles(i_user, data["roles"])
        if data.get("districts") is not None:
            self._assign_districts(i_user, data["districts"])
        return output_result_success({"id": str(account.id), "uuid": str(account.id), "username": account.username})

    @service_operation("delete")
    def delete(self, data):
        from core.models import User

        account = User.objects.select_related("i_user").filter(id=data["uuid"]).first()
        if account is None:
            raise ValidationError(f"User {data['uuid']} does not exist")
        if account.id == self.user.id:
            raise ValidationError("You cannot delete your own account")
        check_can_manage_account(self.user, account)
        account.is_active = False
        account.save(update_fields=["is_active"])
        if account.i_user_id:
            account.i_user.validity_to = timezone.now()
            account.i_user.save(update_fields=["validity_to"])
        return build_delete_instance_payload()
