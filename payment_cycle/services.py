"""Services of payment_cycle: cycles, payment plans, entitlement decisions, and the processing of a cycle.

Service methods raise business errors; the registered service signal (or ``service_operation``) is the boundary
answering the openIMIS result dict. Entitlements are computed by the payment plan's calculation rule
(``core.calculation``) and written set-based through ``core.bulk`` (history rows included); the processing itself
is in :mod:`payment_cycle.processing`.
"""
import datetime
import logging
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import bulk
from core.calculation import CalculationRuleRegistry
from core.custom_filters import parse_custom_filter
from core.services import BaseService, check_max_length, output_result_success, service_operation
from core.validation import BaseModelValidation
from payment_cycle.models import (
    Entitlement,
    EntitlementStatus,
    PaymentCycle,
    PaymentPlan,
)
from tasks_management.services import CreateCheckerLogicServiceMixin, UpdateCheckerLogicServiceMixin

logger = logging.getLogger(__name__)

CYCLE_STATUSES = PaymentCycle.PaymentCycleStatus
CODE_EXISTS = "payment_cycle.validation.payment_cycle.code_exists"
CODE_WHITESPACE = "payment_cycle.validation.payment_cycle.code_whitespace"

# camelCase aliases accepted in service payloads (upstream's own service tests send them)
ALIASES = {"startDate": "start_date", "endDate": "end_date", "benefitPlanId": "benefit_plan_id",
           "benefitPlan": "benefit_plan_id", "dateValidFrom": "date_valid_from", "dateValidTo": "date_valid_to",
           "jsonExt": "json_ext", "typeId": "type_id"}


def live_payment_plans():
    """The live payment plans (``social_protection``'s ``hasPaymentPlans``)."""
    return PaymentPlan.objects.filter(is_deleted=False)


# --- payloads ------------------------------------------------------------------------------------------------
def to_date(value, label):
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        parsed = parse_date(str(value)[:10]) if isinstance(value, str) else None
    except ValueError:  # well formed, but no such day (2025-13-01)
        parsed = None
    if parsed is None:
        raise ValidationError(_("%(label)s: %(value)s is not a date (YYYY-MM-DD)") % {"label": label, "value": value})
    return parsed


def normalise(data, date_fields):
    data = {ALIASES.get(key, key): getattr(value, "value", value) for key, value in dict(data or {}).items()}
    for field in date_fields:
        if field in data:
            data[field] = to_date(data[field], field)
    for key in ("id", "benefit_plan_id", "calculation"):
        if data.get(key) is not None:
            data[key] = str(data[key])
    data.pop("uuid", None)
    return data


def _code_problem(code):
    """The first failing check of a cycle code (spec §4.2 order: exists, then empty/whitespace), or None."""
    if code and PaymentCycle.objects.filter(code=code, is_deleted=False).exists():
        return CODE_EXISTS
    if not code or code != code.strip():
        return CODE_WHITESPACE
    return None


def code_validity(code):
    """``(is_valid, error message key)`` of ``paymentCycleCodeValidity``."""
    problem = _code_problem(code)
    return problem is None, problem


# --- payment cycles ------------------------------------------------------------------------------------------
class _LiveRecordValidation(BaseModelValidation):
    LABEL = None

    @classmethod
    def live(cls, data):
        """The non-deleted record ``data["id"]`` names, else a ValidationError."""
        record = cls.OBJECT_TYPE.objects.filter(id=data.get("id")).first()
        if record is None or record.is_deleted:
            raise ValidationError(_("%(label)s %(id)s does not exist") % {"label": cls.LABEL, "id": data.get("id")})
        return record


class PaymentCycleValidation(_LiveRecordValidation):
    OBJECT_TYPE, LABEL = PaymentCycle, gettext_lazy("Payment cycle")

    @classmethod
    def _check_fields(cls, data, current=None):
        code = data.get("code", current.code if current else None)
        if "code" in data or current is None:
            if not code or not str(code).strip():
                raise ValidationError(_("Payment cycle code is required"))
            if code != code.strip():
                raise ValidationError(_("Payment cycle code must not start or end with spaces"))
            check_max_length(PaymentCycle, "code", code, _("Payment cycle code"))
            duplicates = PaymentCycle.objects.filter(code=code, is_deleted=False)
            if current is not None:
                duplicates = duplicates.exclude(id=current.id)
            if duplicates.exists():
                raise ValidationError(_("Payment cycle code %(code)s already exists") % {"code": code})
        start = data.get("start_date", current.start_date if current else None)
        end = data.get("end_date", current.end_date if current else None)
        if start is None or end is None:
            raise ValidationError(_("Payment cycle start date and end date are required"))
        if end < start:
            raise ValidationError(_("Payment cycle end date must be on or after its start date"))
        status = data.get("status", current.status if current else CYCLE_STATUSES.PENDING)
        if status not in CYCLE_STATUSES.values:
            raise ValidationError(_("Unknown payment cycle status %(status)s") % {"status": status})

    @classmethod
    def validate_create(cls, user, **data):
        cls._check_fields(data)

    @classmethod
    def validate_update(cls, user, **data):
        cycle = cls.live(data)
        cls._check_fields(data, current=cycle)
        if cycle.status == CYCLE_STATUSES.ACTIVE:
            for field in ("start_date", "end_date"):
                if field in data and data[field] != getattr(cycle, field):
                    raise ValidationError(_("The dates of an ACTIVE payment cycle cannot change"))

    @classmethod
    def validate_delete(cls, user, **data):
        cycle = cls.live(data)
        if cycle.status == CYCLE_STATUSES.ACTIVE and Entitlement.objects.filter(
                payment_cycle=cycle, is_deleted=False,
                status__in=(EntitlementStatus.APPROVE_FOR_PAYMENT, EntitlementStatus.PAID)).exists():
            raise ValidationError(_("Payment cycle %(code)s has entitlements approved for payment or paid: it "
                                    "cannot be deleted") % {"code": cycle.code})


