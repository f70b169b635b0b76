"""Mutations of social_protection: rights check + one service call each (the pipeline logs them)."""
import graphene
from django.core.exceptions import PermissionDenied

from core.gql.mutation import BaseMutation, strip_client_fields
from social_protection.apps import SocialProtectionConfig
from social_protection.models import BeneficiaryStatus, BenefitPlan, BenefitPlanMutation
from social_protection.services import BeneficiaryService, BenefitPlanService, GroupBeneficiaryService

AUTH_REQUIRED = "mutation.authentication_required"
LACK_OF_SCHEMA_PERMS = "mutation.lack_of_schema_perms"

BenefitPlanTypeEnum = graphene.Enum("BenefitPlanTypeEnum", [(v, v) for v in BenefitPlan.BenefitPlanType.values])
BeneficiaryStatusEnum = graphene.Enum("BeneficiaryStatusEnum", [(v, v) for v in BeneficiaryStatus.values])


def check_rights(user, perms):
    """Spec §3.5: every permission failure of this module reads ``mutation.authentication_required``."""
    if not user or not user.is_authenticated or not user.has_perms(perms):
        raise PermissionDenied(AUTH_REQUIRED)


def check_schema_rights(user, data, perms):
    if data.get("json_ext") is not None or data.get("beneficiary_data_schema") is not None:
        if not user.has_perms(perms):
            raise PermissionDenied(LACK_OF_SCHEMA_PERMS)


def _payload(data):
    """Service payload: client fields stripped, enums → values, unset (None) inputs left out."""
    data = strip_client_fields(data)
    return {key: getattr(value, "value", value) for key, value in data.items() if value is not None}


def _delete_each(service, ids, method="delete"):
    if not ids:
        return {"success": False, "message": "No IDs to delete", "detail": ""}
    for obj_id in ids:
        result = getattr(service, method)({"id": str(obj_id)})
        if not result.get("success"):
            return result  # the pipeline rolls the whole mutation back
    return None


def _failure_or_none(result):
    return None if result.get("success") else result


# --- benefit plans ---------------------------------------------------------------------------------
class BenefitPlanInputMixin:
    code = graphene.String(required=True, max_length=8)
    name = graphene.String(required=True, max_length=255)
    max_beneficiaries = graphene.Int(default_value=0)
    ceiling_per_beneficiary = graphene.Decimal(required=False)
    institution = graphene.String(required=False, max_length=255)
    beneficiary_data_schema = graphene.types.json.JSONString(required=False)
    type = graphene.Field(BenefitPlanTypeEnum, required=True)
    date_valid_from = graphene.Date(required=True)
    date_valid_to = graphene.Date(required=True)
    json_ext = graphene.types.json.JSONString(required=False)
    description = graphene.String(required=False, max_length=1024)


class CreateBenefitPlanMutation(BaseMutation):
    _mutation_module = "social_protection"
    _mutation_class = "CreateBenefitPlanMutation"

    class Input(BenefitPlanInputMixin, BaseMutation.Input):
        pass

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_rights(user, SocialProtectionConfig.gql_benefit_plan_create_perms)
        check_schema_rights(user, data, SocialProtectionConfig.gql_schema_create_perms)

    @classmethod
    def _mutate(cls, user, **data):
        client_mutation_id = data.get("client_mutation_id")
        result = BenefitPlanService(user).create(_payload(data))
        if result.get("success") and client_mutation_id:
            BenefitPlanMutation.object_mutated(user, client_mutation_id=client_mutation_id,
                                               benefit_plan_id=result["data"]["id"])
        return _failure_or_none(result)


class UpdateBenefitPlanMutation(BaseMutation):
    _mutation_module = "social_protection"
    _mutation_class = "UpdateBenefitPlanMutation"

    class Input(BenefitPlanInputMixin, BaseMutation.Input):
        id = graphene.UUID(required=True)
        code = graphene.String(required=False, max_length=8)
        name = graphene.String(required=False, max_length=255)
        type = graphene.Field(BenefitPlanTypeEnum, required=False)
        date_valid_from = graphene.Date(required=False)
        date_valid_to = graphene.Date(required=False)
        max_beneficiaries = graphene.Int(required=False)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_rights(user, SocialProtectionConfig.gql_benefit_plan_update_perms)
        check_schema_rights(user, data, SocialProtectionConfig.gql_schema_update_perms)

    @classmethod
    def _mutate(cls, user, **data):
        payload = _payload(data)
        if "date_valid_to" not in payload:
            payload["date_valid_to"] = None
        service = BenefitPlanService(user)
        if SocialProtectionConfig.gql_check_benefit_plan_update:
            return _failure_or_none(service.create_update_task(payload))
        return _failure_or_none(service.update(payload))


class DeleteBenefitPlanMutation(BaseMutation):
    _mutation_module = "social_protection"
    _mutation_class = "DeleteBenefitPlanMutation"

    class Input(BaseMutation.Input):
        ids = graphene.List(graphene.UUID)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_rights(user, SocialProtectionConfig.gql_benefit_plan_delete_perms)

    @classmethod
    def _mutate(cls, user, **data):
        return _delete_each(BenefitPlanService(user), data.get("ids"))


