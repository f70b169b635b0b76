"""The project's one JSON Schema validator (Draft 7 unless the schema names another draft).

Used for ``Individual.json_ext`` against ``individual_schema``, for beneficiaries against their plan's
``beneficiary_data_schema`` and for every row of an import. It is jsonschema-rs (Rust): an import checks each
of a million rows, where the pure-Python validator costs ~20 µs a row and this one well under a microsecond.
Compiled validators are cached by the schema's text, so a schema is compiled once per process and change.
"""
import json
from functools import lru_cache

import jsonschema_rs

_DRAFTS = {
    "http://json-schema.org/draft-04/schema": jsonschema_rs.Draft4Validator,
    "http://json-schema.org/draft-06/schema": jsonschema_rs.Draft6Validator,
    "http://json-schema.org/draft-07/schema": jsonschema_rs.Draft7Validator,
    "https://json-schema.org/draft/2019-09/schema": jsonschema_rs.Draft201909Validator,
    "https://json-schema.org/draft/2020-12/schema": jsonschema_rs.Draft202012Validator,
}


class SchemaInvalid(ValueError):
    """The schema itself is not a valid JSON Schema (``str()`` says why)."""


@lru_cache(maxsize=64)
def _compiled(schema_text):
    schema = json.loads(schema_text)
    draft = str(schema.get("$schema", "")).rstrip("#") if isinstance(schema, dict) else ""
    validator_class = _DRAFTS.get(draft, jsonschema_rs.Draft7Validator)
    try:
        return validator_class(schema, validate_formats=True)
    except (jsonschema_rs.ValidationError, ValueError) as exc:
        raise SchemaInvalid(str(exc).split("\n", 1)[0]) from None


def validator(schema):
    """The compiled validator of ``schema`` (a dict); raises :class:`SchemaInvalid`."""
    return _compiled(json.dumps(schema, sort_keys=True, default=str))


def check_schema(schema):
    """``None`` when ``schema`` is a usable JSON Schema, else the reason (one line)."""
    if not isinstance(schema, dict):
        return "a JSON Schema must be an object"
    try:
        validator(schema)
    except SchemaInvalid as exc:
        return str(exc)
    return None


def compiled_errors(compiled, instance):
    """:func:`errors` with a validator compiled once by the caller (a loop over many instances)."""
    if compiled.is_valid(instance):  # the fast path: most rows are valid
        return []
    found = []
    for error in compiled.iter_errors(instance):
        path = ".".join(str(p) for p in error.instance_path)
        if not path and error.kind.name == "required":
            path = str(error.kind.property)
        found.append((path, error.message))
    return sorted(found)


def errors(schema, instance):
    """Every violation of ``schema`` by ``instance``: ``[(field, message)]`` sorted by field, where ``field`` is
    the dotted path of the offending value, or the missing property's name for ``required`` (``""`` for the
    instance as a whole). An empty or unusable schema accepts everything (a bad configured schema is reported
    where it is configured, it does not block writes)."""
    if not schema:
        return []
    try:
        compiled = validator(schema)
    except SchemaInvalid:
        return []
    return compiled_errors(compiled, instance)
