"""Custom filters on JSON attributes: ``"<key>__<lookup>__<type>=<value>"`` → ``json_ext__<key>__<lookup>``.

Modules register wizards per (module, object type); the ``customFilters`` query lists what a wizard
offers, and list queries apply the strings through the same wizard.
"""
import json
import re
from collections import defaultdict, namedtuple

from django.core.exceptions import ValidationError
from django.db.models import Q

CustomFilterDefinition = namedtuple("CustomFilterDefinition", ["type", "code", "object_class_name", "possible_filters"])
PossibleFilter = namedtuple("PossibleFilter", ["field", "filter", "type"])

LOOKUPS_BY_TYPE = {
    "string": ["iexact", "istartswith", "icontains"],
    "integer": ["exact", "lt", "lte", "gt", "gte"],
    "numeric": ["exact", "lt", "lte", "gt", "gte"],
    "number": ["exact", "lt", "lte", "gt", "gte"],
    "decimal": ["exact", "lt", "lte", "gt", "gte"],
    "date": ["exact", "lt", "lte", "gt", "gte"],
    "boolean": ["exact"],
}
JSON_SCHEMA_TYPES = {"string": "string", "integer": "integer", "number": "numeric", "boolean": "boolean"}
_FILTER_RE = re.compile(r"^(?P<field>[A-Za-z_][\w]*)__(?P<lookup>[a-z]+)__(?P<type>[a-z]+)=(?P<value>.*)$", re.S)
_KEY_RE = re.compile(r"^[A-Za-z_][\w]*$")


def cast_value(value, value_type):
    if value_type == "integer":
        return int(str(value).strip().strip('"'))
    if value_type in ("numeric", "number", "decimal"):
        return float(str(value).strip().strip('"'))
    if value_type == "boolean":
        cleaned = re.sub(r"[^\w]", "", str(value)).lower()
        if cleaned not in ("true", "false"):
            raise ValueError(f"{value} is not a boolean")
        return cleaned == "true"
    if value_type == "date":
        return str(value).strip().strip('"')
    return str(value).strip().strip('"')


def parse_custom_filter(text):
    match = _FILTER_RE.match(str(text).strip())
    if not match:
        raise ValidationError(f"Invalid custom filter '{text}': expected <field>__<lookup>__<type>=<value>")
    field, lookup, value_type, value = match.group("field", "lookup", "type", "value")
    if value_type not in LOOKUPS_BY_TYPE:
        raise ValidationError(f"Invalid custom filter '{text}': unknown type {value_type}")
    if lookup not in LOOKUPS_BY_TYPE[value_type]:
        raise ValidationError(f"Invalid custom filter '{text}': lookup {lookup} not allowed for {value_type}")
    try:
        return field, lookup, cast_value(value, value_type)
    except ValueError as exc:
        raise ValidationError(f"Invalid custom filter '{text}': {exc}")


_RESERVED_PARAMS = {"self", "tuple_type", "uuid", "user"}


def parse_additional_params(text):
    """The ``additionalParams`` of ``customFilters``: a JSON object of named scalar parameters handed to the
    wizards (e.g. ``{"benefitPlan": "<uuid>"}``); absent, empty or JSON ``null`` is none. Anything else is a
    ValidationError naming additionalParams."""
    if text is None or not str(text).strip():
        return {}
    try:
        params = json.loads(text)
    except ValueError:
        raise ValidationError("additionalParams must be a JSON object, e.g. {\"benefitPlan\": \"<uuid>\"}")
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise ValidationError(f"additionalParams must be a JSON object, not a JSON {type(params).__name__}")
    for key, value in params.items():
        if not _KEY_RE.match(key) or key in _RESERVED_PARAMS:
            raise ValidationError(f"additionalParams: unknown parameter {key[:50]!r}")
        if isinstance(value, (dict, list)):
            raise ValidationError(f"additionalParams: {key} must be a single value")
    return params


def custom_filter_q(filters, relation=None, json_field="json_ext"):
    """AND of the given filter strings (or ``{field, filter, type, value}`` dicts) as one Q."""
    q = Q()
    for item in filters or []:
        if isinstance(item, dict):
            item = f"{item['field']}__{item['filter']}__{item['type']}={item['value']}"
        field, lookup, value = parse_custom_filter(item)
        prefix = f"{relation}__" if relation else ""
        q &= Q(**{f"{prefix}{json_field}__{field}__{lookup}": value})
    return q


def refuse_masked_filters(filters, user, policy):
    """Refuse (business ``ValidationError``) any of ``filters`` on a ``json_ext`` path that the masking policy
    ``policy`` (a ``core.masking`` name: the policy of the JSON the filters read) masks for ``user``. Call it
    before :func:`custom_filter_q` wherever a caller's filters reach masked JSON: a list, a count, an export or a
    selection would otherwise answer what the mask hides, one ``istartswith`` at a time."""
    if not filters or policy is None:
        return
    from core.masking import masking_policy

    masking = masking_policy(policy)
    for item in filters:
        if isinstance(item, dict):
            item = f"{item.get('field')}__{item.get('filter')}__{item.get('type')}={item.get('value')}"
        field, _, _ = parse_custom_filter(item)
        masking.refuse_filter(user, field.split("__"))


def filters_from_json_schema(schema):
    if isinstance(schema, str):
        try:
            schema = json.loads(schema or "{}")
        except ValueError:
            return []
    filters = []
    for key, definition in ((schema or {}).get("properties") or {}).items():
        if not isinstance(definition, dict) or not _KEY_RE.match(key):
            continue
        json_type = definition.get("type", "string")
        if isinstance(json_type, list):
            json_type = next((t for t in json_type if t != "null"), "string")
        value_type = "date" if definition.get("format") == "date" else JSON_SCHEMA_TYPES.get(json_type, "string")
        for lookup in LOOKUPS_BY_TYPE[value_type]:
            filters.append(PossibleFilter(field=key, filter=lookup, type=value_type))
    return filters


class CustomFilterWizardInterface:
    def get_type_of_object(self):
        raise NotImplementedError

    def load_definition(self, tuple_type, **kwargs):
        raise NotImplementedError

    def apply_filter_to_queryset(self, custom_filters, query, relation=None):
        return query.filter(custom_filter_q(custom_filters, relation=relation)).distinct()


class CustomFilterRegistryPoint:
    REGISTERED_CUSTOM_FILTER_WIZARDS = defaultdict(list)

    @classmethod
    def register_custom_filters(cls, module_name, custom_filter_class_list):
        registered = cls.REGISTERED_CUSTOM_FILTER_WIZARDS[module_name]
        for wizard in custom_filter_class_list:
            if wizard not in registered:
                registered.append(wizard)

    @classmethod
    def wizards(cls, module_name, object_type_name):
        return [w for w in cls.REGISTERED_CUSTOM_FILTER_WIZARDS.get(module_name, [])
                if w().get_type_of_object() == object_type_name]
