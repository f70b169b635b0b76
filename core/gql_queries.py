"""GraphQL types of core: users, roles, rights, languages, locations, mutation logs, configuration."""
import functools
import json

import graphene
from graphene_django import DjangoObjectType

from core.gql.connection import ExtendedConnection
from core.gql.types import ProtectedType
from core.rights import has_rights, is_authenticated
from core.models import (
    InteractiveUser,
    Language,
    Location,
    ModuleConfiguration,
    MutationLog,
    Role,
    RoleRight,
    User,
    UserDistrict,
)


class LanguageGQLType(DjangoObjectType):
    class Meta:
        model = Language
        fields = ("code", "name", "sort_order")


class LocationGQLType(ProtectedType):
    public = True  # the location pickers of every page need them

    uuid = graphene.String()

    class Meta:
        model = Location
        fields = ("id", "uuid", "code", "name", "type", "parent", "validity_from", "validity_to", "json_ext",
                  "children")
        filter_fields = {
            "id": ["exact"],
            "uuid": ["exact"],
            "code": ["exact", "iexact", "istartswith", "icontains"],
            "name": ["exact", "iexact", "istartswith", "icontains"],
            "type": ["exact"],
            "parent__uuid": ["exact"],
            "parent__id": ["exact"],
        }
        convert_choices_to_enum = False

    def resolve_uuid(self, info):
        return str(self.uuid)

    def resolve_type(self, info):
        return self.type


def _own_or_user_reader(info, own_attribute, node_id):
    """One's own account is readable; anybody else's needs the user search right (121701).

    The user types keep graphene's plain foreign-key resolution (every list shows ``userUpdated { username }``
    to whoever may read the row), so only ``node(id:)`` is guarded here."""
    user = getattr(info.context, "user", None)
    if not is_authenticated(user):
        return False
    return str(getattr(user, own_attribute)) == str(node_id) or has_rights(user, "core.gql_query_users_perms")


class _AccountType(DjangoObjectType):
    """A user account type: ``node(id:)`` answers one's own account, anybody else's with 121701."""

    own_attribute = None  # the attribute of the request's user holding this type's id
    uuid_attribute = None

    class Meta:
        abstract = True

    @classmethod
    def get_node(cls, info, id):
        return super().get_node(info, id) if _own_or_user_reader(info, cls.own_attribute, id) else None

    def resolve_uuid(self, info):
        return str(getattr(self, info.parent_type.graphene_type.uuid_attribute))


class InteractiveUserGQLType(_AccountType):
    own_attribute, uuid_attribute = "i_user_id", "uuid"

    uuid = graphene.String()
    user_districts = graphene.List(LocationGQLType)
    roles = graphene.List(lambda: RoleGQLType)

    class Meta:
        model = InteractiveUser
        interfaces = (graphene.relay.Node,)
        fields = ("id", "uuid", "last_name", "other_names", "email", "phone", "language", "health_facility_id",
                  "validity_from", "validity_to")
        connection_class = ExtendedConnection

    def resolve_user_districts(self, info):
        return [ud.location for ud in self.user_districts.filter(validity_to__isnull=True).select_related("location")]

    def resolve_roles(self, info):
        return [ur.role for ur in self.user_roles.filter(validity_to__isnull=True).select_related("role")]


# Types other openIMIS modules contribute to the user query; here they always resolve to null.
class PricelistGQLType(graphene.ObjectType):
    id = graphene.ID()
    uuid = graphene.String()


class HealthFacilityGQLType(graphene.ObjectType):
    id = graphene.ID()
    uuid = graphene.String()
    code = graphene.String()
    name = graphene.String()
    level = graphene.String()
    services_pricelist = graphene.Field(PricelistGQLType)
    items_pricelist = graphene.Field(PricelistGQLType)
    contract_start_date = graphene.Date()
    contract_end_date = graphene.Date()
    location = graphene.Field(LocationGQLType)


class OfficerGQLType(graphene.ObjectType):
    id = graphene.ID()
    uuid = graphene.String()
    code = graphene.String()
    dob = graphene.Date()
    address = graphene.String()
    location = graphene.Field(LocationGQLType)


class ClaimAdminGQLType(graphene.ObjectType):
    id = graphene.ID()
    uuid = graphene.String()
    code = graphene.String()


def _account_detail(resolver):
    """A field of a ``UserGQLType`` beyond its username: read only by that user or a holder of the user search
    right (121701). Everybody else reaches other accounts only as the ``userCreated { username }`` of rows they
    may read, and reads every other field (aliased, in fragments or nested) as null."""

    @functools.wraps(resolver)
    def resolve(root, info, **kwargs):
        if not _own_or_user_reader(info, "id", root.pk):
            return None
        return resolver(root, info, **kwargs)

    return resolve


