"""The calculation rules of this module (calcrule spec §1-§4, §7.2-§7.3). ``apps.py`` registers every class of
:data:`RULES`.

* :class:`SocialProtectionCalculationRule` (upstream's uuid): amount per enrolment = fixed amount + the amount of
  every advanced criterion the enrolment's JSON meets (+ ours: an amount per active household member, optionally
  capped). It answers a *selection*: one queryset of the plan's enrolments annotated with
  :data:`core.calculation.SELECTION_COLUMNS`, computed entirely by the database (amounts in integer cents, exact on
  SQLite and PostgreSQL), so ``payment_cycle`` writes a plan's entitlements with one ``INSERT … SELECT`` and no row
  travels through Python. The number of SQL statements does not depend on the number of enrolments.
* :class:`FlatPerMemberCalculationRule`: a flat amount per household member, answered as Python ``rows`` after
  one aggregate query: the other half of the :class:`core.calculation.RuleResult` contract, and the proof that a
  payment plan can select any registered rule.

:func:`reference_amount` is the same computation in pure Python (the tests hold the SQL to it, to the cent).
"""
import datetime
import json

from django.core.exceptions import ValidationError
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Subquery,
    UUIDField,
    Value,
    When,
)
from django.db.models.fields.json import JSONField
from django.db.models.functions import Cast, Coalesce, Concat, JSONObject, Least, Substr
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from calcrule_social_protection.conditions import parse_criteria
from core.calculation import AbsCalculationRule, RuleResult, money

GROUP = "GROUP"
INDIVIDUAL = "INDIVIDUAL"
ACTIVE = "ACTIVE"
HEAD = "HEAD"
PRIMARY = "PRIMARY"

RIGHTS = {"read": "157101", "write": "157102", "update": "157103", "replace": "157206"}


def _parameter(name, en, fr, type="number"):
    return {"type": type, "name": name, "label": {"en": en, "fr": fr}, "rights": dict(RIGHTS),
            "relevance": "True", "condition": "INPUT>=0", "default": "0"}


LIMIT_PARAMETER = _parameter("limit_per_single_transaction", "Limit Per Single Transaction",
                             "Limite par transaction unique")
AMOUNT_PER_MEMBER_PARAMETER = _parameter("amount_per_member", "Amount per household member",
                                         "Montant par membre du ménage")


# --- the enrolments of a plan ------------------------------------------------------------------------------------
def _enrolment_queryset(plan_type):
    """All enrolments of the plan type's model (social_protection's selectors: no sibling model is imported)."""
    from social_protection import selectors

    if plan_type == GROUP:
        return selectors.group_beneficiaries()
    return selectors.beneficiaries()


def _aware(value, end=False):
    """A period bound as an aware datetime: a date's start (or, for ``end``, the start of the next day)."""
    if isinstance(value, datetime.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    day = value + datetime.timedelta(days=1) if end else value
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def enrolments(payment_plan, start_date=None, end_date=None, beneficiaries_queryset=None):
    """The enrolments a plan pays for a period: of its benefit plan, ``ACTIVE``, not deleted, valid at some
    moment of [``start_date``, ``end_date``] (dates: whole days in the current time zone), within
    ``beneficiaries_queryset`` when one is given (an empty one selects nobody — upstream paid everybody)."""
    benefit_plan = payment_plan.benefit_plan
    queryset = _enrolment_queryset(benefit_plan.type).filter(
        benefit_plan_id=benefit_plan.id, status=ACTIVE, is_deleted=False)
    if end_date is not None:
        if isinstance(end_date, datetime.datetime):
            queryset = queryset.filter(date_valid_from__lte=_aware(end_date))
        else:
            queryset = queryset.filter(date_valid_from__lt=_aware(end_date, end=True))
    if start_date is not None:
        queryset = queryset.exclude(date_valid_to__lt=_aware(start_date))  # NULL: open-ended, kept
    if beneficiaries_queryset is not None:
        if beneficiaries_queryset.query.is_empty():
            # a `.none()` queryset: select nobody with a statement that still compiles (INSERT … SELECT)
            return queryset.filter(pk__isnull=True)
        queryset = queryset.filter(pk__in=beneficiaries_queryset.values("pk"))
    return queryset


def _recipient_expression():
    """Per group enrolment: the live member with role HEAD, else the live PRIMARY recipient (NULL if neither)."""
    from individual.selectors import head_memberships, live_memberships

    head = head_memberships().filter(group_id=OuterRef("group_id")).order_by("date_created", "id")
    primary = live_memberships().filter(group_id=OuterRef("group_id"), recipient_type=PRIMARY,
                                        individual__is_deleted=False).order_by("date_created", "id")
    return Coalesce(Subquery(head.values("individual_id")[:1]), Subquery(primary.values("individual_id")[:1]),
                    output_field=UUIDField())


def _member_count_expression():
    """Per group enrolment: its live members (non-deleted memberships of non-deleted individuals)."""
    from individual.selectors import live_memberships

    counted = (live_memberships().filter(group_id=OuterRef("group_id"), individual__is_deleted=False)
               .order_by().values("group_id").annotate(members=Count("id")).values("members"))
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0), output_field=IntegerField())


