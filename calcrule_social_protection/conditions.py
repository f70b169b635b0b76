"""Advanced criteria of a payment plan: ``"<key>__<lookup>__<type>=<value>"`` conditions on an enrolment's JSON.

The structure and the lookups allowed per type are core's (:func:`core.custom_filters.parse_custom_filter`,
``LOOKUPS_BY_TYPE``); the value is cast our way (calcrule spec §7.3), not upstream's:

* ``string``: surrounding double quotes are optional (``"North"`` and ``North`` are the same value);
* ``integer``: a whole number;
* ``decimal`` / ``numeric`` / ``number``: a finite Decimal, handed to the JSON lookup as an int when whole, else
  a float (what a JSON number is on both databases);
* ``date``: an ISO date (``YYYY-MM-DD``), validated, compared as its ISO text;
* ``boolean``: as upstream, non-word characters dropped, ``true``/``false`` in any case.

A condition becomes a ``Q`` on ``json_ext__<key>__<lookup>`` (evaluated by the database, set-based) and, for the
tests' reference computation, a pure Python predicate over an attributes dict with the same meaning.
"""
import datetime
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import Q

from core.calculation import money
from core.custom_filters import parse_custom_filter

NUMBER_TYPES = ("decimal", "numeric", "number")


def _unquote(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return json.loads(text)
        except ValueError:
            return text[1:-1]
    return text


def cast_condition_value(raw, value_type):
    """``raw`` (the text after ``=``) as the value the JSON lookup compares with; ValueError when it is not one."""
    if value_type == "string":
        return _unquote(raw)
    if value_type == "integer":
        return int(_unquote(raw))
    if value_type in NUMBER_TYPES:
        try:
            number = Decimal(_unquote(raw))
        except InvalidOperation:
            raise ValueError(f"{raw!r} is not a number")
        if not number.is_finite():
            raise ValueError(f"{raw!r} is not a number")
        return int(number) if number == number.to_integral_value() else float(number)
    if value_type == "date":
        return datetime.date.fromisoformat(_unquote(raw)).isoformat()
    if value_type == "boolean":
        cleaned = re.sub(r"[^\w]", "", raw).lower()
        if cleaned not in ("true", "false"):
            raise ValueError(f"{raw!r} is not true or false")
        return cleaned == "true"
    raise ValueError(f"unknown type {value_type}")


@dataclass(frozen=True)
class Condition:
    text: str
    key: str
    lookup: str
    type: str
    value: object

    @property
    def path(self):
        return self.key.split("__")

    def q(self, json_field="json_ext"):
        return Q(**{f"{json_field}__{self.key}__{self.lookup}": self.value})

    def matches(self, attributes):
        """The same test in Python, on a JSON object (dict): the reference the database must agree with.

        Defined for attributes of the condition's type; a missing key (or JSON null) never matches."""
        current = attributes
        for part in self.path:
            if not isinstance(current, dict) or part not in current:
                return False
            current = current[part]
        if current is None:
            return False
        if self.type == "string":
            if not isinstance(current, str):
                return False
            left, right = current.upper(), str(self.value).upper()
            return {"iexact": left == right, "istartswith": left.startswith(right),
                    "icontains": right in left}[self.lookup]
        if self.type == "boolean":
            return isinstance(current, bool) and current == self.value
        if isinstance(current, bool):
            return False
        if self.type == "date":
            if not isinstance(current, str):
                return False
            left, right = current, self.value
        else:
            if not isinstance(current, (int, float, Decimal)):
                return False
            left, right = Decimal(str(current)), Decimal(str(self.value))
        return {"exact": left == right, "lt": left < right, "lte": left <= right, "gt": left > right,
                "gte": left >= right}[self.lookup]


def parse_condition(text):
    """A :class:`Condition`, or a ``ValidationError`` naming the condition when it is not one."""
    if not isinstance(text, str) or "=" not in text:
        raise ValidationError(f"Invalid advanced criterion {text!r}: expected <field>__<lookup>__<type>=<value>")
    parse_custom_filter(text)  # structure, type and lookup allowed for it (raises a ValidationError naming text)
    left, raw = text.strip().split("=", 1)
    key, lookup, value_type = left.rsplit("__", 2)
    try:
        value = cast_condition_value(raw, value_type)
    except ValueError as exc:
        raise ValidationError(f"Invalid advanced criterion {text!r}: {exc}")
    return Condition(text=text, key=key, lookup=lookup, type=value_type, value=value)


@dataclass(frozen=True)
class Criterion:
    condition: Condition
    amount: Decimal  # two places, half-up

    @property
    def cents(self):
        return int(self.amount * 100)


def parse_criteria(advanced_criteria):
    """``payment_plan.json_ext["advanced_criteria"]`` → list of :class:`Criterion` (``count_to_max`` is ignored,
    as upstream). A malformed entry raises a ``ValidationError`` naming it."""
    if advanced_criteria in (None, "", []):
        return []
    if not isinstance(advanced_criteria, list):
        raise ValidationError("advanced_criteria must be a list of {custom_filter_condition, amount}")
    criteria = []
    for item in advanced_criteria:
        if not isinstance(item, dict) or not item.get("custom_filter_condition"):
            raise ValidationError(f"Invalid advanced criterion {item!r}: custom_filter_condition is missing")
        condition = parse_condition(item["custom_filter_condition"])
        amount = item.get("amount")
        try:
            amount = money(0 if amount in (None, "") else amount)
        except (ArithmeticError, ValueError, TypeError):
            raise ValidationError(f"Invalid advanced criterion {condition.text!r}: amount {amount!r} is not a number")
        if not amount.is_finite():
            raise ValidationError(f"Invalid advanced criterion {condition.text!r}: amount {amount!r} is not a number")
        criteria.append(Criterion(condition=condition, amount=amount))
    return criteria