def _attribute(name):
    return lambda root, info: getattr(root, name)


class UserGQLType(_AccountType):
    own_attribute, uuid_attribute = "id", "id"

    uuid = graphene.String()
    is_active = graphene.Boolean()  # nullable: null for a caller who may not read the account
    date_joined = graphene.DateTime()
    rights = graphene.List(graphene.Int)
    email = graphene.String()
    last_name = graphene.String()
    other_names = graphene.String()
    phone = graphene.String()
    health_facility = graphene.Field(HealthFacilityGQLType)
    officer = graphene.Field(OfficerGQLType)
    claim_admin = graphene.Field(ClaimAdminGQLType)
    client_mutation_id = graphene.String()

    class Meta:
        model = User
        interfaces = (graphene.relay.Node,)
        fields = ("id", "username", "i_user", "is_active", "last_login", "date_joined")
        filter_fields = {
            "username": ["exact", "iexact", "istartswith", "icontains"],
            "i_user__last_name": ["exact", "iexact", "istartswith", "icontains"],
            "i_user__other_names": ["exact", "iexact", "istartswith", "icontains"],
            "i_user__email": ["exact", "iexact", "icontains"],
            "is_active": ["exact"],
        }
        connection_class = ExtendedConnection

    resolve_uuid = _account_detail(_AccountType.resolve_uuid)
    resolve_i_user = _account_detail(_attribute("i_user"))
    resolve_is_active = _account_detail(_attribute("is_active"))
    resolve_last_login = _account_detail(_attribute("last_login"))
    resolve_date_joined = _account_detail(_attribute("date_joined"))

    @_account_detail
    def resolve_rights(self, info):
        return self.get_rights_for_frontend()

    @_account_detail
    def resolve_email(self, info):
        return self.email

    @_account_detail
    def resolve_last_name(self, info):
        return self.last_name

    @_account_detail
    def resolve_other_names(self, info):
        return self.other_names

    @_account_detail
    def resolve_phone(self, info):
        return self.phone

    @_account_detail
    def resolve_health_facility(self, info):
        return None

    @_account_detail
    def resolve_officer(self, info):
        return None

    @_account_detail
    def resolve_claim_admin(self, info):
        return None

    @_account_detail
    def resolve_client_mutation_id(self, info):
        link = self.mutations.select_related("mutation").order_by("-mutation__request_date_time").first()
        return link.mutation.client_mutation_id if link else None


class RoleGQLType(ProtectedType):
    read_perms = "core.gql_query_roles_perms"

    uuid = graphene.String()
    client_mutation_id = graphene.String()

    class Meta:
        model = Role
        fields = ("id", "uuid", "name", "alt_language", "is_system", "is_blocked", "validity_from", "validity_to",
                  "rights")
        filter_fields = {
            "uuid": ["exact"],
            "name": ["exact", "iexact", "istartswith", "icontains"],
            "alt_language": ["exact", "iexact", "istartswith", "icontains"],
            "is_blocked": ["exact"],
        }

    def resolve_uuid(self, info):
        return str(self.uuid)

    def resolve_client_mutation_id(self, info):
        link = self.mutations.select_related("mutation").order_by("-mutation__request_date_time").first()
        return link.mutation.client_mutation_id if link else None


class RoleRightGQLType(ProtectedType):
    read_perms = "core.gql_query_roles_perms"

    class Meta:
        model = RoleRight
        fields = ("id", "role", "right_id", "validity_from", "validity_to")
        filter_fields = {"role__uuid": ["exact"], "role__id": ["exact"], "right_id": ["exact"]}


class UserDistrictGQLType(DjangoObjectType):
    class Meta:
        model = UserDistrict
        fields = ("id", "user", "location", "validity_from", "validity_to")


class MutationLogGQLType(ProtectedType):
    """Any logged-in user reads the logs of their own mutations (superusers: every log)."""

    public = True

    user = graphene.Field(UserGQLType)
    status = graphene.Int()

    class Meta:
        model = MutationLog
        fields = ("id", "json_content", "user", "request_date_time", "client_mutation_id", "client_mutation_label",
                  "client_mutation_details", "status", "error", "autogenerated_code", "json_ext")
        filter_fields = {
            "id": ["exact"],
            "client_mutation_id": ["exact"],
            "client_mutation_label": ["exact"],
            "request_date_time": ["exact", "gte", "lte"],
            "status": ["exact", "gte"],
            "user": ["exact"],
        }
        convert_choices_to_enum = False

    @classmethod
    def restrict(cls, queryset, user):
        return queryset if user.is_superuser else queryset.filter(user=user)

    def resolve_status(self, info):
        return self.status


