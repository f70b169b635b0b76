"""Calculation rules: the registry payment plans select a rule from (by uuid), and the abstract rule.

A rule module registers its classes in its AppConfig ``ready()``::

    CalculationRuleRegistry.register(MyRule)

``payment_cycle`` asks the rule of a payment plan for the plan's entitlements of one period
(:meth:`AbsCalculationRule.calculate_if_active_for_object`) and persists what it answers: a
:class:`RuleResult`. A rule computes, it never writes payment records.

A rule answers either Python ``rows`` (small or unusual rules) or, for the registry's scale, a ``selection``:
the enrolments to pay as one queryset annotated with the columns of :data:`SELECTION_COLUMNS`, which
``payment_cycle`` writes with one ``INSERT … SELECT`` (no row ever travels through Python).

The metadata, method names and the six signals of upstream's ``core.abs_calculation_rule`` are kept so that
other rules can be ported (calcrule_social_protection.md §3).
"""
import datetime
import logging
import uuid as uuid_module
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.dispatch import Signal
from django.utils import timezone

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")

# A selection's annotations (per enrolment row): the recipient, the group (group plans), the amount in
# integer cents (exact on every database), whether it exceeds the plan's limit, and the breakdown (JSON).
SELECTION_COLUMNS = ("calc_individual_id", "calc_group_id", "calc_amount_cents", "calc_needs_approval",
                     "calc_breakdown")


