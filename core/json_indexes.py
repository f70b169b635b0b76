"""Indexes for the JSON attributes a schema declares searchable.

A module's JSON Schema (the individual schema, a benefit plan's beneficiary schema) marks a property it filters on
with ``"searchable": true``. On PostgreSQL each such key gets the indexes that serve the exact SQL the custom
filters (:mod:`core.custom_filters`) and the enrolment criteria emit for its type:

* text: ``UPPER((json_ext ->> 'key')::text)`` as a B-tree with ``text_pattern_ops`` (``iexact``, ``istartswith``)
  and as a trigram GIN index (``icontains``, any length of three letters or more);
* numbers, booleans, dates: ``(json_ext -> 'key')`` as a B-tree (``exact``, ``lt`` … ``gte`` compare ``jsonb``).

Each index also gives the planner statistics of its expression (after ``ANALYZE``), so the row estimates of such
filters are right instead of a fixed guess. Indexes are named ``jx_…`` and owned by this module: a key no longer
searchable loses its indexes at the next synchronisation. Synchronising runs after a schema changes (celery,
after commit) and with ``manage.py index_json_fields``; SQLite keeps scanning (it has no use for them at the
sizes it serves).

Modules say where their schemas are, in ``ready()``::

    register_json_index_source(lambda: [(Individual, "json_ext", IndividualConfig.get_individual_schema())])
"""
import hashlib
import json

from django.db import connections

SEARCHABLE = "searchable"
TEXT, VALUE = "text", "value"
_sources = []


def register_json_index_source(source):
    """``source()`` → iterable of ``(model, json field name, JSON Schema dict or text)``."""
    _sources.append(source)


def searchable_keys(schema):
    """``{key: TEXT | VALUE}`` of the schema's properties marked ``"searchable": true``."""
    if isinstance(schema, str):
        try:
            schema = json.loads(schema or "{}")
        except ValueError:
            return {}
    keys = {}
    for key, definition in ((schema or {}).get("properties") or {}).items() if isinstance(schema, dict) else ():
        if not isinstance(definition, dict) or definition.get(SEARCHABLE) is not True:
            continue
        json_type = definition.get("type", "string")
        if isinstance(json_type, list):
            json_type = next((t for t in json_type if t != "null"), "string")
        is_text = json_type == "string" and definition.get("format") != "date"
        keys[key] = TEXT if is_text else VALUE
    return keys


def _index_name(table, key, kind):
    digest = hashlib.sha1(f"{table}|{key}|{kind}".encode()).hexdigest()[:10]
    return f"jx_{digest}_{kind}_{key}"[:63]


def wanted_indexes(model, json_field, keys, connection):
    """``{index name: CREATE statement}`` for ``keys`` (``{key: kind}``) of ``model.json_field``."""
    q = connection.ops.quote_name
    table, column = model._meta.db_table, model._meta.get_field(json_field).column
    wanted = {}
    for key, kind in sorted(keys.items()):
        literal = "'" + key.replace("'", "''") + "'"
        if kind == TEXT:
            expression = f"UPPER(({q(column)} ->> {literal})::text)"
            for suffix, method in (("txt", f"({expression} text_pattern_ops)"),
                                   ("trgm", f"USING gin ({expression} gin_trgm_ops)")):
                name = _index_name(table, key, suffix)
                wanted[name] = f"CREATE INDEX {{concurrently}} IF NOT EXISTS {q(name)} ON {q(table)} {method}"
        else:
            name = _index_name(table, key, "val")
            wanted[name] = (f"CREATE INDEX {{concurrently}} IF NOT EXISTS {q(name)} ON {q(table)} "
                            f"(({q(column)} -> {literal}))")
    return wanted


def _targets():
    """``{(model, json field): {key: {kinds}}}`` over every registered source (a key may be text in one plan's
    schema and a number in another's: it gets both kinds)."""
    targets = {}
    for source in _sources:
        for model, json_field, schema in source():
            keys = targets.setdefault((model, json_field), {})
            for key, kind in searchable_keys(schema).items():
                keys.setdefault(key, set()).add(kind)
    return targets


def sync_json_indexes(using="default", dry_run=False):
    """Create the missing indexes of searchable keys, drop the ``jx_`` indexes of keys no longer searchable,
    ``ANALYZE`` the tables that changed. Answers ``{"created": [names], "dropped": [names]}`` (what it would do
    with ``dry_run``). Outside a transaction the indexes are built ``CONCURRENTLY`` (writers are not blocked)."""
    connection = connections[using]
    done = {"created": [], "dropped": []}
    if connection.vendor != "postgresql":
        return done
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY"
    with connection.cursor() as cursor:
        if connection.in_atomic_block and not dry_run:
            # inside a transaction that wrote rows, their deferred foreign-key checks would forbid CREATE INDEX:
            # check them now (what COMMIT would do anyway)
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for (model, json_field), keys in _targets().items():
            wanted = {}
            for key, kinds in keys.items():
                for kind in kinds:
                    wanted.update(wanted_indexes(model, json_field, {key: kind}, connection))
            table = model._meta.db_table
            cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND "
                           "tablename = %s AND indexname LIKE %s", [table, "jx\\_%"])
            existing = {row[0] for row in cursor.fetchall()}
            create = [name for name in sorted(wanted) if name not in existing]
            drop = sorted(existing - set(wanted))
            done["created"] += create
            done["dropped"] += drop
            if dry_run:
                continue
            for name in create:
                cursor.execute(wanted[name].format(concurrently=concurrently))
            for name in drop:
                cursor.execute(f"DROP INDEX {concurrently} IF EXISTS {connection.ops.quote_name(name)}")
            if create or drop:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return done
