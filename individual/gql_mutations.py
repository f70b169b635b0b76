"""GraphQL mutations: each is one service call, declared (spec §5.3); rights, then location checks (spec §4)."""
import secrets
import string

import graphene
from django.core.exceptions import ValidationError

from core.gql.filters import parse_uuid
from core.gql.mutation import BaseMutation, IdsInput, ServiceMutation, service_payload
from core.location import location_manager
from core.rights import require_for_mutation
from individual.models import Group, GroupIndividual, GroupMutation, Individual, IndividualMutation
from individual.services import (
    CreateGroupAndMoveIndividualService,
    GroupIndividualService,
    GroupService,
    IndividualService,
)

GroupIndividualRoleEnum = graphene.Enum(
    "GroupIndividualRoleEnum", [(c.value, c.value) for c in GroupIndividual.Role])
GroupIndividualRecipientTypeEnum = graphene.Enum(
    "GroupIndividualRecipientTypeEnum", [(c.value, c.value) for c in GroupIndividual.RecipientType])

LOCATION_MISMATCH = {"success": False, "message": "mutation.individual_group_location_mismatch",
                     "detail": "To add an individual to a group their locations must be the same."}


def _enum_value(value):
    return getattr(value, "value", value) or None


def _uuid_or_error(value, what):
    parsed = parse_uuid(value)
    if value is not None and parsed is None:
        raise ValidationError(f"Invalid {what} id {value}")
    return parsed


def _locations(model, ids):
    return list(model.objects.filter(id__in=[i for i in ids if i]).values_list("location_id", flat=True))


def _mismatch(location, others):
    """The mismatch error when ``location`` and any of ``others`` are both set and differ."""
    if location is not None and any(other is not None and other != location for other in others):
        return LOCATION_MISMATCH
    return None


class _RegistryMutation(ServiceMutation):
    """``location_mismatch(user, payload)``: the spec's error when members and group sit in different places."""

    _mutation_module = "individual"

    class Meta:
        abstract = True

    @classmethod
    def location_mismatch(cls, user, payload):
        return None

    @classmethod
    def call_service(cls, user, payload):
        """The service's approval task instead of the change when the service says this change needs the
        checker (``needs_approval``: household head / primary recipient, undoing a deletion)."""
        mismatch = cls.location_mismatch(user, payload)
        if mismatch:
            return mismatch
        service = cls.service(user)
        needs_approval = getattr(service, "needs_approval", None)
        if cls.method and needs_approval is not None and needs_approval(cls.method, payload):
            result = getattr(service, f"create_{cls.method}_task")(payload)
            return {**result, "approval_task": True} if isinstance(result, dict) else result
        return super().call_service(user, payload)

    @classmethod
    def linked_id(cls, data, result):
        # an approval task: the change does not exist yet, nothing to link
        return None if result.get("approval_task") else super().linked_id(data, result)


# --- individuals --------------------------------------------------------------------------------
class IndividualInputBase:
    first_name = graphene.String(required=True)
    last_name = graphene.String(required=True)
    dob = graphene.Date(required=True)
    json_ext = graphene.JSONString(required=False)
    location_id = graphene.Int(required=False)


class _IndividualMutation(_RegistryMutation):
    service = IndividualService
    link_model, link_field = IndividualMutation, "individual"

    class Meta:
        abstract = True


class CreateIndividualMutation(_IndividualMutation):
    permission, method = "individual.gql_individual_create_perms", "create"

    class Input(IndividualInputBase, BaseMutation.Input):
        pass

    @classmethod
    def check_access(cls, user, data):
        location_manager.check_allowed(user, [data.get("location_id")])


class UpdateIndividualMutation(_IndividualMutation):
    permission, method = "individual.gql_individual_update_perms", "update"
    task_flags = ("individual.check_individual_update",)

    class Input(IndividualInputBase, BaseMutation.Input):
        id = graphene.UUID(required=True)

    @classmethod
    def check_access(cls, user, data):
        location_manager.check_allowed(user, [data.get("location_id"), *_locations(Individual, [data.get("id")])])


class _EachIdMutation(_RegistryMutation):
    """The service once per id of ``ids``; per-id results are not reported (upstream contract, spec §5.3). The
    location of every target (``target_locations``) must be allowed."""

    each, report_each_failure = "ids", False

    class Meta:
        abstract = True

    class Input(IdsInput, BaseMutation.Input):
        pass

    @classmethod
    def target_locations(cls, ids):
        return _locations(cls.service.OBJECT_TYPE, ids)

    @classmethod
    def check_access(cls, user, data):
        location_manager.check_allowed(user, cls.target_locations(data.get("ids") or []))


