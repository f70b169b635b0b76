"""Core mutations: roles, users, languages and passwords. Thin: check rights, call a service."""
import logging

import graphene
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail

from core.gql.mutation import BaseMutation, ServiceMutation
from core.models import Language, Role, RoleMutation, User, UserMutation
from core.rights import has_rights
from core.services import RoleService, UserService, check_can_manage_account

logger = logging.getLogger(__name__)


class RoleInputType(BaseMutation.Input):
    uuid = graphene.String(required=False)
    name = graphene.String(required=False)
    alt_language = graphene.String(required=False)
    is_system = graphene.Boolean(required=False)
    is_blocked = graphene.Boolean(required=False)
    rights_id = graphene.List(graphene.Int, required=False)


class _CoreMutation(ServiceMutation):
    _mutation_module = "core"

    class Meta:
        abstract = True


class _OnExistingMutation(_CoreMutation):
    """A change of an existing role or user: the input names it by ``uuid``."""

    missing_uuid = "uuid is required"

    class Meta:
        abstract = True

    @classmethod
    def check_access(cls, user, data):
        if not data.get("uuid"):
            raise ValidationError(cls.missing_uuid)


class CreateRoleMutation(_CoreMutation):
    _mutation_class = "CreateRoleMutation"
    permission = "core.gql_mutation_create_roles_perms"
    service, method = RoleService, "create"
    link_model, link_field = RoleMutation, "role"

    class Input(RoleInputType):
        pass

    ignored_inputs = ("uuid",)

    @classmethod
    def payload(cls, user, data):
        return {**super().payload(user, data), "is_system": 0}


class UpdateRoleMutation(_OnExistingMutation):
    _mutation_class = "UpdateRoleMutation"
    permission = "core.gql_mutation_update_roles_perms"
    service, method = RoleService, "update"

    ignored_inputs = ("is_system",)  # the system flag of a role is not editable from the client

    class Input(RoleInputType):
        pass


class _DeleteByUuids(_CoreMutation):
    each, each_key, method = "uuids", "uuid", "delete"

    class Meta:
        abstract = True

    class Input(BaseMutation.Input):
        uuids = graphene.List(graphene.String)


class DeleteRoleMutation(_DeleteByUuids):
    _mutation_class = "DeleteRoleMutation"
    permission = "core.gql_mutation_delete_roles_perms"
    service = RoleService


class DuplicateRoleMutation(_OnExistingMutation):
    _mutation_class = "DuplicateRoleMutation"
    permission = "core.gql_mutation_duplicate_roles_perms"
    service, method = RoleService, "duplicate"
    missing_uuid = "uuid of the role to duplicate is required"

    class Input(RoleInputType):
        pass


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


class CreateUserMutation(_CoreMutation):
    _mutation_class = "CreateUserMutation"
    permission = "core.gql_mutation_create_users_perms"
    service, method = UserService, "create_or_update"
    link_model, link_field = UserMutation, "core_user"

    class Input(UserInputType):
        pass

    ignored_inputs = ("uuid",)


class UpdateUserMutation(_OnExistingMutation):
    _mutation_class = "UpdateUserMutation"
    permission = "core.gql_mutation_update_users_perms"
    service, method = UserService, "create_or_update"

    class Input(UserInputType):
        pass


class DeleteUserMutation(_DeleteByUuids):
    _mutation_class = "DeleteUserMutation"
    permission = "core.gql_mutation_delete_users_perms"
    service = UserService


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


class ChangePasswordMutationInput(graphene.InputObjectType):
    """The web frontend's shape (`changePassword(input: $input)`, as upstream's relay mutation)."""
    username = graphene.String()
    old_password = graphene.String()
    new_password = graphene.String(required=True)
    client_mutation_id = graphene.String()


class ResetPasswordMutationInput(graphene.InputObjectType):
    """The forgot-password page's shape (`resetPassword(input: $input)`)."""
    username = graphene.String(required=True)
    client_mutation_id = graphene.String()


