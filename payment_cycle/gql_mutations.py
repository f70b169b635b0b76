"""Mutations of payment_cycle: each checks its right, then is one service call (the pipeline logs them).

Refusals read ``unauthorized`` (spec §8; anonymous callers ``mutation.authentication_required``). Maker-checker
(spec §4.3/§4.4): with ``gql_check_payment_cycle`` on, creating an ``ACTIVE`` cycle and every update become an
approval task; nothing is linked to the mutation log then (the change does not exist before the checker approves).
"""
import graphene
from django.core.exceptions import PermissionDenied

from core.gql.mutation import BaseMutation, IdsInput, ServiceMutation, service_payload
from core.module_config import config_value
from core.rights import UNAUTHORIZED
from payment_cycle.gql_queries import EntitlementGQLType, PaymentCycleStatusEnum
from payment_cycle.models import Entitlement, PaymentCycle, PaymentCycleMutation, PaymentPlanMutation
from payment_cycle.processing import BenefitPlanPaymentCycleService
from payment_cycle.services import EntitlementService, PaymentCycleService, PaymentPlanService

CHECK_FLAG = "payment_cycle.gql_check_payment_cycle"


class _PaymentCycleModuleMutation(ServiceMutation):
    """Unset inputs are left out of the payload (a partial update changes only what it names); enum members
    become their values; an empty id list (``each``, or ``ids`` of a set-based mutation) is refused."""

    _mutation_module = "payment_cycle"
    empty_message = "No IDs given"
    ids_input = None  # the id list input of a mutation that calls its service once for all of them

    class Meta:
        abstract = True

    @classmethod
    def payload(cls, user, data):
        payload = {key: getattr(value, "value", value) for key, value in service_payload(data).items()
                   if value is not None and key not in cls.ignored_inputs}
        for key in ("id", "benefit_plan_id", "payment_cycle_id", "calculation"):
            if payload.get(key) is not None:
                payload[key] = str(payload[key])
        return payload

    @classmethod
    def _mutate(cls, user, **data):
        ids = cls.each or cls.ids_input
        if ids and not data.get(ids):
            return {"success": False, "message": cls.empty_message, "detail": ""}
        return super()._mutate(user, **data)


# --- payment cycles ----------------------------------------------------------------------------------
class PaymentCycleInputMixin:
    code = graphene.String(required=True, max_length=255)
    start_date = graphene.Date(required=True)
    end_date = graphene.Date(required=True)
    status = graphene.Field(PaymentCycleStatusEnum, required=True)


class CreatePaymentCycleMutation(_PaymentCycleModuleMutation):
    """Spec §4.3: an ``ACTIVE`` cycle, with the check flag on, is a maker-checker task; anything else is created
    at once and linked to the mutation log (``paymentCycle(clientMutationId:)`` finds it)."""

    permission = "payment_cycle.gql_create_payment_cycle_perms"
    service, method = PaymentCycleService, "create"
    link_model, link_field = PaymentCycleMutation, "payment_cycle"

    class Input(PaymentCycleInputMixin, BaseMutation.Input):
        pass

    @staticmethod
    def needs_task(payload):
        return bool(config_value(CHECK_FLAG)) and payload.get("status") == PaymentCycle.PaymentCycleStatus.ACTIVE

    @classmethod
    def call_service(cls, user, payload):
        service = cls.service(user)
        return service.create_create_task(payload) if cls.needs_task(payload) else service.create(payload)

    @classmethod
    def link(cls, user, data, obj_id):
        if not cls.needs_task(cls.payload(user, data)):
            super().link(user, data, obj_id)


class UpdatePaymentCycleMutation(_PaymentCycleModuleMutation):
    """Spec §4.4: with the check flag on, every update is a task, whatever the status."""

    permission = "payment_cycle.gql_update_payment_cycle_perms"
    service, method = PaymentCycleService, "update"
    link_model, link_field = PaymentCycleMutation, "payment_cycle"
    task_flags = (CHECK_FLAG,)

    class Input(PaymentCycleInputMixin, BaseMutation.Input):
        id = graphene.UUID(required=True)
        code = graphene.String(required=False, max_length=255)
        start_date = graphene.Date(required=False)
        end_date = graphene.Date(required=False)
        status = graphene.Field(PaymentCycleStatusEnum, required=False)


class _DeleteMutation(_PaymentCycleModuleMutation):
    """Soft delete, one service call per id; any refusal rolls the whole mutation back."""

    method, each, empty_message = "delete", "ids", "No IDs to delete"

    class Meta:
        abstract = True

    class Input(IdsInput, BaseMutation.Input):
        pass


class DeletePaymentCycleMutation(_DeleteMutation):
    """Spec §4.6 (ours)."""

    permission = "payment_cycle.gql_delete_payment_cycle_perms"
    service = PaymentCycleService


