"""GraphQL mutations: rights and location checks, then one service call (spec §5.3, §4)."""
import secrets
import string

import graphene
from django.core.exceptions import ValidationError

from core.gql.mutation import BaseMutation, check_perms, strip_client_fields
from core.location import location_manager
from individual.apps import IndividualConfig
from individual.gql_queries import parse_uuid
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

LOCATION_MISMATCH = "mutation.individual_group_location_mismatch"
LOCATION_MISMATCH_TEXT = "To add an individual to a group their locations must be the same."


def _enum_value(value):
    return getattr(value, "value", value) or None


def _uuid_or_error(value, what):
    parsed = parse_uuid(value)
    if value is not None and parsed is None:
        raise ValidationError(f"Invalid {what} id {value}")
    return parsed


def _locations(model, ids):
    return list(model.objects.filter(id__in=[i for i in ids if i]).values_list("location_id", flat=True))


def _service_data(data, renames=None):
    data = strip_client_fields(data)
    data.pop("mutation_extensions", None)
    for old, new in (renames or {}).items():
        if old in data:
            data[new] = data.pop(old)
    return data


class _IndividualMutation(BaseMutation):
    _mutation_module = "individual"

    class Meta:
        abstract = True

    @classmethod
    def _link(cls, link_model, field, obj_id, user, data):
        if obj_id and data.get("client_mutation_id"):
            link_model.object_mutated(user, client_mutation_id=data["client_mutation_id"], **{f"{field}_id": obj_id})


def _result(result):
    return None if result.get("success") else result


# --- individuals --------------------------------------------------------------------------------
class IndividualInputBase:
    first_name = graphene.String(required=True)
    last_name = graphene.String(required=True)
    dob = graphene.Date(required=True)
    json_ext = graphene.JSONString(required=False)
    location_id = graphene.Int(required=False)


class CreateIndividualMutation(_IndividualMutation):
    _mutation_class = "CreateIndividualMutation"

    class Input(IndividualInputBase, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_individual_create_perms)
        location_manager.check_allowed(user, [data.get("location_id")])

    @classmethod
    def _mutate(cls, user, **data):
        result = IndividualService(user).create(_service_data(data))
        if result.get("success"):
            cls._link(IndividualMutation, "individual", result["data"]["id"], user, data)
        return _result(result)


class UpdateIndividualMutation(_IndividualMutation):
    _mutation_class = "UpdateIndividualMutation"

    class Input(IndividualInputBase, BaseMutation.Input):
        id = graphene.UUID(required=True)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_individual_update_perms)
        location_manager.check_allowed(user, [data.get("location_id"), *_locations(Individual, [data.get("id")])])

    @classmethod
    def _mutate(cls, user, **data):
        service = IndividualService(user)
        payload = _service_data(data)
        payload["id"] = str(payload["id"])
        if IndividualConfig.check_individual_update:
            return _result(service.create_update_task(payload))
        result = service.update(payload)
        if result.get("success"):
            cls._link(IndividualMutation, "individual", payload["id"], user, data)
        return _result(result)


class IdsInput:
    ids = graphene.List(graphene.UUID)


class DeleteIndividualMutation(_IndividualMutation):
    """Per-id service results are not reported (upstream contract, spec §5.3)."""

    _mutation_class = "DeleteIndividualMutation"

    class Input(IdsInput, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_individual_delete_perms)
        location_manager.check_allowed(user, _locations(Individual, data.get("ids") or []))

    @classmethod
    def _mutate(cls, user, **data):
        service = IndividualService(user)
        for obj_id in data.get("ids") or []:
            if IndividualConfig.check_individual_delete:
                service.create_delete_task({"id": str(obj_id)})
            else:
                service.delete({"id": str(obj_id)})
        return None


class UndoDeleteIndividualMutation(_IndividualMutation):
    _mutation_class = "UndoDeleteIndividualMutation"

    class Input(IdsInput, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_individual_undo_delete_perms)
        location_manager.check_allowed(user, _locations(Individual, data.get("ids") or []))

    @classmethod
    def _mutate(cls, user, **data):
        service = IndividualService(user)
        for obj_id in data.get("ids") or []:
            service.undo_delete({"id": str(obj_id)})
        return None


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


def _check_members_allowed(user, individual_ids, location_id):
    """Members must be visible to the user and (when both are set) share the group's location."""
    member_locations = _locations(Individual, individual_ids)
    location_manager.check_allowed(user, member_locations)
    if location_id is not None and any(loc is not None and loc != location_id for loc in member_locations):
        return [{"message": LOCATION_MISMATCH, "detail": LOCATION_MISMATCH_TEXT}]
    return None