class CloseBenefitPlanMutation(BaseMutation):
    _mutation_module = "social_protection"
    _mutation_class = "CloseBenefitPlanMutation"

    class Input(BaseMutation.Input):
        ids = graphene.List(graphene.UUID)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_rights(user, SocialProtectionConfig.gql_benefit_plan_close_perms)

    @classmethod
    def _mutate(cls, user, **data):
        if not data.get("ids"):
            return {"success": False, "message": "No IDs to close", "detail": ""}
        return _delete_each(BenefitPlanService(user), data["ids"], method="close_benefit_plan")


# --- beneficiaries ---------------------------------------------------------------------------------
class _BeneficiaryMutationBase(BaseMutation):
    service_class = None
    check_flag = None

    class Meta:
        abstract = True

    @classmethod
    def _use_tasks(cls):
        return bool(getattr(SocialProtectionConfig, cls.check_flag))


class _CreateBase(_BeneficiaryMutationBase):
    class Meta:
        abstract = True

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_rights(user, SocialProtectionConfig.gql_beneficiary_create_perms)
        check_schema_rights(user, data, SocialProtectionConfig.gql_schema_create_perms)

    @classmethod
    def _mutate(cls, user, **data):
        payload = _payload(data)
        service = cls.service_class(user)
        if cls._use_tasks():
            return _failure_or_none(service.create_create_task(payload))
        return _failure_or_none(service.create(payload))


class _UpdateBase(_BeneficiaryMutationBase):
    class Meta:
        abstract = True

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_rights(user, SocialProtectionConfig.gql_beneficiary_update_perms)
        check_schema_rights(user, data, SocialProtectionConfig.gql_schema_update_perms)

    @classmethod
    def _mutate(cls, user, **data):
        payload = _payload(data)
        if "date_valid_to" not in payload:
            payload["date_valid_to"] = None
        service = cls.service_class(user)
        if cls._use_tasks():
            return _failure_or_none(service.create_update_task(payload))
        return _failure_or_none(service.update(payload))


class _DeleteBase(_BeneficiaryMutationBase):
    class Meta:
        abstract = True

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_rights(user, SocialProtectionConfig.gql_beneficiary_delete_perms)

    @classmethod
    def _mutate(cls, user, **data):
        service = cls.service_class(user)
        return _delete_each(service, data.get("ids"), "create_delete_task" if cls._use_tasks() else "delete")


class CreateBeneficiaryMutation(_CreateBase):
    _mutation_module = "social_protection"
    _mutation_class = "CreateBeneficiaryMutation"
    service_class = BeneficiaryService
    check_flag = "gql_check_beneficiary_crud"

    class Input(BaseMutation.Input):
        status = graphene.Field(BeneficiaryStatusEnum, required=True)
        benefit_plan_id = graphene.UUID(required=False)
        individual_id = graphene.UUID(required=False)
        date_valid_from = graphene.Date(required=False)
        date_valid_to = graphene.Date(required=False)
        json_ext = graphene.types.json.JSONString(required=False)


class UpdateBeneficiaryMutation(_UpdateBase):
    _mutation_module = "social_protection"
    _mutation_class = "UpdateBeneficiaryMutation"
    service_class = BeneficiaryService
    check_flag = "gql_check_beneficiary_crud"

    class Input(BaseMutation.Input):
        id = graphene.UUID(required=True)
        status = graphene.Field(BeneficiaryStatusEnum, required=True)
        benefit_plan_id = graphene.UUID(required=False)
        date_valid_from = graphene.Date(required=False)
        date_valid_to = graphene.Date(required=False)
        json_ext = graphene.types.json.JSONString(required=False)


class DeleteBeneficiaryMutation(_DeleteBase):
    _mutation_module = "social_protection"
    _mutation_class = "DeleteBeneficiaryMutation"
    service_class = BeneficiaryService
    check_flag = "gql_check_beneficiary_crud"

    class Input(BaseMutation.Input):
        ids = graphene.List(graphene.UUID)


class CreateGroupBeneficiaryMutation(_CreateBase):
    _mutation_module = "social_protection"
    _mutation_class = "CreateGroupBeneficiaryMutation"
    service_class = GroupBeneficiaryService
    check_flag = "gql_check_group_beneficiary_crud"

    class Input(BaseMutation.Input):
        status = graphene.Field(BeneficiaryStatusEnum, required=True)
        benefit_plan_id = graphene.UUID(required=False)
        group_id = graphene.UUID(required=False)
        date_valid_from = graphene.Date(required=False)
        date_valid_to = graphene.Date(required=False)
        json_ext = graphene.types.json.JSONString(required=False)


class UpdateGroupBeneficiaryMutation(_UpdateBase):
    _mutation_module = "social_protection"
    _mutation_class = "UpdateGroupBeneficiaryMutation"
    service_class = GroupBeneficiaryService
    check_flag = "gql_check_group_beneficiary_crud"

    class Input(BaseMutation.Input):
        id = graphene.UUID(required=True)
        status = graphene.Field(BeneficiaryStatusEnum, required=True)
        benefit_plan_id = graphene.UUID(required=False)
        date_valid_from = graphene.Date(required=False)
        date_valid_to = graphene.Date(required=False)
        json_ext = graphene.types.json.JSONString(required=False)


class DeleteGroupBeneficiaryMutation(_DeleteBase):
    _mutation_module = "social_protection"
    _mutation_class = "DeleteGroupBeneficiaryMutation"
    service_class = GroupBeneficiaryService
    check_flag = "gql_check_group_beneficiary_crud"

    class Input(BaseMutation.Input):
        ids = graphene.List(graphene.UUID)