def money(value):
    """``value`` as a Decimal of two places, half-up (DECISIONS.md: money is never a float)."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(value):
    return int(money(value) * 100)


@dataclass
class RuleResult:
    """What a rule answers for one payment plan and period.

    ``rows``: ``[{"enrolment", "individual", "group", "amount": Decimal, "needs_approval", "breakdown"}]``
    (enrolment = a Beneficiary or GroupBeneficiary, individual/group = instances or ids);
    ``selection``: a queryset of the plan's enrolment model annotated with :data:`SELECTION_COLUMNS`
    (then ``rows`` is empty); ``warnings``: texts for the processing report.
    """

    rows: list = field(default_factory=list)
    selection: object = None
    warnings: list = field(default_factory=list)

    @property
    def set_based(self):
        return self.selection is not None


class CalculationRuleRegistry:
    """Process-wide registry of rule classes (upstream's ``calculation.CALCULATION_RULES``)."""

    _rules = {}

    @classmethod
    def register(cls, rule):
        key = str(rule.uuid)
        registered = cls._rules.get(key)
        if registered is not None and registered is not rule:
            raise ValueError(f"Calculation rule {key} is registered twice ({registered.__name__}, {rule.__name__})")
        cls._rules[key] = rule
        rule.ready()
        return rule

    @classmethod
    def unregister(cls, rule):
        cls._rules.pop(str(rule.uuid), None)

    @classmethod
    def get(cls, rule_uuid):
        """The rule whose uuid equals ``rule_uuid`` (a UUID or its text in any case), else None."""
        if rule_uuid is None:
            return None
        try:
            key = str(uuid_module.UUID(str(rule_uuid)))
        except ValueError:
            return None
        return cls._rules.get(key)

    @classmethod
    def all(cls):
        return list(cls._rules.values())

    @classmethod
    def for_class(cls, class_name):
        """Rules with parameters for ``class_name`` (e.g. ``"PaymentPlan"``)."""
        return [rule for rule in cls._rules.values() if rule.details_for(class_name) is not None]


def get_calculation_object(rule_uuid):
    """Upstream's lookup, kept as a thin function over the registry."""
    return CalculationRuleRegistry.get(rule_uuid)


class AbsCalculationRule:
    """Base of every calculation rule; all methods are classmethods (the class is the rule)."""

    version = 1
    uuid = None
    calculation_rule_name = None
    description = ""
    impacted_class_parameter = []
    type = None
    sub_type = None
    from_to = []
    date_valid_from = datetime.datetime(2000, 1, 1)
    date_valid_to = None
    status = "active"

    signal_get_rule_name = Signal()
    signal_get_rule_details = Signal()
    signal_get_param = Signal()
    signal_get_linked_class = Signal()
    signal_calculate_event = Signal()
    signal_convert_from_to = Signal()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # each rule has its own signals (a receiver of one rule never hears another's)
        for name in ("signal_get_rule_name", "signal_get_rule_details", "signal_get_param",
                     "signal_get_linked_class", "signal_calculate_event", "signal_convert_from_to"):
            setattr(cls, name, Signal())

    # --- life cycle -----------------------------------------------------------------------------------------
    @classmethod
    def is_valid_now(cls):
        now = timezone.now().replace(tzinfo=None)
        if cls.date_valid_from and now < cls.date_valid_from:
            return False
        return cls.date_valid_to is None or now <= cls.date_valid_to

    @classmethod
    def ready(cls):
        if not cls.is_valid_now():
            cls.status = "inactive"
            return
        if cls.status != "active":
            return
        uid = str(cls.uuid)
        cls.signal_get_rule_name.connect(cls.get_rule_name, dispatch_uid=f"on_get_rule_name_signal_{uid}")
        cls.signal_get_rule_details.connect(cls.get_rule_details, dispatch_uid=f"on_get_rule_details_signal_{uid}")
        cls.signal_get_param.connect(cls.get_parameters, dispatch_uid=f"on_get_param_signal_{uid}")
        cls.signal_get_linked_class.connect(cls.get_linked_class, dispatch_uid=f"on_get_linked_class_signal_{uid}")
        cls.signal_calculate_event.connect(cls.run_calculation_rules, dispatch_uid=f"on_calculate_event_signal_{uid}")
        cls.signal_convert_from_to.connect(cls.run_convert, dispatch_uid=f"on_convert_from_to_{uid}")

    # --- contract -----------------------------------------------------------------------------------------
    @classmethod
    def check_calculation(cls, instance):
        """Does ``instance`` (a payment plan) use this rule?"""
        return str(getattr(instance, "calculation", None) or "").lower() == str(cls.uuid).lower()

    @classmethod
    def active_for_object(cls, instance, context, type=None, sub_type=None):
        return cls.status == "active" and cls.check_calculation(instance)

    @classmethod
    def calculate(cls, instance, *args, **kwargs):
        """Answer a :class:`RuleResult` for ``instance``; see ``payment_cycle`` for the keyword arguments."""
        raise NotImplementedError

    @classmethod
    def calculate_if_active_for_object(cls, instance, **kwargs):
        if cls.active_for_object(instance, context=kwargs.get("context")):
            return cls.calculate(instance, **kwargs)
        return None

    # --- metadata answered to the forms ----------------------------------------------------------------------
    @classmethod
    def details_for(cls, class_name):
        for entry in cls.impacted_class_parameter or []:
            if entry.get("class") == class_name:
                return entry
        return None

    @classmethod
    def get_linked_class(cls, sender=None, class_name=None, **kwargs):
        if class_name is None:
            return ["Calculation"]
        from django.apps import apps

        for model in apps.get_models():
            if model.__name__ == class_name:
                return [f.related_model.__name__ for f in model._meta.concrete_fields
                        if f.is_relation and f.related_model.__name__ != "User"]
        return []

    @classmethod
    def get_rule_name(cls, sender=None, class_name=None, **kwargs):
        return cls if cls.details_for(class_name) is not None else None

    @classmethod
    def get_rule_details(cls, sender=None, class_name=None, **kwargs):
        return cls.details_for(class_name)

    @classmethod
    def get_parameters(cls, sender=None, class_name=None, instance=None, **kwargs):
        details = cls.details_for(class_name)
        if details is None:
            return None
        if instance is cls or instance is None or cls.check_calculation(instance):
            return details.get("parameters", [])
        return None

    @classmethod
    def run_calculation_rules(cls, sender=None, instance=None, user=None, context=None, **kwargs):
        linked = set(cls.get_linked_class(class_name=instance.__class__.__name__))
        if hasattr(instance, "calculation"):
            linked.add(instance.__class__.__name__)
        impacted = {entry.get("class") for entry in cls.impacted_class_parameter or []}
        if not impacted or linked & impacted:
            return cls.calculate_if_active_for_object(instance, user=user, context=context, **kwargs)
        return False

    @classmethod
    def convert(cls, instance, convert_to, **kwargs):
        return None  # our rules compute; payment_cycle persists (no conversions declared)

    @classmethod
    def run_convert(cls, sender=None, instance=None, convert_to=None, **kwargs):
        return cls.convert(instance, convert_to, **kwargs)

    @classmethod
    def get_convert_from_to(cls):
        return [{"calc_uuid": str(cls.uuid), **entry} for entry in cls.from_to or []]

    # --- parameters -----------------------------------------------------------------------------------------
    @classmethod
    def parameters_for(cls, class_name="PaymentPlan"):
        details = cls.details_for(class_name) or {}
        return details.get("parameters", [])

    @classmethod
    def validate_parameters(cls, values, class_name="PaymentPlan"):
        """Problems of ``values`` (the plan's ``json_ext.calculation_rule``) against the declared parameters:
        a list of messages (empty when valid). Declared types: ``number``, ``integer``, ``boolean``, ``string``;
        ``condition`` ``INPUT>=0`` (or ``INPUT>0``) is checked."""
        problems = []
        if values is not None and not isinstance(values, dict):
            return ["calculation_rule must be a JSON object"]
        values = values or {}
        declared = {p["name"]: p for p in cls.parameters_for(class_name)}
        for name in sorted(set(values) - set(declared)):
            problems.append(f"calculation_rule.{name}: unknown parameter of {cls.calculation_rule_name}")
        for name, parameter in declared.items():
            if name not in values or values[name] in (None, ""):
                continue
            value = values[name]
            kind = parameter.get("type")
            if kind in ("number", "integer"):
                try:
                    number = Decimal(str(value))
                    if not number.is_finite():
                        raise ValueError
                except (ArithmeticError, ValueError):
                    problems.append(f"calculation_rule.{name}: {value!r} is not a number")
                    continue
                if kind == "integer" and number != number.to_integral_value():
                    problems.append(f"calculation_rule.{name}: {value!r} is not a whole number")
                condition = (parameter.get("condition") or "").replace(" ", "")
                if condition == "INPUT>=0" and number < 0:
                    problems.append(f"calculation_rule.{name} must be zero or more")
                elif condition == "INPUT>0" and number <= 0:
                    problems.append(f"calculation_rule.{name} must be more than zero")
            elif kind == "boolean" and not isinstance(value, bool):
                problems.append(f"calculation_rule.{name}: {value!r} is not true or false")
        return problems

    @classmethod
    def parameter_value(cls, values, name, class_name="PaymentPlan"):
        """The value of parameter ``name`` in ``values``, or its declared default."""
        values = values or {}
        if values.get(name) not in (None, ""):
            return values[name]
        for parameter in cls.parameters_for(class_name):
            if parameter["name"] == name:
                for key in ("default", "default_value", "defaultValue"):  # upstream declares "default"
                    if key in parameter:
                        return parameter[key]
                return None
        return None


__all__ = ["AbsCalculationRule", "CalculationRuleRegistry", "RuleResult", "SELECTION_COLUMNS",
           "get_calculation_object", "money", "to_cents"]
