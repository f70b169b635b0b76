"""The openIMIS web frontend's real operations (compat/client_ops.jsonl) validate against our schema.

A regression (an operation that validated and no longer does) fails here, in CI; so does a known gap that is
closed without being taken off the list below (keep the list true)."""
import json
from pathlib import Path

from graphql import parse, validate

from openimis_be.schema import schema

OPS = Path(__file__).resolve().parent.parent / "compat" / "client_ops.jsonl"
# operations that do not validate yet, each with its reason
KNOWN_GAPS = {
    "individual/src/actions.js/fetchApiEtlServices": "api_etl, out of scope (individual.md §12)",
    "individual/src/actions.js/confirmPullingDataFromApiEtl": "api_etl, out of scope (individual.md §12)",
}


def test_the_frontend_operations_validate():
    graphql_schema = schema.graphql_schema
    failing = {}
    for line in OPS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            op = json.loads(line)
            errors = validate(graphql_schema, parse(op["document"]))
            if errors:
                failing[op["id"]] = errors[0].message
    regressions = {k: v for k, v in failing.items() if k not in KNOWN_GAPS}
    assert not regressions, regressions
    closed = set(KNOWN_GAPS) - set(failing)
    assert not closed, f"these operations validate now: remove them from KNOWN_GAPS: {sorted(closed)}"