def _with_recipients(queryset, group):
    if group:
        return queryset.annotate(calc_individual_id=_recipient_expression(), calc_group_id=F("group_id"))
    return queryset.annotate(calc_individual_id=F("individual_id"),
                             calc_group_id=Cast(Value(None), output_field=UUIDField()))


def _missing_recipient_warning(count):
    return (f"{count} group(s) have neither a head nor a primary recipient among their live members: "
            "they were not paid")


# --- SQL helpers -------------------------------------------------------------------------------------------------
def _cents(value):
    """An integer constant typed BIGINT on every database (sums of cents must not overflow a 32-bit integer)."""
    return Cast(Value(int(value)), output_field=BigIntegerField())


def _text(value):
    return Value(str(value), output_field=CharField())


class JSONFromText(Func):
    """JSON text computed by the query, as a JSON value (``JSON(x)`` on SQLite, ``x::jsonb`` on PostgreSQL)."""

    function = "JSON"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="(%(expressions)s)::jsonb", **extra_context)


def _matched_criteria_json(criteria):
    """The JSON array of the criteria an enrolment meets, in the plan's order: each met criterion contributes the
    constant text ``,{"condition": …, "amount": …}`` (a CASE per criterion), the leading comma is cut and the
    text parsed as JSON. Portable, exact and with nothing but constants from Python."""
    if not criteria:
        return JSONFromText(_text("[]"))
    parts = [Case(When(criterion.condition.q(), then=_text(
        "," + json.dumps({"condition": criterion.condition.text, "amount": str(criterion.amount)}))),
        default=_text(""), output_field=CharField()) for criterion in criteria]
    joined = parts[0] if len(parts) == 1 else Concat(*parts, output_field=CharField())
    return JSONFromText(Concat(_text("["), Substr(joined, 2), _text("]"), output_field=CharField()))


