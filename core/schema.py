import json

import graphene
import graphql_jwt
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from graphql import GraphQLError
from graphql_jwt.exceptions import JSONWebTokenError

from core.apps import CoreConfig
from core.calculation import CalculationRuleRegistry
from core.custom_filters import CustomFilterRegistryPoint, parse_additional_params
from core.errors import business_detail
from core.gql.connection import OrderedDjangoFilterConnectionField  # noqa: F401  (public import path)
from core.gql.mutation import mutation_fields
from core.gql_mutations import (
    ChangePasswordMutation,
    ChangeUserLanguageMutation,
    CreateRoleMutation,
    CreateUserMutation,
    DeleteRoleMutation,
    DeleteUserMutation,
    DuplicateRoleMutation,
    ResetPasswordMutation,
    SetPasswordMutation,
    UpdateRoleMutation,
    UpdateUserMutation,
)
from core.gql_queries import (
    CalculationParamsGQLType,
    CalculationParamsListGQLType,
    CalculationRulesGQLType,
    CalculationRulesListGQLType,
    CustomFilterGQLType,
    LanguageGQLType,
    LinkedClassListGQLType,
    LocationGQLType,
    ModuleConfigurationGQLType,
    ModulePermissionGQLType,
    ModulePermissionsListGQLType,
    MutationLogGQLType,
    PermissionGQLType,
    PossibleFilterGQLType,
    RoleGQLType,
    RoleRightGQLType,
    UserGQLType,
)
from core.models import Language, Location, ModuleConfiguration, MutationLog, Role, RoleRight, User
from core.module_config import modules_permissions
from core.rights import require


# --- authentication ------------------------------------------------------------------------------
class TokenAuth(graphql_jwt.ObtainJSONWebToken):
    """Login. Every failure reads INCORRECT_CREDENTIALS, whether or not the user exists."""

    @classmethod
    def mutate(cls, root, info, **kwargs):
        from core.throttle import locked_out_message, login_locked_out, mark_graphql_lockout

        try:
            return super().mutate(root, info, **kwargs)
        except JSONWebTokenError:
            if login_locked_out(info.context):  # the throttle refused it, whatever the password (HTTP 429)
                mark_graphql_lockout(info.context)
                raise GraphQLError(locked_out_message())
            raise GraphQLError("INCORRECT_CREDENTIALS")

    @classmethod
    def resolve(cls, root, info, **kwargs):
        return cls()


class VerifyToken(graphql_jwt.Verify):
    pass


class RefreshToken(graphql_jwt.Refresh):
    pass


class RevokeToken(graphene.Mutation):
    """Revokes the given access token, or the caller's own token when none is given."""

    revoked = graphene.Int()

    class Arguments:
        token = graphene.String(required=False)
        refresh_token = graphene.String(required=False)

    @classmethod
    def mutate(cls, root, info, token=None, refresh_token=None):
        from graphql_jwt.utils import get_credentials

        from core.jwt import revoke_token

        token = token or refresh_token or get_credentials(info.context)
        if not token:
            raise JSONWebTokenError("Token is required")
        payload = revoke_token(token)
        _settle_request_user(info, payload)
        return cls(revoked=int(payload.get("exp", 0)))


def _settle_request_user(info, payload):
    # The JWT middleware authenticates again for sub-fields of the payload; with the token just revoked
    # that would fail, so the request keeps the identity it had when it asked for the revocation.
    from graphql_jwt.utils import get_user_by_payload

    user = get_user_by_payload(payload)
    if user is not None:
        info.context.user = user


class DeleteTokenCookie(graphql_jwt.DeleteJSONWebTokenCookie):
    """Logout: the cookie is removed and the token it carried is revoked server-side."""

    @classmethod
    def mutate(cls, root, info, **kwargs):
        from graphql_jwt.settings import jwt_settings

        from core.jwt import revoke_token

        token = info.context.COOKIES.get(jwt_settings.JWT_COOKIE_NAME)
        if token:
            try:
                _settle_request_user(info, revoke_token(token))
            except JSONWebTokenError:
                pass  # an expired or foreign token needs no revocation
        return super().mutate(root, info, **kwargs)


# --- calculation rules (calcrule spec §3.4, §7.1) -------------------------------------------------------------------
CALCULATION_RULE_PERMS = "core.gql_query_calculation_rule_perms"
CALCULATION_INSTANCE = "Calculation"  # instanceClassName of a rule itself (instanceId = the rule's uuid)


def _calculation_instance(instance_class_name, instance_id):
    """What ``calculationParams`` asks the rules about: a rule (``Calculation`` + its uuid) or an object that
    references a rule (a model with a ``calculation`` field, e.g. ``PaymentPlan``); None when there is none."""
    if instance_class_name == CALCULATION_INSTANCE:
        return CalculationRuleRegistry.get(instance_id)
    from django.apps import apps

    models = [model for model in apps.get_models() if model.__name__ == instance_class_name
              and any(field.name == "calculation" for field in model._meta.concrete_fields)]
    if len(models) != 1:
        raise GraphQLError(f"calculationParams: {instance_class_name!r} is not a class that selects a calculation rule")
    try:
        return models[0]._default_manager.filter(pk=instance_id).first()
    except (ValidationError, ValueError):
        return None