class CreateGroupMutation(_IndividualMutation):
    _mutation_class = "CreateGroupMutation"

    class Input(GroupInputBase, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_group_create_perms)
        location_manager.check_allowed(user, [data.get("location_id")])

    @classmethod
    def _mutate(cls, user, **data):
        payload = _service_data(data)
        if "individuals_data" in payload:
            payload["individuals_data"] = _individuals_data(payload["individuals_data"])
            error = _check_members_allowed(user, [i["individual_id"] for i in payload["individuals_data"]],
                                           payload.get("location_id"))
            if error:
                return error
        result = GroupService(user).create(payload)
        if result.get("success"):
            cls._link(GroupMutation, "group", result["data"]["id"], user, data)
        return _result(result)


class UpdateGroupMutation(_IndividualMutation):
    _mutation_class = "UpdateGroupMutation"

    class Input(GroupInputBase, BaseMutation.Input):
        id = graphene.UUID(required=True)
        code = graphene.String(required=False)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_group_update_perms)
        location_manager.check_allowed(user, [data.get("location_id"), *_locations(Group, [data.get("id")])])

    @classmethod
    def _mutate(cls, user, **data):
        payload = _service_data(data)
        payload["id"] = str(payload["id"])
        if "individuals_data" in payload:
            payload["individuals_data"] = _individuals_data(payload["individuals_data"])
            group = Group.objects.filter(id=payload["id"]).first()
            location_id = payload.get("location_id", group.location_id if group else None)
            error = _check_members_allowed(user, [i["individual_id"] for i in payload["individuals_data"]],
                                           location_id)
            if error:
                return error
        result = GroupService(user).update(payload)
        if result.get("success"):
            cls._link(GroupMutation, "group", payload["id"], user, data)
        return _result(result)


class DeleteGroupMutation(_IndividualMutation):
    _mutation_class = "DeleteGroupMutation"

    class Input(IdsInput, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_group_delete_perms)
        location_manager.check_allowed(user, _locations(Group, data.get("ids") or []))

    @classmethod
    def _mutate(cls, user, **data):
        service = GroupService(user)
        for obj_id in data.get("ids") or []:
            service.delete({"id": str(obj_id)})
        return None


# --- memberships --------------------------------------------------------------------------------
class GroupIndividualInputBase:
    group_id = graphene.ID(required=False)
    individual_id = graphene.ID(required=True)
    role = graphene.Field(GroupIndividualRoleEnum, required=False)
    recipient_type = graphene.Field(GroupIndividualRecipientTypeEnum, required=False)


def _membership_payload(data):
    payload = _service_data(data)
    payload["individual_id"] = _uuid_or_error(payload.get("individual_id"), "individual")
    if "group_id" in payload:
        payload["group_id"] = _uuid_or_error(payload.get("group_id"), "group")
    for key in ("role", "recipient_type"):
        if key in payload:
            payload[key] = _enum_value(payload[key])
    return {k: (str(v) if k.endswith("id") and v is not None else v) for k, v in payload.items()}


def _check_membership_locations(user, group_id, individual_id):
    group_location = _locations(Group, [group_id])
    individual_location = _locations(Individual, [individual_id])
    location_manager.check_allowed(user, group_location + individual_location)
    if group_location and individual_location and group_location[0] is not None \
            and individual_location[0] is not None and group_location[0] != individual_location[0]:
        return [{"message": LOCATION_MISMATCH, "detail": LOCATION_MISMATCH_TEXT}]
    return None


class AddIndividualToGroupMutation(_IndividualMutation):
    _mutation_class = "AddIndividualToGroupMutation"

    class Input(GroupIndividualInputBase, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_group_create_perms)

    @classmethod
    def _mutate(cls, user, **data):
        payload = _membership_payload(data)
        error = _check_membership_locations(user, payload.get("group_id"), payload.get("individual_id"))
        if error:
            return error
        return _result(GroupIndividualService(user).create(payload))


class EditIndividualInGroupMutation(_IndividualMutation):
    _mutation_class = "EditIndividualInGroupMutation"

    class Input(GroupIndividualInputBase, BaseMutation.Input):
        id = graphene.UUID(required=True)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_group_update_perms)

    @classmethod
    def _mutate(cls, user, **data):
        payload = _membership_payload(data)
        payload["id"] = str(data["id"])
        membership = GroupIndividual.objects.filter(id=payload["id"]).first()
        group_id = payload.get("group_id") or (membership.group_id if membership else None)
        current = [membership.group_id] if membership else []
        location_manager.check_allowed(user, _locations(Group, current))
        error = _check_membership_locations(user, group_id, payload.get("individual_id"))
        if error:
            return error
        service = GroupIndividualService(user)
        if IndividualConfig.check_group_individual_update:
            return _result(service.create_update_task(payload))
        return _result(service.update(payload))