class PaymentCycleService(BaseService, CreateCheckerLogicServiceMixin, UpdateCheckerLogicServiceMixin,
                          signals="payment_cycle_service"):
    CHECKER_SOURCE = "PaymentCycleService"
    OBJECT_TYPE, VALIDATION = PaymentCycle, PaymentCycleValidation
    DATES = ("start_date", "end_date")

    def _adjust_create_payload(self, payload_data):
        data = normalise(payload_data, self.DATES)
        data.pop("id", None)
        return data

    def _adjust_update_payload(self, payload_data):
        return normalise(payload_data, self.DATES)

    def create_create_task(self, obj_data):
        return super().create_create_task(self._task_payload(obj_data, create=True))

    def create_update_task(self, obj_data):
        return super().create_update_task(self._task_payload(obj_data))

    def _task_payload(self, obj_data, create=False):
        try:
            data = normalise(obj_data, self.DATES)
        except ValidationError:
            return obj_data  # the task-creation validation reports the problem
        if create:
            data.pop("id", None)
        return data


# --- payment plans -------------------------------------------------------------------------------------------
def _decimal(value, label):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(_("%(label)s: %(value)s is not a number") % {"label": label, "value": value})
    if not number.is_finite():
        raise ValidationError(_("%(label)s: %(value)s is not a number") % {"label": label, "value": value})
    return number


def criteria_problems(criteria):
    """Messages for ``advanced_criteria`` that no rule could evaluate (structure, condition syntax, amount)."""
    if criteria is None:
        return []
    if not isinstance(criteria, list):
        return [_("advanced_criteria must be a list")]
    problems = []
    for index, criterion in enumerate(criteria, start=1):
        if not isinstance(criterion, dict) or not criterion.get("custom_filter_condition"):
            problems.append(_("advanced_criteria %(n)s: custom_filter_condition is required") % {"n": index})
            continue
        try:
            parse_custom_filter(criterion["custom_filter_condition"])
            _decimal(criterion.get("amount", 0), f"advanced_criteria {index} amount")
        except ValidationError as exc:
            problems.extend(f"advanced_criteria {index}: {message}" for message in exc.messages)
    return problems


class PaymentPlanValidation(_LiveRecordValidation):
    OBJECT_TYPE, LABEL = PaymentPlan, gettext_lazy("Payment plan")

    @classmethod
    def _check(cls, data, current=None):
        from social_protection.selectors import benefit_plans

        value = lambda key: data.get(key, getattr(current, key, None) if current else None)  # noqa: E731
        problems = []
        code, name = value("code"), value("name")
        if not code or not str(code).strip():
            problems.append(_("Payment plan code is required"))
        else:
            check_max_length(PaymentPlan, "code", code, _("Payment plan code"))
            duplicates = PaymentPlan.objects.filter(code=code, is_deleted=False)
            if current is not None:
                duplicates = duplicates.exclude(id=current.id)
            if duplicates.exists():
                problems.append(_("Payment plan code %(code)s already exists") % {"code": code})
        if not name or not str(name).strip():
            problems.append(_("Payment plan name is required"))
        else:
            check_max_length(PaymentPlan, "name", name, _("Payment plan name"))
        plan_id = data.get("benefit_plan_id", str(current.benefit_plan_id) if current else None)
        if not plan_id or not benefit_plans().filter(id=plan_id, is_deleted=False).exists():
            problems.append(_("Benefit plan %(id)s does not exist") % {"id": plan_id})
        rule = CalculationRuleRegistry.get(value("calculation"))
        if rule is None:
            problems.append(_("Calculation rule %(uuid)s is not registered") % {"uuid": value("calculation")})
        periodicity = value("periodicity") or 1
        try:
            periodicity = int(periodicity)
        except (TypeError, ValueError):
            periodicity = None
        if periodicity not in PaymentPlan.PERIODICITIES:
            problems.append(_("Periodicity must be one of %(values)s months") % {
                "values": ", ".join(map(str, PaymentPlan.PERIODICITIES))})
        start, end = value("date_valid_from"), value("date_valid_to")
        if start is None:
            problems.append(_("Payment plan date valid from is required"))
        elif end is not None and end < start:
            problems.append(_("Payment plan date valid to must be on or after date valid from"))
        json_ext = value("json_ext") or {}
        if not isinstance(json_ext, dict):
            problems.append(_("json_ext must be a JSON object"))
            json_ext = {}
        if rule is not None:
            problems.extend(rule.validate_parameters(json_ext.get("calculation_rule")))
        problems.extend(criteria_problems(json_ext.get("advanced_criteria")))
        if problems:
            raise ValidationError(problems)

    @classmethod
    def validate_create(cls, user, **data):
        cls._check(data)

    @classmethod
    def validate_update(cls, user, **data):
        cls._check(data, current=cls.live(data))

    @classmethod
    def validate_delete(cls, user, **data):
        cls.live(data)