def _calculation_params(class_name, instance):
    params = []
    for rule in CalculationRuleRegistry.all():
        params.extend(rule.get_parameters(class_name=class_name, instance=instance) or [])
    return params


class Query(graphene.ObjectType):
    user = graphene.Field(UserGQLType)
    users = OrderedDjangoFilterConnectionField(UserGQLType, str=graphene.String(), role_id=graphene.Int(),
                                               last_name=graphene.String(), other_names=graphene.String())
    role = OrderedDjangoFilterConnectionField(
        RoleGQLType, is_system=graphene.Boolean(), role_right=graphene.Int(), system_role_id=graphene.Int(),
        show_history=graphene.Boolean(), client_mutation_id=graphene.String(), str=graphene.String(),
    )
    role_right = OrderedDjangoFilterConnectionField(RoleRightGQLType, validity=graphene.Date())
    modules_permissions = graphene.Field(ModulePermissionsListGQLType)
    languages = graphene.List(LanguageGQLType)
    password_policy = graphene.String()
    validate_role_name = graphene.Boolean(role_name=graphene.String(required=True))
    validate_username = graphene.Boolean(username=graphene.String(required=True))
    validate_user_email = graphene.Boolean(user_email=graphene.String(required=True))
    username_length = graphene.Int()
    module_configurations = graphene.List(ModuleConfigurationGQLType, validity=graphene.String(),
                                          layer=graphene.String())
    mutation_logs = OrderedDjangoFilterConnectionField(MutationLogGQLType)
    locations = OrderedDjangoFilterConnectionField(LocationGQLType)
    user_districts = graphene.List(LocationGQLType)
    custom_filters = graphene.List(
        CustomFilterGQLType,
        module_name=graphene.String(required=True),
        object_type_name=graphene.String(required=True),
        uuid_of_object=graphene.String(required=False),
        additional_params=graphene.String(required=False),
    )
    calculation_rules = graphene.Field(CalculationRulesListGQLType)
    calculation_rules_by_class_name = graphene.Field(CalculationRulesListGQLType,
                                                     class_name=graphene.String(required=True))
    calculation_params = graphene.Field(CalculationParamsListGQLType, class_name=graphene.String(required=True),
                                        instance_id=graphene.String(required=True),
                                        instance_class_name=graphene.String(required=True))
    linked_class = graphene.Field(LinkedClassListGQLType, class_name_list=graphene.List(graphene.String))

    def resolve_user(self, info):
        user = info.context.user
        return user if user.is_authenticated else None

    def resolve_users(self, info, str=None, role_id=None, last_name=None, other_names=None, **kwargs):
        require(info.context.user, CoreConfig.gql_query_users_perms)
        qs = User.objects.filter(is_active=True)
        if str:
            for term in str.split():
                qs = qs.filter(Q(username__icontains=term) | Q(i_user__last_name__icontains=term)
                               | Q(i_user__other_names__icontains=term))
        if role_id:
            qs = qs.filter(i_user__user_roles__role_id=role_id, i_user__user_roles__validity_to__isnull=True)
        if last_name:
            qs = qs.filter(i_user__last_name__icontains=last_name)
        if other_names:
            qs = qs.filter(i_user__other_names__icontains=other_names)
        return qs.distinct()

    def resolve_role(self, info, is_system=None, role_right=None, system_role_id=None, show_history=False,
                     client_mutation_id=None, str=None, **kwargs):
        require(info.context.user, CoreConfig.gql_query_roles_perms)
        qs = Role.objects.all() if show_history else Role.objects.filter(validity_to__isnull=True)
        if is_system is True:
            qs = qs.exclude(is_system=0)
        elif is_system is False:
            qs = qs.filter(is_system=0)
        if system_role_id is not None:
            qs = qs.filter(is_system=system_role_id)
        if role_right is not None:
            qs = qs.filter(rights__right_id=role_right, rights__validity_to__isnull=True)
        if client_mutation_id:
            qs = qs.filter(mutations__mutation__client_mutation_id=client_mutation_id)
        if str:
            qs = qs.filter(name__icontains=str)
        return qs.distinct()

    def resolve_role_right(self, info, validity=None, **kwargs):
        require(info.context.user, CoreConfig.gql_query_roles_perms)
        return RoleRight.objects.filter(validity_to__isnull=True)

    def resolve_modules_permissions(self, info):
        require(info.context.user, CoreConfig.gql_query_roles_perms)
        return ModulePermissionsListGQLType(module_perms_list=[
            ModulePermissionGQLType(module_name=module, permissions=[
                PermissionGQLType(perms_name=name, perms_value=value) for name, value in perms
            ])
            for module, perms in modules_permissions()
        ])

    def resolve_languages(self, info):
        require(info.context.user)
        return Language.objects.all()

    def resolve_password_policy(self, info):
        return json.dumps({"rules": password_validators_help_texts()})

    def resolve_validate_role_name(self, info, role_name):
        require(info.context.user, CoreConfig.gql_query_roles_perms)
        return not Role.objects.filter(name__iexact=role_name.strip(), validity_to__isnull=True).exists()

    def resolve_validate_username(self, info, username):
        require(info.context.user, CoreConfig.gql_query_users_perms)
        return not User.objects.filter(username__iexact=username.strip()).exists()

    def resolve_validate_user_email(self, info, user_email):
        require(info.context.user, CoreConfig.gql_query_users_perms)
        return not User.objects.filter(i_user__email__iexact=user_email.strip()).exists()

    def resolve_username_length(self, info):
        require(info.context.user)
        return int(CoreConfig.username_code_length)

    def resolve_module_configurations(self, info, validity=None, layer=None):
        # Public on purpose: the frontend reads it before login; only rows marked exposed are returned.
        qs = ModuleConfiguration.objects.filter(is_exposed=True)
        if layer:
            qs = qs.filter(layer=layer)
        return qs

    def resolve_mutation_logs(self, info, **kwargs):
        require(info.context.user)
        return MutationLog.objects.all()  # MutationLogGQLType keeps each user to their own logs

    def resolve_locations(self, info, **kwargs):
        require(info.context.user, CoreConfig.gql_query_locations_perms)
        return Location.objects.filter(validity_to__isnull=True)

    def resolve_user_districts(self, info):
        user = info.context.user
        require(user)
        from core.location import is_unrestricted

        if is_unrestricted(user):
            return Location.objects.filter(type="D", validity_to__isnull=True).select_related("parent").order_by("code")
        return (Location.objects.filter(type="D", validity_to__isnull=True, user_districts__user_id=user.i_user_id,
                                        user_districts__validity_to__isnull=True)
                .select_related("parent").order_by("code").distinct())

    def resolve_custom_filters(self, info, module_name, object_type_name, uuid_of_object=None,
                               additional_params=None):
        require(info.context.user)
        try:
            params = parse_additional_params(additional_params)
        except ValidationError as exc:
            raise GraphQLError(business_detail(exc))
        definitions = []
        for wizard in CustomFilterRegistryPoint.wizards(module_name, object_type_name):
            for definition in wizard().load_definition(
                    tuple_type=None, uuid=uuid_of_object, user=info.context.user, **(params or {})):
                definitions.append(CustomFilterGQLType(
                    type=definition.type, code=definition.code, object_class_name=definition.object_class_name,
                    possible_filters=[PossibleFilterGQLType(field=p.field, filter=p.filter, type=p.type)
                                      for p in definition.possible_filters],
                ))
        return definitions

    def resolve_calculation_rules(self, info):
        require(info.context.user, CALCULATION_RULE_PERMS)
        return CalculationRulesListGQLType(calculation_rules=[
            CalculationRulesGQLType.of(rule) for rule in CalculationRuleRegistry.all()])

    def resolve_calculation_rules_by_class_name(self, info, class_name):
        require(info.context.user, CALCULATION_RULE_PERMS)
        return CalculationRulesListGQLType(calculation_rules=[
            CalculationRulesGQLType.of(rule) for rule in CalculationRuleRegistry.for_class(class_name)])

    def resolve_calculation_params(self, info, class_name, instance_id, instance_class_name):
        require(info.context.user, CALCULATION_RULE_PERMS)
        instance = _calculation_instance(instance_class_name, instance_id)
        params = _calculation_params(class_name, instance) if instance is not None else []
        return CalculationParamsListGQLType(calculation_params=[CalculationParamsGQLType.of(p) for p in params])

    def resolve_linked_class(self, info, class_name_list=None):
        require(info.context.user, CALCULATION_RULE_PERMS)
        linked = set()
        for rule in CalculationRuleRegistry.all():
            for class_name in class_name_list if class_name_list is not None else [None]:
                linked.update(rule.get_linked_class(class_name=class_name) or [])
        return LinkedClassListGQLType(linked_classes=sorted(linked))


Mutation = mutation_fields(
    TokenAuth, VerifyToken, RefreshToken, RevokeToken, DeleteTokenCookie, graphql_jwt.DeleteRefreshTokenCookie,
    CreateRoleMutation, UpdateRoleMutation, DeleteRoleMutation, DuplicateRoleMutation,
    CreateUserMutation, UpdateUserMutation, DeleteUserMutation,
    ChangeUserLanguageMutation, ChangePasswordMutation, ResetPasswordMutation, SetPasswordMutation,
)