# --- the rules ---------------------------------------------------------------------------------------------------
class BenefitPlanCalculationRule(AbsCalculationRule):
    """What the rules of this module share: they compute the entitlements of a ``PaymentPlan`` (calcrule §3.5)."""

    type = "social_protection"
    sub_type = "benefit_plan"
    date_valid_from = datetime.datetime(2000, 1, 1)
    date_valid_to = None
    status = "active"
    from_to = []
    CLASS_NAME_CHECK = ["PaymentPlan"]

    @classmethod
    def get_linked_class(cls, sender=None, class_name=None, **kwargs):
        return ["Calculation"]

    @classmethod
    def run_calculation_rules(cls, sender=None, instance=None, user=None, context=None, **kwargs):
        if instance.__class__.__name__ not in cls.CLASS_NAME_CHECK:
            return False
        return cls.calculate_if_active_for_object(instance, user=user, context=context, **kwargs)

    @classmethod
    def get_payment_cycle_parameters(cls, **kwargs):
        user = kwargs.get("user")
        user_id = getattr(user, "id", None) or kwargs.get("user_id") or kwargs.get("audit_user_id")
        return user_id, kwargs.get("start_date"), kwargs.get("end_date"), kwargs.get("payment_cycle")

    @classmethod
    def parameter_value(cls, values, name, class_name="PaymentPlan"):
        """The value of ``name`` in ``values``, else its declared default (upstream declares it as ``default``)."""
        value = super().parameter_value(values, name, class_name)
        if value is None:
            for parameter in cls.parameters_for(class_name):
                if parameter["name"] == name:
                    return parameter.get("default")
        return value

    @classmethod
    def parameters(cls, payment_plan):
        """The plan's parameters (``json_ext.calculation_rule``), defaults filled in, money quantized to cents
        half-up (``number``) and whole numbers as int (``integer``); a ValidationError lists what is wrong."""
        return cls.parameters_from((payment_plan.json_ext or {}).get("calculation_rule"))

    @classmethod
    def parameters_from(cls, values):
        if values is not None and not isinstance(values, dict):
            raise ValidationError("calculation_rule must be a JSON object")
        declared = cls.parameters_for()
        names = {p["name"] for p in declared}
        # unknown keys are the payment plan service's business (it refuses them on save), not a reason to fail here
        problems = cls.validate_parameters({k: v for k, v in (values or {}).items() if k in names})
        if problems:
            raise ValidationError("; ".join(problems))
        result = {}
        for parameter in declared:
            value = cls.parameter_value(values, parameter["name"])
            value = 0 if value in (None, "") else value
            result[parameter["name"]] = int(money(value)) if parameter["type"] == "integer" else money(value)
        return result

    @classmethod
    def calculate(cls, payment_plan, *, user=None, payment_cycle=None, start_date=None, end_date=None,
                  beneficiaries_queryset=None, context="PaymentCycle", **kwargs):
        if start_date is None and payment_cycle is not None:
            start_date = payment_cycle.start_date
        if end_date is None and payment_cycle is not None:
            end_date = payment_cycle.end_date
        return cls.compute(payment_plan, enrolments(payment_plan, start_date, end_date, beneficiaries_queryset))

    @classmethod
    def compute(cls, payment_plan, queryset):
        raise NotImplementedError


class SocialProtectionCalculationRule(BenefitPlanCalculationRule):
    version = 1
    uuid = "32d96b58-898a-460a-b357-5fd4b95cd87c"
    calculation_rule_name = "Calculation rule: social protection"
    description = ("Pays every active enrolment of the benefit plan a fixed amount, plus the amount of each "
                   "advanced criterion its data meets, plus (group plans) an amount per active household member, "
                   "optionally capped; amounts over the limit per single transaction need approval.")
    impacted_class_parameter = [{
        "class": "PaymentPlan",
        "parameters": [
            _parameter("fixed_batch", "Fixed amount", "Lot fixe"),
            LIMIT_PARAMETER,
            AMOUNT_PER_MEMBER_PARAMETER,
            _parameter("max_members_counted", "Maximum members counted (0 = no cap)",
                       "Nombre maximal de membres comptés (0 = sans plafond)", type="integer"),
        ],
    }]

    @classmethod
    def compute(cls, payment_plan, queryset):
        """The selection (one queryset, :data:`core.calculation.SELECTION_COLUMNS`) and, for group plans, one
        count of the groups left out for want of a recipient."""
        params = cls.parameters(payment_plan)
        criteria = parse_criteria((payment_plan.json_ext or {}).get("advanced_criteria"))
        group = payment_plan.benefit_plan.type == GROUP
        queryset = _with_recipients(queryset, group)
        warnings = []
        if group:
            missing = queryset.filter(calc_individual_id__isnull=True).count()
            if missing:
                warnings.append(_missing_recipient_warning(missing))
            queryset = queryset.filter(calc_individual_id__isnull=False)

        amount = _cents(params["fixed_batch"] * 100)
        for criterion in criteria:
            amount = amount + Case(When(criterion.condition.q(), then=_cents(criterion.cents)),
                                   default=_cents(0), output_field=BigIntegerField())
        breakdown = {"base": _text(params["fixed_batch"]), "criteria": _matched_criteria_json(criteria)}
        if group:
            members = _member_count_expression()
            cap = params["max_members_counted"]
            counted = Least(members, Value(cap), output_field=IntegerField()) if cap > 0 else members
            per_member = params["amount_per_member"]
            if per_member:
                amount = amount + _cents(per_member * 100) * Cast(counted, output_field=BigIntegerField())
            breakdown.update(per_member=_text(per_member), members=members)
        breakdown["limit"] = _text(params["limit_per_single_transaction"])
        queryset = queryset.annotate(calc_amount_cents=Cast(amount, output_field=BigIntegerField()))
        limit_cents = int(params["limit_per_single_transaction"] * 100)
        if limit_cents > 0:
            needs_approval = Case(When(GreaterThan(F("calc_amount_cents"), _cents(limit_cents)), then=Value(True)),
                                  default=Value(False), output_field=BooleanField())
        else:
            needs_approval = Value(False, output_field=BooleanField())
        selection = queryset.annotate(calc_needs_approval=needs_approval, calc_breakdown=JSONObject(**breakdown))
        return RuleResult(selection=selection, warnings=warnings)


