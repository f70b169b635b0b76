"""Core mutations: roles, users, languages and passwords. Thin: check rights, call a service."""
import logging

import graphene
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail

from core.apps import CoreConfig
from core.gql.mutation import BaseMutation, check_perms
from core.models import Language, Role, RoleMutation, User, UserMutation
from core.services import RoleService, UserService

logger = logging.getLogger(__name__)


def _raise_on_failure(result):
    if not result.get("success"):
        return [{"message": result.get("message"), "detail": result.get("detail")}]
    return None


class RoleInputType(BaseMutation.Input):
    uuid = graphene.String(required=False)
    name = graphene.String(required=False)
    alt_language = graphene.String(required=False)
    is_system = graphene.Boolean(required=False)
    is_blocked = graphene.Boolean(required=False)
    rights_id = graphene.List(graphene.Int, required=False)


class CreateRoleMutation(BaseMutation):
    _mutation_module = "core"
    _mutation_class = "CreateRoleMutation"

    class Input(RoleInputType):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, CoreConfig.gql_mutation_create_roles_perms)

    @classmethod
    def _mutate(cls, user, **data):
        client_mutation_id = data.get("client_mutation_id")
        payload = {k: v for k, v in data.items() if k not in ("client_mutation_id", "client_mutation_label", "uuid")}
        payload["is_system"] = 0
        result = RoleService(user).create(payload)
        if result.get("success") and client_mutation_id:
            RoleMutation.object_mutated(user, client_mutation_id=client_mutation_id,
                                        role=Role.objects.get(uuid=result["data"]["uuid"]))
        return _raise_on_failure(result)


class UpdateRoleMutation(BaseMutation):
    _mutation_module = "core"
    _mutation_class = "UpdateRoleMutation"

    class Input(RoleInputType):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, CoreConfig.gql_mutation_update_roles_perms)
        if not data.get("uuid"):
            raise ValidationError("uuid is required")

    @classmethod
    def _mutate(cls, user, **data):
        payload = {k: v for k, v in data.items() if k not in ("client_mutation_id", "client_mutation_label")}
        payload.pop("is_system", None)  # the system flag of a role is not editable from the client
        return _raise_on_failure(RoleService(user).update(payload))


class DeleteRoleMutation(BaseMutation):
    _mutation_module = "core"
    _mutation_class = "DeleteRoleMutation"

    class Input(BaseMutation.Input):
        uuids = graphene.List(graphene.String)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, CoreConfig.gql_mutation_delete_roles_perms)

    @classmethod
    def _mutate(cls, user, **data):
        service = RoleService(user)
        for uuid in data.get("uuids") or []:
            errors = _raise_on_failure(service.delete({"uuid": uuid}))
            if errors:
                return errors
        return None


class DuplicateRoleMutation(BaseMutation):
    _mutation_module = "core"
    _mutation_class = "DuplicateRoleMutation"

    class Input(RoleInputType):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, CoreConfig.gql_mutation_duplicate_roles_perms)
        if not data.get("uuid"):
            raise ValidationError("uuid of the role to duplicate is required")

    @classmethod
    def _mutate(cls, user, **data):
        payload = {k: v for k, v in data.items() if k not in ("client_mutation_id", "client_mutation_label")}
        return _raise_on_failure(RoleService(user).duplicate(payload))


class UserInputType(BaseMutation.Input):
    uuid = graphene.String(required=False)
    username = graphene.String(required=False)
    user_types = graphene.List(graphene.String, required=False)
    last_name = graphene.String(required=False)
    other_names = graphene.String(required=False)
    phone = graphene.String(required=False)
    email = graphene.String(required=False)
    password = graphene.String(required=False)
    health_facility_id = graphene.Int(required=False)
    districts = graphene.List(graphene.Int, required=False)
    location_id = graphene.Int(required=False)
    language = graphene.String(required=False)
    roles = graphene.List(graphene.Int, required=False)


class CreateUserMutation(BaseMutation):
    _mutation_module = "core"
    _mutation_class = "CreateUserMutation"

    class Input(UserInputType):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, CoreConfig.gql_mutation_create_users_perms)

    @classmethod
    def _mutate(cls, user, **data):
        _check_can_grant_roles(user, data.get("roles"))
        client_mutation_id = data.get("client_mutation_id")
        payload = {k: v for k, v in data.items() if k not in ("client_mutation_id", "client_mutation_label", "uuid")}
        result = UserService(user).create_or_update(payload)
        if result.get("success") and client_mutation_id:
            UserMutation.object_mutated(user, client_mutation_id=client_mutation_id,
                                        core_user=User.objects.get(id=result["data"]["id"]))
        return _raise_on_failure(result)