class RemoveIndividualFromGroupMutation(_IndividualMutation):
    _mutation_class = "RemoveIndividualFromGroupMutation"

    class Input(IdsInput, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_group_delete_perms)
        rows = GroupIndividual.objects.filter(id__in=data.get("ids") or []).values_list(
            "group__location_id", "individual__location_id")
        location_manager.check_allowed(user, [loc for row in rows for loc in row])

    @classmethod
    def _mutate(cls, user, **data):
        service = GroupIndividualService(user)
        for obj_id in data.get("ids") or []:
            service.delete({"id": str(obj_id)})
        return None


class CreateGroupIndividualsMutation(_IndividualMutation):
    """Create a group with these individuals as members (upstream's version always fails)."""

    _mutation_class = "CreateGroupIndividualsMutation"

    class Input(GroupInputBase, BaseMutation.Input):
        individual_ids = graphene.List(graphene.UUID, required=True)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_group_create_perms)
        location_manager.check_allowed(user, [data.get("location_id")])

    @classmethod
    def _mutate(cls, user, **data):
        payload = _service_data(data)
        individual_ids = [str(i) for i in payload.pop("individual_ids", None) or []]
        listed = _individuals_data(payload.pop("individuals_data", None))
        listed_ids = {i["individual_id"] for i in listed}
        payload["individuals_data"] = listed + [
            {"individual_id": i, "role": None, "recipient_type": None} for i in individual_ids if i not in listed_ids]
        error = _check_members_allowed(user, [i["individual_id"] for i in payload["individuals_data"]],
                                       payload.get("location_id"))
        if error:
            return error
        result = GroupService(user).create(payload)
        if result.get("success"):
            cls._link(GroupMutation, "group", result["data"]["id"], user, data)
        return _result(result)


def random_group_code(length=8):
    alphabet = string.ascii_uppercase + string.digits
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(length))
        if not Group.objects.filter(code=code).exists():
            return code


class CreateGroupAndMoveIndividualMutation(_IndividualMutation):
    _mutation_class = "CreateGroupAndMoveIndividualMutation"

    class Input(GroupInputBase, BaseMutation.Input):
        code = graphene.String(required=False)
        group_individual_id = graphene.UUID(required=True)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_group_create_perms)
        check_perms(user, IndividualConfig.gql_group_update_perms)
        rows = GroupIndividual.objects.filter(id=data.get("group_individual_id")).values_list(
            "group__location_id", "individual__location_id")
        location_manager.check_allowed(user, [data.get("location_id"), *[loc for row in rows for loc in row]])

    @classmethod
    def _mutate(cls, user, **data):
        payload = _service_data(data)
        payload.pop("individuals_data", None)
        payload["group_individual_id"] = str(payload["group_individual_id"])
        if not payload.get("code"):
            payload["code"] = random_group_code()
        service = CreateGroupAndMoveIndividualService(user)
        if IndividualConfig.check_group_individual_update or IndividualConfig.check_group_create:
            return _result(service.create_create_task(payload))
        return _result(service.create(payload))


# --- enrolment ----------------------------------------------------------------------------------
class ConfirmEnrollmentInput:
    custom_filters = graphene.List(graphene.String)
    benefit_plan_id = graphene.String(required=True)
    status = graphene.String(required=True)


class ConfirmIndividualEnrollmentMutation(_IndividualMutation):
    _mutation_class = "ConfirmIndividualEnrollmentMutation"

    class Input(ConfirmEnrollmentInput, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_group_create_perms)

    @classmethod
    def _mutate(cls, user, **data):
        plan = _uuid_or_error(data.get("benefit_plan_id"), "benefit plan")
        IndividualService(user).select_individuals_to_benefit_plan(
            data.get("custom_filters") or [], str(plan), data.get("status"), user)
        return None


class ConfirmGroupEnrollmentMutation(_IndividualMutation):
    _mutation_class = "ConfirmGroupEnrollmentMutation"

    class Input(ConfirmEnrollmentInput, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, IndividualConfig.gql_group_create_perms)

    @classmethod
    def _mutate(cls, user, **data):
        plan = _uuid_or_error(data.get("benefit_plan_id"), "benefit plan")
        GroupService(user).select_groups_to_benefit_plan(
            data.get("custom_filters") or [], str(plan), data.get("status"), user)
        return None