class ProcessBenefitPlanPaymentCycleMutation(_PaymentCycleModuleMutation):
    """Spec §4.5/§10.4: validates the period (creating the monthly cycle if needed) and queues the processing;
    progress and outcome are read from ``paymentCycle { jsonExt }``. With a ``clientMutationId`` the cycle is
    linked to the mutation log."""

    permission = "payment_cycle.gql_mutation_process_payment_cycle_perms"
    service, method = BenefitPlanPaymentCycleService, "queue_processing"
    link_model, link_field = PaymentCycleMutation, "payment_cycle"

    class Input(BaseMutation.Input):
        year = graphene.Int(required=False)
        month = graphene.Int(required=False)
        payment_cycle_id = graphene.UUID(required=False)

    @classmethod
    def call_service(cls, user, payload):
        return cls.service(user).queue_processing(
            year=payload.get("year"), month=payload.get("month"), payment_cycle_id=payload.get("payment_cycle_id"))

    @classmethod
    def linked_id(cls, data, result):
        answer = result.get("data") if isinstance(result.get("data"), dict) else {}
        cycle = answer.get("payment_cycle") if isinstance(answer.get("payment_cycle"), dict) else {}
        return cycle.get("id") or (str(data["payment_cycle_id"]) if data.get("payment_cycle_id") else None)


# --- payment plans -----------------------------------------------------------------------------------
class PaymentPlanInputMixin:
    code = graphene.String(required=True, max_length=32)
    name = graphene.String(required=True, max_length=255)
    benefit_plan_id = graphene.UUID(required=True)
    calculation = graphene.UUID(required=True)
    periodicity = graphene.Int(required=False)
    date_valid_from = graphene.Date(required=True)
    date_valid_to = graphene.Date(required=False)
    json_ext = graphene.types.json.JSONString(required=False)


class CreatePaymentPlanMutation(_PaymentCycleModuleMutation):
    permission = "payment_cycle.gql_create_payment_plan_perms"
    service, method = PaymentPlanService, "create"
    link_model, link_field = PaymentPlanMutation, "payment_plan"

    class Input(PaymentPlanInputMixin, BaseMutation.Input):
        pass


class UpdatePaymentPlanMutation(_PaymentCycleModuleMutation):
    permission = "payment_cycle.gql_update_payment_plan_perms"
    service, method = PaymentPlanService, "update"
    link_model, link_field = PaymentPlanMutation, "payment_plan"

    class Input(PaymentPlanInputMixin, BaseMutation.Input):
        id = graphene.UUID(required=True)
        code = graphene.String(required=False, max_length=32)
        name = graphene.String(required=False, max_length=255)
        benefit_plan_id = graphene.UUID(required=False)
        calculation = graphene.UUID(required=False)
        date_valid_from = graphene.Date(required=False)


class DeletePaymentPlanMutation(_DeleteMutation):
    permission = "payment_cycle.gql_delete_payment_plan_perms"
    service = PaymentPlanService


# --- entitlements ------------------------------------------------------------------------------------
class _EntitlementMutation(_PaymentCycleModuleMutation):
    """One service call for all the ids (the service checks the cycle and every transition at once)."""

    permission = "payment_cycle.gql_update_payment_cycle_perms"
    service, ids_input = EntitlementService, "ids"

    class Meta:
        abstract = True

    class Input(IdsInput, BaseMutation.Input):
        pass

    @classmethod
    def check_access(cls, user, data):
        """Row security: a caller may decide only on entitlements they can see (their individuals' districts);
        an id they cannot see is refused like a missing right, without saying whether it exists."""
        ids = [str(i) for i in data.get("ids") or []]
        if not ids:
            return
        visible = EntitlementGQLType.restrict(Entitlement.objects.all(), user)
        if Entitlement.objects.filter(id__in=ids).exclude(pk__in=visible.values("pk")).exists():
            raise PermissionDenied(UNAUTHORIZED)

    @classmethod
    def call_service(cls, user, payload):
        ids = [str(i) for i in payload.get("ids") or []]
        return getattr(cls.service(user), cls.method)(ids, **cls.extra_arguments(payload))

    @classmethod
    def extra_arguments(cls, payload):
        return {}


class ApproveEntitlementsMutation(_EntitlementMutation):
    method = "approve"


class RejectEntitlementsMutation(_EntitlementMutation):
    method = "reject"


class MarkEntitlementsPaidMutation(_EntitlementMutation):
    method = "mark_paid"

    class Input(IdsInput, BaseMutation.Input):
        receipt = graphene.String(required=False, max_length=255)

    @classmethod
    def extra_arguments(cls, payload):
        return {"receipt": payload.get("receipt")}
