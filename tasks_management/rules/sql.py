"""``<field>__in_array=[...]``: membership in a list sent as ONE query parameter.

A refresh chunk filters on hundreds of ids per statement; as ``IN (%s, %s, …)`` every id is a separate
parameter that Django prepares and psycopg splits into the statement text, which costs more than the query.
Here the list is one parameter: PostgreSQL ``col = ANY(%s)`` (an array), SQLite ``col IN (SELECT value FROM
json_each(%s))`` (a JSON array). Registered on every field when the rules engine loads (generic: a candidate
for core).
"""
import json

from django.db.models import Field, ForeignObject, Lookup


@Field.register_lookup
class InArray(Lookup):
    lookup_name = "in_array"
    prepare_rhs = False
    can_use_none_as_rhs = False

    def get_prep_lookup(self):
        return [v for v in self.rhs if v is not None]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        if not self.rhs:
            return "1 = 0", []
        if connection.vendor == "postgresql":
            # the ids as text, cast by the server: no per-value conversion on this side
            target = getattr(field, "target_field", None) or field
            db_type = target.rel_db_type(connection) if field.is_relation else field.db_type(connection)
            return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, [str(v) for v in self.rhs]]
        values = [field.get_db_prep_value(v, connection, prepared=False) for v in self.rhs]
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, json.dumps(values, default=str)]


ForeignObject.register_lookup(InArray)  # foreign keys keep their own lookup registry


def upsert_fresh_sql(connection, table):
    """``(sql, placeholders)`` of the freshness upsert: rows (type, id) from one array parameter."""
    q = connection.ops.quote_name
    if connection.vendor == "postgresql":
        source = "SELECT %s, x, %s, %s, false FROM unnest(%s::varchar[]) AS x"
    else:
        source = "SELECT %s, value, %s, %s, 0 FROM json_each(%s) WHERE true"
    return (f"INSERT INTO {q(table)} (contact_type_id, contact_id, calculated_at, expire_at, is_dirty) {source} "
            f"ON CONFLICT (contact_type_id, contact_id) DO UPDATE SET calculated_at = excluded.calculated_at, "
            f"expire_at = excluded.expire_at, is_dirty = excluded.is_dirty "
            f"WHERE {q(table)}.marked_at IS NULL OR {q(table)}.marked_at <= %s")