class DeleteIndividualMutation(_EachIdMutation):
    permission, service, method = "individual.gql_individual_delete_perms", IndividualService, "delete"
    task_flags = ("individual.check_individual_delete",)


class UndoDeleteIndividualMutation(_EachIdMutation):
    permission, service, method = "individual.gql_individual_undo_delete_perms", IndividualService, "undo_delete"


# --- groups -------------------------------------------------------------------------------------
class GroupIndividualDataInput(graphene.InputObjectType):
    individual_id = graphene.UUID(required=True)
    group_id = graphene.UUID(required=False)
    role = graphene.Field(GroupIndividualRoleEnum, required=False)
    recipient_type = graphene.Field(GroupIndividualRecipientTypeEnum, required=False)


class GroupInputBase:
    code = graphene.String(required=True)
    individuals_data = graphene.List(GroupIndividualDataInput, required=False)
    location_id = graphene.Int(required=False)


def _individuals_data(items):
    return [{"individual_id": str(item["individual_id"]),
             "group_id": str(item["group_id"]) if item.get("group_id") else None,
             "role": _enum_value(item.get("role")),
             "recipient_type": _enum_value(item.get("recipient_type"))} for item in items or []]


class _GroupMutation(_RegistryMutation):
    """Members given with the group must be visible to the user and share the group's location."""

    service = GroupService
    link_model, link_field = GroupMutation, "group"

    class Meta:
        abstract = True

    @classmethod
    def payload(cls, user, data):
        payload = super().payload(user, data)
        if "individuals_data" in payload:
            payload["individuals_data"] = _individuals_data(payload["individuals_data"])
        return payload

    @staticmethod
    def _member_ids(data):
        return [str(item["individual_id"]) for item in data.get("individuals_data") or []]

    @classmethod
    def check_access(cls, user, data):
        location_manager.check_allowed(user, [data.get("location_id"), *_locations(Individual, cls._member_ids(data))])

    @classmethod
    def group_location(cls, payload):
        return payload.get("location_id")

    @classmethod
    def location_mismatch(cls, user, payload):
        if "individuals_data" not in payload:
            return None
        return _mismatch(cls.group_location(payload), _locations(Individual, cls._member_ids(payload)))


class CreateGroupMutation(_GroupMutation):
    permission, method = "individual.gql_group_create_perms", "create"

    class Input(GroupInputBase, BaseMutation.Input):
        pass


class UpdateGroupMutation(_GroupMutation):
    permission, method = "individual.gql_group_update_perms", "update"

    class Input(GroupInputBase, BaseMutation.Input):
        id = graphene.UUID(required=True)
        code = graphene.String(required=False)

    @classmethod
    def check_access(cls, user, data):
        super().check_access(user, data)
        location_manager.check_allowed(user, _locations(Group, [data.get("id")]))

    @classmethod
    def group_location(cls, payload):
        if "location_id" in payload:
            return payload["location_id"]
        return next(iter(_locations(Group, [payload["id"]])), None)


class CreateGroupIndividualsMutation(_GroupMutation):
    """Create a group with these individuals as members (upstream's version always fails)."""

    permission, method = "individual.gql_group_create_perms", "create"

    class Input(GroupInputBase, BaseMutation.Input):
        individual_ids = graphene.List(graphene.UUID, required=True)

    @classmethod
    def payload(cls, user, data):
        payload = super().payload(user, data)
        listed = payload.pop("individuals_data", None) or []
        listed_ids = {item["individual_id"] for item in listed}
        payload["individuals_data"] = listed + [
            {"individual_id": str(i), "role": None, "recipient_type": None}
            for i in payload.pop("individual_ids", None) or [] if str(i) not in listed_ids]
        return payload

    @staticmethod
    def _member_ids(data):
        return [*_GroupMutation._member_ids(data), *(str(i) for i in data.get("individual_ids") or [])]


class DeleteGroupMutation(_EachIdMutation):
    permission, service, method = "individual.gql_group_delete_perms", GroupService, "delete"


def random_group_code(length=8):
    alphabet = string.ascii_uppercase + string.digits
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(length))
        if not Group.objects.filter(code=code).exists():
            return code


def _membership_locations(ids):
    rows = GroupIndividual.objects.filter(id__in=[i for i in ids if i]).values_list(
        "group__location_id", "individual__location_id")
    return [location for row in rows for location in row]


