"""Mutations of social_protection: each is one service call, declared (the pipeline logs them, spec §3.5)."""
import graphene

from core.gql.mutation import BaseMutation, IdsInput, ServiceMutation, service_payload
from core.rights import require
from social_protection.models import BeneficiaryStatus, BenefitPlan, BenefitPlanMutation
from social_protection.services import BeneficiaryService, BenefitPlanService, GroupBeneficiaryService

AUTH_REQUIRED = "mutation.authentication_required"
LACK_OF_SCHEMA_PERMS = "mutation.lack_of_schema_perms"

BenefitPlanTypeEnum = graphene.Enum("BenefitPlanTypeEnum", [(v, v) for v in BenefitPlan.BenefitPlanType.values])
BeneficiaryStatusEnum = graphene.Enum("BeneficiaryStatusEnum", [(v, v) for v in BeneficiaryStatus.values])


class _SocialProtectionMutation(ServiceMutation):
    """Every refusal of this module reads ``mutation.authentication_required`` (spec §3.5); writing a schema or
    ``jsonExt`` also needs ``schema_perms``. Unset inputs are left out of the payload; ``clear_valid_to``: an
    update without ``dateValidTo`` clears it."""

    _mutation_module = "social_protection"
    schema_perms = None
    clear_valid_to = False
    empty_message = "No IDs to delete"

    class Meta:
        abstract = True

    @classmethod
    def _validate_mutation(cls, user, **data):
        require(user, cls.permission, AUTH_REQUIRED)
        if cls.schema_perms and (data.get("json_ext") is not None or data.get("beneficiary_data_schema") is not None):
            require(user, cls.schema_perms, LACK_OF_SCHEMA_PERMS)

    @classmethod
    def payload(cls, user, data):
        payload = {key: getattr(value, "value", value) for key, value in service_payload(data).items()
                   if value is not None}
        if cls.clear_valid_to:
            payload.setdefault("date_valid_to", None)
        return payload

    @classmethod
    def _mutate(cls, user, **data):
        if cls.each and not data.get(cls.each):
            return {"success": False, "message": cls.empty_message, "detail": ""}
        return super()._mutate(user, **data)


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


class CreateBenefitPlanMutation(_SocialProtectionMutation):
    permission, schema_perms = "social_protection.gql_benefit_plan_create_perms", "social_protection.gql_schema_create_perms"
    service, method = BenefitPlanService, "create"
    link_model, link_field = BenefitPlanMutation, "benefit_plan"

    class Input(BenefitPlanInputMixin, BaseMutation.Input):
        pass


class UpdateBenefitPlanMutation(_SocialProtectionMutation):
    permission, schema_perms = "social_protection.gql_benefit_plan_update_perms", "social_protection.gql_schema_update_perms"
    service, method = BenefitPlanService, "update"
    task_flags, clear_valid_to = ("social_protection.gql_check_benefit_plan_update",), True

    class Input(BenefitPlanInputMixin, BaseMutation.Input):
        id = graphene.UUID(required=True)
        code = graphene.String(required=False, max_length=8)
        name = graphene.String(required=False, max_length=255)
        type = graphene.Field(BenefitPlanTypeEnum, required=False)
        date_valid_from = graphene.Date(required=False)
        date_valid_to = graphene.Date(required=False)
        max_beneficiaries = graphene.Int(required=False)


class DeleteBenefitPlanMutation(_SocialProtectionMutation):
    permission = "social_protection.gql_benefit_plan_delete_perms"
    service, method, each = BenefitPlanService, "delete", "ids"

    class Input(IdsInput, BaseMutation.Input):
        pass


class CloseBenefitPlanMutation(_SocialProtectionMutation):
    permission = "social_protection.gql_benefit_plan_close_perms"
    service, method, each, empty_message = BenefitPlanService, "close_benefit_plan", "ids", "No IDs to close"

    class Input(IdsInput, BaseMutation.Input):
        pass


# --- beneficiaries ---------------------------------------------------------------------------------
class BeneficiaryInputMixin:
    status = graphene.Field(BeneficiaryStatusEnum, required=True)
    benefit_plan_id = graphene.UUID(required=False)
    date_valid_from = graphene.Date(required=False)
    date_valid_to = graphene.Date(required=False)
    json_ext = graphene.types.json.JSONString(required=False)


class _CreateBeneficiary(_SocialProtectionMutation):
    permission, schema_perms = "social_protection.gql_beneficiary_create_perms", "social_protection.gql_schema_create_perms"
    method = "create"

    class Meta:
        abstract = True


class _UpdateBeneficiary(_SocialProtectionMutation):
    permission, schema_perms = "social_protection.gql_beneficiary_update_perms", "social_protection.gql_schema_update_perms"
    method, clear_valid_to = "update", True

    class Meta:
        abstract = True

    class Input(BeneficiaryInputMixin, BaseMutation.Input):
        id = graphene.UUID(required=True)


class _DeleteBeneficiary(_SocialProtectionMutation):
    permission = "social_protection.gql_beneficiary_delete_perms"
    method, each = "delete", "ids"

    class Meta:
        abstract = True

    class Input(IdsInput, BaseMutation.Input):
        pass


class CreateBeneficiaryMutation(_CreateBeneficiary):
    service, task_flags = BeneficiaryService, ("social_protection.gql_check_beneficiary_crud",)

    class Input(BeneficiaryInputMixin, BaseMutation.Input):
        individual_id = graphene.UUID(required=False)


class CreateGroupBeneficiaryMutation(_CreateBeneficiary):
    service, task_flags = GroupBeneficiaryService, ("social_protection.gql_check_group_beneficiary_crud",)

    class Input(BeneficiaryInputMixin, BaseMutation.Input):
        group_id = graphene.UUID(required=False)


class UpdateBeneficiaryMutation(_UpdateBeneficiary):
    service, task_flags = BeneficiaryService, ("social_protection.gql_check_beneficiary_crud",)


class UpdateGroupBeneficiaryMutation(_UpdateBeneficiary):
    service, task_flags = GroupBeneficiaryService, ("social_protection.gql_check_group_beneficiary_crud",)


class DeleteBeneficiaryMutation(_DeleteBeneficiary):
    service, task_flags = BeneficiaryService, ("social_protection.gql_check_beneficiary_crud",)


class DeleteGroupBeneficiaryMutation(_DeleteBeneficiary):
    service, task_flags = GroupBeneficiaryService, ("social_protection.gql_check_group_beneficiary_crud",)