class SetPasswordMutationInput(graphene.InputObjectType):
    """The set-password page's shape (`setPassword(input: $input)`)."""
    username = graphene.String(required=True)
    token = graphene.String(required=True)
    new_password = graphene.String(required=True)
    client_mutation_id = graphene.String()


class PasswordResultMutation(graphene.Mutation):
    """Answers `{success, error}`; takes its values as arguments (`resetPassword(username: …)`) or, as the web
    frontend sends them, as one `input` object (`resetPassword(input: {username, clientMutationId})`)."""
    success = graphene.Boolean()
    error = graphene.String()
    client_mutation_id = graphene.String()

    class Meta:
        abstract = True

    REQUIRED = ()

    @classmethod
    def mutate(cls, root, info, input=None, **arguments):
        values = {**dict(input or {}), **{k: v for k, v in arguments.items() if v is not None}}
        client_mutation_id = values.pop("client_mutation_id", None)
        missing = [name for name in cls.REQUIRED if not values.get(name)]
        if missing:
            from graphene.utils.str_converters import to_camel_case

            answer = cls(success=False, error=f"Missing {', '.join(map(to_camel_case, missing))}")
        else:
            answer = cls.perform(info, **values)
        answer.client_mutation_id = client_mutation_id
        return answer


class ChangePasswordMutation(PasswordResultMutation):
    REQUIRED = ("new_password",)

    class Arguments:
        new_password = graphene.String()
        old_password = graphene.String(required=False)
        username = graphene.String(required=False)
        input = ChangePasswordMutationInput()

    @classmethod
    def perform(cls, info, new_password, old_password=None, username=None):
        from django.contrib.auth.password_validation import validate_password

        user = info.context.user
        if not user.is_authenticated:
            raise PermissionDenied("unauthorized")
        target = user
        if username and username != user.username:
            if not has_rights(user, "core.gql_mutation_update_users_perms"):
                raise PermissionDenied("unauthorized")
            target = User.objects.filter(username=username, is_active=True).first()
            if target is None:
                return cls(success=False, error="User not found")
            try:  # no password set on an account holding more than the caller (account takeover)
                check_can_manage_account(user, target)
            except PermissionDenied as exc:
                return cls(success=False, error=str(exc))
        elif user.has_usable_password():
            from core.throttle import locked_out_message, mark_graphql_lockout, old_password_ok

            ok = old_password_ok(info.context, user, old_password)  # counted like a failed login
            if ok is None:
                mark_graphql_lockout(info.context)
                return cls(success=False, error=locked_out_message())
            if not ok:
                return cls(success=False, error="Old password is incorrect")
        try:
            validate_password(new_password, user=target)
        except ValidationError as exc:
            return cls(success=False, error=" ".join(exc.messages))
        target.set_password(new_password)
        target.save(update_fields=["password"])  # bumps the token generation: every earlier token is refused
        if target.pk == user.pk and getattr(info.context, "jwt_cookie", False):
            from graphql_jwt.shortcuts import get_token

            info.context.jwt_token = get_token(target, info.context)  # the browser changing it stays logged in
        return cls(success=True, error=None)


class ResetPasswordMutation(PasswordResultMutation):
    """Mails a reset link. The answer is the same whether or not the user exists."""

    REQUIRED = ("username",)

    class Arguments:
        username = graphene.String()
        input = ResetPasswordMutationInput()

    @classmethod
    def perform(cls, info, username):
        from core.throttle import locked_out_message, mark_graphql_lockout, password_reset_allowed

        if not password_reset_allowed(info.context, username):  # per username and per client (HTTP 429)
            mark_graphql_lockout(info.context)
            return cls(success=False, error=locked_out_message("PASSWORD_RESET_LOCKED_OUT"))
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
    REQUIRED = ("username", "token", "new_password")

    class Arguments:
        username = graphene.String()
        token = graphene.String()
        new_password = graphene.String()
        input = SetPasswordMutationInput()

    @classmethod
    def perform(cls, info, username, token, new_password):
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