class ControlGQLType(graphene.ObjectType):
    field = graphene.String()
    usage = graphene.String()


class ModuleConfigurationGQLType(DjangoObjectType):
    controls = graphene.List(ControlGQLType)
    config = graphene.String()

    class Meta:
        model = ModuleConfiguration
        fields = ("id", "module", "layer", "version", "config", "is_exposed", "is_disabled_until")

    def resolve_controls(self, info):
        try:
            controls = json.loads(self.config or "{}").get("controls", [])
        except ValueError:
            return []
        return [ControlGQLType(field=c.get("field"), usage=c.get("usage")) for c in controls if isinstance(c, dict)]


class PermissionGQLType(graphene.ObjectType):
    perms_name = graphene.String()
    perms_value = graphene.Int()


class ModulePermissionGQLType(graphene.ObjectType):
    module_name = graphene.String()
    permissions = graphene.List(PermissionGQLType)


class ModulePermissionsListGQLType(graphene.ObjectType):
    module_perms_list = graphene.List(ModulePermissionGQLType)


class PossibleFilterGQLType(graphene.ObjectType):
    field = graphene.String()
    filter = graphene.String()
    type = graphene.String()


class CustomFilterGQLType(graphene.ObjectType):
    type = graphene.String()
    code = graphene.String()
    object_class_name = graphene.String()
    possible_filters = graphene.List(PossibleFilterGQLType)


class PasswordPolicyGQLType(graphene.ObjectType):
    min_length = graphene.Int()
    rules = graphene.List(graphene.String)


class ValidationMessageGQLType(graphene.ObjectType):
    is_valid = graphene.Boolean()
    error_code = graphene.Int()
    error_message = graphene.String()


# --- calculation rules (upstream's ``calculation`` app, calcrule spec §3.4) -----------------------------------------
class CalculationRulesGQLType(graphene.ObjectType):
    calculation_class_name = graphene.String()
    status = graphene.String()
    description = graphene.String()
    uuid = graphene.UUID()
    class_param = graphene.JSONString()
    date_valid_from = graphene.Date()
    date_valid_to = graphene.Date()

    @classmethod
    def of(cls, rule):
        return cls(calculation_class_name=rule.calculation_rule_name, status=rule.status,
                   description=rule.description, uuid=rule.uuid, class_param=rule.impacted_class_parameter,
                   date_valid_from=rule.date_valid_from, date_valid_to=rule.date_valid_to)


class CalculationRulesListGQLType(graphene.ObjectType):
    calculation_rules = graphene.List(CalculationRulesGQLType)


class LabelParamGQLType(graphene.ObjectType):
    en = graphene.String()
    fr = graphene.String()


class RightParamGQLType(graphene.ObjectType):
    read = graphene.String()
    write = graphene.String()
    update = graphene.String()
    replace = graphene.String()


class OptionParamGQLType(graphene.ObjectType):
    value = graphene.String()
    label = graphene.Field(LabelParamGQLType)


class CalculationParamsGQLType(graphene.ObjectType):
    type = graphene.String()
    name = graphene.String()
    label = graphene.Field(LabelParamGQLType)
    rights = graphene.Field(RightParamGQLType)
    option_set = graphene.List(OptionParamGQLType)
    default_value = graphene.String()

    @classmethod
    def of(cls, param):
        """A parameter declaration of a rule (``impacted_class_parameter[…]["parameters"]`` item)."""

        def label(value):
            value = value or {}
            return LabelParamGQLType(en=value.get("en"), fr=value.get("fr"))

        rights = param.get("rights") or {}
        default = param.get("default", param.get("default_value", param.get("defaultValue")))
        return cls(type=param.get("type"), name=param.get("name"), label=label(param.get("label")),
                   rights=RightParamGQLType(**{key: rights.get(key) for key in ("read", "write", "update", "replace")}),
                   option_set=[OptionParamGQLType(value=option.get("value"), label=label(option.get("label")))
                               for option in param.get("optionSet") or []],
                   default_value=None if default is None else str(default))


class CalculationParamsListGQLType(graphene.ObjectType):
    calculation_params = graphene.List(CalculationParamsGQLType)


class LinkedClassListGQLType(graphene.ObjectType):
    linked_classes = graphene.List(graphene.String)