def _json_payload(data):
    import json

    if isinstance(data.get("json_ext"), str):
        try:
            data["json_ext"] = json.loads(data["json_ext"]) if data["json_ext"] else None
        except ValueError:
            raise ValidationError(_("json_ext is not valid JSON"))
    return data


class PaymentPlanService(BaseService, signals="payment_plan_service"):
    OBJECT_TYPE, VALIDATION = PaymentPlan, PaymentPlanValidation
    DATES = ("date_valid_from", "date_valid_to")

    def _adjust_create_payload(self, payload_data):
        data = _json_payload(normalise(payload_data, self.DATES))
        data.pop("id", None)
        return data

    def _adjust_update_payload(self, payload_data):
        return _json_payload(normalise(payload_data, self.DATES))


# --- entitlement decisions -----------------------------------------------------------------------------------
class EntitlementService:
    """Decisions on computed entitlements of an ACTIVE cycle, set-based with history rows."""

    TRANSITIONS = {
        "approve": ((EntitlementStatus.ACCEPTED,), EntitlementStatus.APPROVE_FOR_PAYMENT),
        "reject": ((EntitlementStatus.ACCEPTED, EntitlementStatus.PENDING_APPROVAL,
                    EntitlementStatus.APPROVE_FOR_PAYMENT), EntitlementStatus.REJECTED),
        "mark_paid": ((EntitlementStatus.APPROVE_FOR_PAYMENT,), EntitlementStatus.PAID),
    }

    def __init__(self, user):
        self.user = user

    def _model_name(self):
        return "Entitlement"

    def _apply(self, operation, ids, extra=None):
        sources, target = self.TRANSITIONS[operation]
        ids = [str(i) for i in ids or []]
        if not ids:
            raise ValidationError(_("No entitlement ids given"))
        chosen = Entitlement.objects.filter(id__in=ids, is_deleted=False)
        # the cycles' rows locked first: a reconciliation or another decision waits instead of racing the checks
        list(PaymentCycle.objects.select_for_update().filter(id__in=chosen.values("payment_cycle_id")).order_by("id")
             .values_list("id", flat=True))
        found = dict(chosen.values_list("id", "status").order_by())
        missing = sorted(set(ids) - {str(i) for i in found})
        if missing:
            raise ValidationError(_("Entitlements not found: %(ids)s") % {"ids": ", ".join(missing[:20])})
        inactive = chosen.exclude(payment_cycle__status=CYCLE_STATUSES.ACTIVE).values_list("code", flat=True)
        inactive = sorted(inactive[:21])
        if inactive:
            raise ValidationError(_("Entitlements of a payment cycle that is not ACTIVE cannot change: %(codes)s")
                                  % {"codes": ", ".join(inactive[:20])})
        wrong = sorted(chosen.exclude(status__in=sources).values_list("code", "status")[:21])
        if wrong:
            raise ValidationError(_("Entitlements not in status %(allowed)s: %(list)s") % {
                "allowed": " or ".join(sources),
                "list": ", ".join(f"{code} ({status})" for code, status in wrong[:20])})
        count = bulk.update_with_history(chosen, {"status": target, **(extra or {})}, user=self.user)
        return output_result_success({"updated": count, "status": target})

    @service_operation("approve")
    def approve(self, ids):
        return self._apply("approve", ids)

    @service_operation("reject")
    def reject(self, ids):
        return self._apply("reject", ids)

    @service_operation("mark_paid")
    def mark_paid(self, ids, receipt=None):
        extra = {"date_paid": timezone.localdate(), "failure_reason": None}
        if receipt:
            check_max_length(Entitlement, "receipt", receipt, _("Receipt"))
            extra["receipt"] = receipt
        from django.db.models import F

        extra["paid_amount"] = F("amount")
        return self._apply("mark_paid", ids, extra)


def __getattr__(name):
    # the processing service lives in its own module; keep it importable from here (the spec's names)
    if name in ("BenefitPlanPaymentCycleService", "PaymentCycleProcessingService"):
        from payment_cycle import processing

        return getattr(processing, name)
    raise AttributeError(name)