class UpdateUserMutation(BaseMutation):
    _mutation_module = "core"
    _mutation_class = "UpdateUserMutation"

    class Input(UserInputType):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, CoreConfig.gql_mutation_update_users_perms)
        if not data.get("uuid"):
            raise ValidationError("uuid is required")

    @classmethod
    def _mutate(cls, user, **data):
        _check_can_grant_roles(user, data.get("roles"))
        payload = {k: v for k, v in data.items() if k not in ("client_mutation_id", "client_mutation_label")}
        return _raise_on_failure(UserService(user).create_or_update(payload))


def _check_can_grant_roles(user, role_ids):
    """Nobody hands out rights they do not hold themselves (privilege escalation guard)."""
    if not role_ids or user.is_superuser or user.is_imis_admin:
        return
    from core.models import RoleRight

    granted = set(RoleRight.objects.filter(role_id__in=role_ids, validity_to__isnull=True)
                  .values_list("right_id", flat=True))
    if not granted.issubset(set(user.rights)):
        raise PermissionDenied("unauthorized")


class DeleteUserMutation(BaseMutation):
    _mutation_module = "core"
    _mutation_class = "DeleteUserMutation"

    class Input(BaseMutation.Input):
        uuids = graphene.List(graphene.String)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, CoreConfig.gql_mutation_delete_users_perms)

    @classmethod
    def _mutate(cls, user, **data):
        service = UserService(user)
        for uuid in data.get("uuids") or []:
            errors = _raise_on_failure(service.delete({"uuid": uuid}))
            if errors:
                return errors
        return None


class ChangeUserLanguageMutation(BaseMutation):
    _mutation_module = "core"
    _mutation_class = "ChangeUserLanguageMutation"

    class Input(BaseMutation.Input):
        language_id = graphene.String(required=True)

    @classmethod
    def _mutate(cls, user, **data):
        if not Language.objects.filter(code=data["language_id"]).exists():
            raise ValidationError(f"Unknown language {data['language_id']}")
        if not user.i_user_id:
            raise ValidationError("Only interactive users have a language")
        user.i_user.language_id = data["language_id"]
        user.i_user.save(update_fields=["language"])
        return None


class PasswordResultMutation(graphene.Mutation):
    success = graphene.Boolean()
    error = graphene.String()

    class Meta:
        abstract = True


class ChangePasswordMutation(PasswordResultMutation):
    class Arguments:
        new_password = graphene.String(required=True)
        old_password = graphene.String(required=False)
        username = graphene.String(required=False)

    @classmethod
    def mutate(cls, root, info, new_password, old_password=None, username=None):
        from django.contrib.auth.password_validation import validate_password

        user = info.context.user
        if not user.is_authenticated:
            raise PermissionDenied("unauthorized")
        target = user
        if username and username != user.username:
            if not user.has_perms(CoreConfig.gql_mutation_update_users_perms):
                raise PermissionDenied("unauthorized")
            target = User.objects.filter(username=username, is_active=True).first()
            if target is None:
                return cls(success=False, error="User not found")
        elif user.has_usable_password() and not user.check_password(old_password or ""):
            return cls(success=False, error="Old password is incorrect")
        try:
            validate_password(new_password, user=target)
        except ValidationError as exc:
            return cls(success=False, error=" ".join(exc.messages))
        target.set_password(new_password)
        target.save(update_fields=["password"])
        return cls(success=True, error=None)


class ResetPasswordMutation(PasswordResultMutation):
    """Mails a reset link. The answer is the same whether or not the user exists."""

    class Arguments:
        username = graphene.String(required=True)

    @classmethod
    def mutate(cls, root, info, username):
        target = User.objects.filter(username=username, is_active=True).select_related("i_user").first()
        if target is not None and target.email:
            token = default_token_generator.make_token(target)
            link = f"{settings.FRONTEND_URL}/set_password?token={token}&username={target.username}"
            try:
                send_mail("Password reset", f"Set a new password: {link}", None, [target.email])
            except Exception:
                logger.exception("Could not send the password reset mail to %s", target.username)
        return cls(success=True, error=None)


class SetPasswordMutation(PasswordResultMutation):
    class Arguments:
        username = graphene.String(required=True)
        token = graphene.String(required=True)
        new_password = graphene.String(required=True)

    @classmethod
    def mutate(cls, root, info, username, token, new_password):
        from django.contrib.auth.password_validation import validate_password

        target = User.objects.filter(username=username, is_active=True).first()
        if target is None or not default_token_generator.check_token(target, token):
            return cls(success=False, error="Invalid or expired token")
        try:
            validate_password(new_password, user=target)
        except ValidationError as exc:
            return cls(success=False, error=" ".join(exc.messages))
        target.set_password(new_password)
        target.save(update_fields=["password"])
        return cls(success=True, error=None)