class FlatPerMemberCalculationRule(BenefitPlanCalculationRule):
    """A flat amount per active household member (1 for an individual plan), as Python rows."""

    version = 1
    uuid = "f284ab25-352d-4c27-9ea7-865d38d6ce9b"
    calculation_rule_name = "Calculation rule: flat amount per household member"
    description = ("Pays every active enrolment of the benefit plan a flat amount per active household member "
                   "(one for an individual plan); amounts over the limit per single transaction need approval.")
    impacted_class_parameter = [{"class": "PaymentPlan",
                                 "parameters": [AMOUNT_PER_MEMBER_PARAMETER, LIMIT_PARAMETER]}]

    @classmethod
    def compute(cls, payment_plan, queryset):
        """One aggregate query (enrolments with recipient and member count), then the rows in Python."""
        params = cls.parameters(payment_plan)
        group = payment_plan.benefit_plan.type == GROUP
        queryset = _with_recipients(queryset, group)
        if group:
            queryset = queryset.annotate(calc_members=_member_count_expression())
        columns = ["id", "calc_individual_id", "calc_group_id"] + (["calc_members"] if group else [])
        per_member, limit = params["amount_per_member"], params["limit_per_single_transaction"]
        rows, missing = [], 0
        for enrolment in queryset.order_by("id").values(*columns):
            if enrolment["calc_individual_id"] is None:
                missing += 1
                continue
            members = enrolment["calc_members"] if group else 1
            amount = money(per_member * members)
            rows.append({
                "enrolment": enrolment["id"],
                "enrolment_field": "group_beneficiary" if group else "beneficiary",
                "individual": enrolment["calc_individual_id"],
                "group": enrolment["calc_group_id"],
                "amount": amount,
                "needs_approval": bool(limit) and amount > limit,
                "breakdown": {"per_member": str(per_member), "members": members, "limit": str(limit)},
            })
        return RuleResult(rows=rows, warnings=[_missing_recipient_warning(missing)] if missing else [])


def reference_amount(calculation_rule, advanced_criteria, attributes, members=None):
    """What :class:`SocialProtectionCalculationRule` pays one enrolment, in pure Python (no database): its JSON
    ``attributes`` and, for a group plan, its number of live ``members`` (None for an individual plan).
    Returns ``(amount, needs_approval, breakdown)``; the amount a Decimal of two places."""
    params = SocialProtectionCalculationRule.parameters_from(calculation_rule)
    criteria = parse_criteria(advanced_criteria)
    met = [c for c in criteria if c.condition.matches(attributes or {})]
    amount = params["fixed_batch"] + sum((c.amount for c in met), money(0))
    breakdown = {"base": str(params["fixed_batch"]),
                 "criteria": [{"condition": c.condition.text, "amount": str(c.amount)} for c in met]}
    if members is not None:
        cap = params["max_members_counted"]
        counted = min(members, cap) if cap > 0 else members
        amount += params["amount_per_member"] * counted
        breakdown.update(per_member=str(params["amount_per_member"]), members=members)
    limit = params["limit_per_single_transaction"]
    breakdown["limit"] = str(limit)
    amount = money(amount)
    return amount, bool(limit) and amount > limit, breakdown


RULES = [SocialProtectionCalculationRule, FlatPerMemberCalculationRule]