class CreateGroupAndMoveIndividualMutation(_RegistryMutation):
    permission = "individual.gql_group_create_perms"
    service, method = CreateGroupAndMoveIndividualService, "create"
    task_flags = ("individual.check_group_individual_update", "individual.check_group_create")

    class Input(GroupInputBase, BaseMutation.Input):
        code = graphene.String(required=False)
        group_individual_id = graphene.UUID(required=True)

    @classmethod
    def check_access(cls, user, data):
        require_for_mutation(user, "individual.gql_group_update_perms")
        location_manager.check_allowed(user, [data.get("location_id"),
                                              *_membership_locations([data.get("group_individual_id")])])

    @classmethod
    def payload(cls, user, data):
        payload = service_payload(data)
        payload.pop("individuals_data", None)
        payload["group_individual_id"] = str(payload["group_individual_id"])
        payload["code"] = payload.get("code") or random_group_code()
        return payload


# --- memberships --------------------------------------------------------------------------------
class GroupIndividualInputBase:
    group_id = graphene.ID(required=False)
    individual_id = graphene.ID(required=True)
    role = graphene.Field(GroupIndividualRoleEnum, required=False)
    recipient_type = graphene.Field(GroupIndividualRecipientTypeEnum, required=False)


class _MembershipMutation(_RegistryMutation):
    """Group and individual must both be visible; when both have a location, the same one."""

    service = GroupIndividualService

    class Meta:
        abstract = True

    @classmethod
    def payload(cls, user, data):
        payload = service_payload(data)
        payload["individual_id"] = _uuid_or_error(payload.get("individual_id"), "individual")
        if "group_id" in payload:
            payload["group_id"] = _uuid_or_error(payload.get("group_id"), "group")
        for key in ("role", "recipient_type"):
            if key in payload:
                payload[key] = _enum_value(payload[key])
        return {k: (str(v) if k.endswith("id") and v is not None else v) for k, v in payload.items()}

    @classmethod
    def location_mismatch(cls, user, payload):
        group_location = _locations(Group, [payload.get("group_id")])
        individual_location = _locations(Individual, [payload.get("individual_id")])
        location_manager.check_allowed(user, group_location + individual_location)
        return _mismatch(next(iter(group_location), None), individual_location)


class AddIndividualToGroupMutation(_MembershipMutation):
    permission, method = "individual.gql_group_create_perms", "create"

    class Input(GroupIndividualInputBase, BaseMutation.Input):
        pass


class EditIndividualInGroupMutation(_MembershipMutation):
    permission, method = "individual.gql_group_update_perms", "update"
    task_flags = ("individual.check_group_individual_update",)

    class Input(GroupIndividualInputBase, BaseMutation.Input):
        id = graphene.UUID(required=True)

    @classmethod
    def location_mismatch(cls, user, payload):
        current = GroupIndividual.objects.filter(id=payload["id"]).values_list("group_id", flat=True).first()
        location_manager.check_allowed(user, _locations(Group, [current]))  # the group it leaves
        return super().location_mismatch(user, {**payload, "group_id": payload.get("group_id") or current})


class RemoveIndividualFromGroupMutation(_EachIdMutation):
    """A membership's group and individual locations must both be allowed."""

    permission, service, method = "individual.gql_group_delete_perms", GroupIndividualService, "delete"

    @classmethod
    def target_locations(cls, ids):
        return _membership_locations(ids)


# --- enrolment ----------------------------------------------------------------------------------
class ConfirmEnrollmentInput:
    custom_filters = graphene.List(graphene.String)
    benefit_plan_id = graphene.String(required=True)
    status = graphene.String(required=True)


class _ConfirmEnrollmentMutation(_RegistryMutation):
    """Emits the selection; a programme module listening to the service signal enrols it (spec §6.4)."""

    permission = "individual.gql_group_create_perms"

    class Meta:
        abstract = True

    class Input(ConfirmEnrollmentInput, BaseMutation.Input):
        pass

    @classmethod
    def call_service(cls, user, payload):
        plan = _uuid_or_error(payload.get("benefit_plan_id"), "benefit plan")
        getattr(cls.service(user), cls.method)(payload.get("custom_filters") or [], str(plan),
                                               payload.get("status"), user)
        return None


class ConfirmIndividualEnrollmentMutation(_ConfirmEnrollmentMutation):
    service, method = IndividualService, "select_individuals_to_benefit_plan"


class ConfirmGroupEnrollmentMutation(_ConfirmEnrollmentMutation):
    service, method = GroupService, "select_groups_to_benefit_plan"
