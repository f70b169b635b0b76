"""The households of an upload, written set-based (individual.md §6.2, §6.3, §8.4).

An upload's rows name their household in the aggregation column. Once their individuals exist, the rows of a
run are grouped by that value into *payloads* (``{"code", "individuals_data": [{"individual_id", "role",
"recipient_type"}], "id"?}``, the shape of a group data source), and each payload becomes a group with its
memberships:

* :func:`stage` writes the payloads as group data sources that wait for the checker;
* :func:`write_from_sources` (the checker approved them) and :func:`write_from_rows` (no approval needed)
  write the groups, memberships and the groups' ``json_ext``.

Everything happens in SQL over temporary tables, in a number of statements that depends on the number of
*waves* (payloads that name the same household in one approval: each extends what the previous one wrote),
never on the number of rows, on PostgreSQL and SQLite alike. The rules are those of the per-row services:
one HEAD and one PRIMARY recipient per household, the group's own first, else the file's first; a household
without a primary recipient gets its first new member as primary (and as head when it has none); a code
that names a live group extends it (the oldest of that code); the group's ``json_ext`` lists its members and
mirrors its head (``individual.membership.group_json_ext``).
"""
import string

from django.db import connection
from django.db.models import F, IntegerField, JSONField
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from core import bulk
from individual.membership import MEMBER_KEYS
from individual.models import Group, GroupDataSource, GroupIndividual, Individual

GROUP_CODE = "group_code"  # the aggregation column whose value is the group's code (any other: a random code)
CODE_CHARACTERS = string.ascii_uppercase + string.digits
CODE_LENGTH = 8
# recipient_info of the file: 1 primary, 2 secondary (individual.md §8.2)
RECIPIENT_TYPES = {"1": GroupIndividual.RecipientType.PRIMARY, "2": GroupIndividual.RecipientType.SECONDARY}
EXISTING_MEMBER_OFFSET = 1_000_000_000  # a group's own members come before the file's (positions below zero)


def _quote(name):
    return connection.ops.quote_name(name)


def _table(model):
    return _quote(model._meta.db_table)


def _column(model, field):
    return _quote(model._meta.get_field(field).column)


class _SQL:
    """What PostgreSQL and SQLite spell differently (SQLite keeps UUIDs as 32 hex digits, JSON as text)."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"

    def uuid_text(self, expression):
        """The UUID as Python's ``str(uuid)`` writes it."""
        if self.postgres:
            return f"({expression})::text"
        parts = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
        return " || '-' || ".join(f"substr({expression}, {start}, {length})" for start, length in parts)

    def uuid_of_text(self, expression):
        return f"({expression})::uuid" if self.postgres else f"replace({expression}, '-', '')"

    def new_uuid(self):
        compiler = Group.objects.none().query.get_compiler(connection=connection)
        return compiler.compile(bulk.NewUUID())[0]

    def random_code(self):
        random_index = "1 + floor(random() * 36)::int" if self.postgres else "1 + abs(random()) % 36"
        return " || ".join([f"substr('{CODE_CHARACTERS}', {random_index}, 1)"] * CODE_LENGTH)

    def json_object(self, *pairs):
        function = "jsonb_build_object" if self.postgres else "json_object"
        return f"{function}({', '.join(pairs)})"

    def json(self, expression):
        """A JSON value held in a column or built by a function, to nest into another."""
        return expression if self.postgres else f"json({expression})"

    def empty_object(self):
        return "'{}'::jsonb" if self.postgres else "'{}'"

    def object_agg(self, key, value):
        return f"jsonb_object_agg({key}, {value})" if self.postgres else f"json_group_object({key}, {value})"

    def empty_array(self):
        return "'[]'::jsonb" if self.postgres else "json_array()"

    def true(self):
        return "TRUE" if self.postgres else "1"

    def false(self):
        return "FALSE" if self.postgres else "0"

    def null_uuid(self):
        return "CAST(NULL AS uuid)" if self.postgres else "NULL"

    @staticmethod
    def literal(text):
        return "'" + text.replace("'", "''") + "'"

    def temp_table(self, name, select_sql, key=None):
        """Statements that (re)create the temporary table ``name`` from ``select_sql``, indexed on ``key`` (the
        column correlated subqueries look up), with statistics for the planner (PostgreSQL)."""
        drop_on_commit = " ON COMMIT DROP" if self.postgres else ""
        statements = [f"DROP TABLE IF EXISTS {name}", f"CREATE TEMP TABLE {name}{drop_on_commit} AS {select_sql}"]
        if key:
            statements.append(f"CREATE INDEX {name}_{key} ON {name} ({key})")
        if self.postgres:
            statements.append(f"ANALYZE {name}")
        return statements


def _execute(cursor, statements, params=()):
    for statement in statements if isinstance(statements, list) else [statements]:
        cursor.execute(statement, params if "%s" in statement else ())


def _normalised(role, recipient):
    """SQL of the file's role (matched without regard to case) and recipient_info as the membership's values."""
    roles = ", ".join(f"'{value}'" for value in GroupIndividual.Role.values)
    recipients = " ".join(f"WHEN '{key}' THEN '{value}'" for key, value in RECIPIENT_TYPES.items())
    return (f"CASE WHEN upper({role}) IN ({roles}) THEN upper({role}) END",
            f"CASE CAST({recipient} AS TEXT) {recipients} END")


# --------------------------------------------------------------------------------------------------------------
# The rows of a run, by household
# --------------------------------------------------------------------------------------------------------------
def _run_rows(cursor, sql, rows_of_run, column):
    """Temporary ``hh_run(gkey, individual_id, role, recipient, pos)``: the run's rows that name a household,
    in the file's order within each household."""
    query = (rows_of_run.annotate(hh_key=KT(f"json_ext__{column}"), hh_role=KT("json_ext__individual_role"),
                                  hh_recipient=KT("json_ext__recipient_info"),
                                  hh_row=Cast(KT("validations__row"), IntegerField()))
             .filter(hh_key__isnull=False).order_by()
             .values("hh_key", "hh_role", "hh_recipient", "hh_row", hh_id=F("id"), hh_individual=F("individual_id")))
    source_sql, params = query.query.sql_with_params()
    role, recipient = _normalised("src.hh_role", "src.hh_recipient")
    _execute(cursor, sql.temp_table("hh_run", (
        f"SELECT CAST(src.hh_key AS TEXT) AS gkey, src.hh_individual AS individual_id, {role} AS role, "
        f"{recipient} AS recipient, row_number() OVER (PARTITION BY src.hh_key ORDER BY src.hh_row, src.hh_id) "
        f"AS pos FROM ({source_sql}) src")), params)


def _oldest_live_group(code_sql):
    """SQL of the id of the oldest live group of that code (the one a payload of that code extends)."""
    group, alias = _table(Group), "live_group"
    return (f"(SELECT {alias}.{_column(Group, 'id')} FROM {group} {alias} WHERE {alias}.{_column(Group, 'code')} = "
            f"{code_sql} AND NOT {alias}.{_column(Group, 'is_deleted')} ORDER BY {alias}.{_column(Group, 'date_created')}, "
            f"{alias}.{_column(Group, 'id')} LIMIT 1)")


def stage(rows_of_run, column, upload_id, user, now):
    """The run's households as group data sources of the upload, waiting for the checker. Answers how many."""
    sql = _SQL()
    with connection.cursor() as cursor:
        _run_rows(cursor, sql, rows_of_run, column)
        item = sql.json_object("'individual_id'", sql.uuid_text("individual_id"), "'role'", "role",
                               "'recipient_type'", "recipient")
        if sql.postgres:
            grouped = f"SELECT gkey, jsonb_agg({item} ORDER BY pos) AS items FROM hh_run GROUP BY gkey"
        else:  # SQLite 3.40 has no ORDER BY in an aggregate; its window aggregates follow the window's order
            grouped = (f"SELECT DISTINCT gkey, json_group_array(json({item})) OVER (PARTITION BY gkey ORDER BY pos "
                       f"ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS items FROM hh_run")
        existing = sql.uuid_text(_oldest_live_group("g.gkey")) if column == GROUP_CODE else "NULL"
        code = "g.gkey" if column == GROUP_CODE else sql.random_code()
        payload = ["'code'", "p.code", "'individuals_data'", sql.json("p.items")]
        new_payload, extending = sql.json_object(*payload), sql.json_object(*payload, "'id'", "p.existing")
        no_errors = sql.json_object("'validation_errors'", sql.empty_array())
        select = (f"SELECT CASE WHEN p.existing IS NULL THEN {new_payload} ELSE {extending} END, %s, {no_errors} "
                  f"FROM (SELECT g.items AS items, {code} AS code, {existing} AS existing FROM ({grouped}) g) p")
        upload = GroupDataSource._meta.get_field("upload").target_field.get_db_prep_value(upload_id, connection)
        count = bulk.insert_from_sql(GroupDataSource, select, [upload], fields=["json_ext", "upload", "validations"],
                                     user=user, now=now)
        _execute(cursor, "DROP TABLE IF EXISTS hh_run")
    return count


# --------------------------------------------------------------------------------------------------------------
# Payloads → groups and memberships
# --------------------------------------------------------------------------------------------------------------
def write_from_sources(sources, user, now):
    """The households of the approved group data sources ``sources`` (a queryset), oldest first; each source
    is linked to its group (a new group takes its source's id). Answers the groups written or extended."""
    sql = _SQL()
    query = sources.order_by().values(hh_id=F("id"), hh_payload=F("json_ext"), hh_created=F("date_created"))
    source_sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        _execute(cursor, sql.temp_table("hh_source", "SELECT src.hh_id AS source_id, src.hh_payload AS payload, "
                                                     f"src.hh_created AS created FROM ({source_sql}) src"), params)
        _execute(cursor, sql.temp_table("hh_payload", (
            f"SELECT source_id AS payload_id, source_id, CAST(payload ->> 'code' AS TEXT) AS code, "
            f"row_number() OVER (PARTITION BY payload ->> 'code' ORDER BY created, source_id) AS wave, "
            f"source_id AS group_id, {sql.true()} AS is_new FROM hh_source"), key="source_id"))
        role, _ = _normalised("e.value ->> 'role'", "NULL")
        individual = sql.uuid_of_text("e.value ->> 'individual_id'")
        if sql.postgres:
            items = (f"SELECT s.source_id AS payload_id, e.pos AS pos, {individual} AS individual_id, "
                     f" {role} AS role, e.value ->> 'recipient_type' AS recipient FROM hh_source s, "
                     f"jsonb_array_elements(s.payload -> 'individuals_data') WITH ORDINALITY AS e(value, pos)")
        else:
            items = (f"SELECT s.source_id AS payload_id, e.key + 1 AS pos, {individual} AS individual_id, "
                     f"{role} AS role, "
                     f"e.value ->> 'recipient_type' AS recipient FROM hh_source s, "
                     f"json_each(s.payload, '$.individuals_data') AS e")
        _execute(cursor, sql.temp_table("hh_item", items))
        written = _write_payloads(cursor, sql, user, now, need_head=False)
        _execute(cursor, ["DROP TABLE IF EXISTS hh_source", "DROP TABLE IF EXISTS hh_item",
                          "DROP TABLE IF EXISTS hh_payload"])
    return written


def write_from_rows(rows_of_run, column, user, now, need_head=False):
    """The run's households written at once (no approval): one payload per value of ``column``. Answers the
    groups written or extended."""
    sql = _SQL()
    with connection.cursor() as cursor:
        _run_rows(cursor, sql, rows_of_run, column)
        code = "gkey" if column == GROUP_CODE else sql.random_code()
        _execute(cursor, sql.temp_table("hh_payload", (
            f"SELECT {sql.new_uuid()} AS payload_id, {sql.null_uuid()} AS source_id, {code} AS code, gkey, "
            f"1 AS wave, {sql.null_uuid()} AS group_id, {sql.true()} AS is_new "
            f"FROM (SELECT DISTINCT gkey FROM hh_run) k")))
        _execute(cursor, sql.temp_table("hh_item", (
            "SELECT p.payload_id AS payload_id, r.pos AS pos, r.individual_id AS individual_id, r.role AS role, "
            "r.recipient AS recipient FROM hh_run r JOIN hh_payload p ON p.gkey = r.gkey")))
        written = _write_payloads(cursor, sql, user, now, need_head=need_head)
        _execute(cursor, ["DROP TABLE IF EXISTS hh_run", "DROP TABLE IF EXISTS hh_item",
                          "DROP TABLE IF EXISTS hh_payload"])
    return written


def _write_payloads(cursor, sql, user, now, need_head):
    """``hh_payload(payload_id, source_id, code, wave, group_id, is_new)`` and ``hh_item(payload_id, pos,
    individual_id, role, recipient)`` → groups, memberships, json_ext and source links, wave after wave."""
    cursor.execute("SELECT COALESCE(MAX(wave), 0) FROM hh_payload")
    waves = cursor.fetchone()[0]
    for wave in range(1, waves + 1):
        _write_wave(cursor, sql, wave, user, now, need_head)
    return Group.objects.filter(date_updated=now, user_updated=user)


def _write_wave(cursor, sql, wave, user, now, need_head):
    g = {name: _column(Group, name) for name in ("id", "is_deleted")}
    m = {name: _column(GroupIndividual, name) for name in ("id", "group", "individual", "role", "recipient_type",
                                                             "is_deleted", "date_created")}
    i = {name: _column(Individual, name) for name in ("id", "is_deleted", "first_name", "last_name", "json_ext")}
    # a code that names a live group now extends it (the oldest); else the payload makes its own group
    _execute(cursor, f"UPDATE hh_payload SET group_id = {_oldest_live_group('hh_payload.code')} WHERE wave = %s",
             [wave])
    _execute(cursor, "UPDATE hh_payload SET is_new = (group_id IS NULL), "
                     "group_id = COALESCE(group_id, source_id, payload_id) WHERE wave = %s", [wave])
    # the wave's members: the groups' own (before, in the order they joined), then the payloads' live people
    members = (
        f"SELECT p.group_id AS group_id, 0 AS existing, it.pos AS ord, it.individual_id AS individual_id, "
        f"it.role AS role, it.recipient AS recipient FROM hh_payload p JOIN hh_item it ON it.payload_id = p.payload_id "
        f"JOIN {_table(Individual)} ind ON ind.{i['id']} = it.individual_id AND NOT ind.{i['is_deleted']} "
        f"WHERE p.wave = {int(wave)} "
        f"UNION ALL SELECT gi.{m['group']}, 1, row_number() OVER (PARTITION BY gi.{m['group']} ORDER BY "
        f"gi.{m['date_created']}, gi.{m['id']}) - {EXISTING_MEMBER_OFFSET}, gi.{m['individual']}, gi.{m['role']}, "
        f"gi.{m['recipient_type']} FROM {_table(GroupIndividual)} gi WHERE NOT gi.{m['is_deleted']} AND "
        f"gi.{m['group']} IN (SELECT group_id FROM hh_payload WHERE wave = {int(wave)} AND NOT is_new)")
    # one HEAD and one PRIMARY: the first of each (the group's own come first) keeps it; without a primary
    # the first new member is primary, and head too when there is none; with need_head a household still
    # without a head gets its new primary recipient (else its first new member) as head
    firsts = ("SELECT mm.*, "
              "MIN(CASE WHEN role = 'HEAD' THEN ord END) OVER w AS first_head, "
              "MIN(CASE WHEN recipient = 'PRIMARY' THEN ord END) OVER w AS first_primary, "
              "MIN(CASE WHEN existing = 0 THEN ord END) OVER w AS first_new "
              f"FROM ({members}) mm WINDOW w AS (PARTITION BY group_id)")
    need = sql.true() if need_head else sql.false()
    aligned = (
        "SELECT f.group_id, f.existing, f.ord, f.individual_id, "
        "CASE WHEN f.existing = 1 THEN f.role "
        "WHEN f.role = 'HEAD' AND f.ord <> f.first_head THEN NULL "
        "WHEN f.role = 'HEAD' THEN f.role "
        "WHEN f.first_primary IS NULL AND f.first_head IS NULL AND f.ord = f.first_new THEN 'HEAD' "
        f"WHEN {need} AND f.first_head IS NULL AND f.first_primary IS NOT NULL AND f.ord = "
        "COALESCE(CASE WHEN f.first_primary > 0 THEN f.first_primary END, f.first_new) THEN 'HEAD' "
        "ELSE f.role END AS role, "
        "CASE WHEN f.existing = 1 THEN f.recipient "
        "WHEN f.recipient = 'PRIMARY' AND f.ord <> f.first_primary THEN NULL "
        "WHEN f.first_primary IS NULL AND f.ord = f.first_new THEN 'PRIMARY' "
        f"ELSE f.recipient END AS recipient FROM ({firsts}) f")
    _execute(cursor, sql.temp_table("hh_member", aligned))
    _execute(cursor, sql.temp_table("hh_group", _group_json_sql(sql, wave, i), key="group_id"))
    bulk.insert_from_sql(Group, "SELECT group_id, code, json_ext FROM hh_group WHERE is_new",
                         fields=["id", "code", "json_ext"], user=user, now=now)
    bulk.update_with_history(
        Group.objects.filter(id__in=RawSQL("SELECT group_id FROM hh_group WHERE NOT is_new", [])),
        {"json_ext": RawSQL(f"(SELECT h.json_ext FROM hh_group h WHERE h.group_id = {_table(Group)}.{g['id']})", [],
                            output_field=JSONField())}, user=user, now=now)
    bulk.insert_from_sql(GroupIndividual, f"SELECT group_id, individual_id, role, recipient, "
                                          f"{sql.empty_object()} FROM hh_member WHERE existing = 0",
                         fields=["group", "individual", "role", "recipient_type", "json_ext"], user=user, now=now)
    # the sources linked to their groups: a new group has its source's id, an extended one is looked up
    linked = "SELECT source_id FROM hh_payload WHERE wave = %s AND source_id IS NOT NULL AND "
    bulk.update_with_history(GroupDataSource.objects.filter(id__in=RawSQL(linked + "is_new", [wave])),
                             {"group_id": F("id")}, user=user, now=now)
    bulk.update_with_history(
        GroupDataSource.objects.filter(id__in=RawSQL(linked + "NOT is_new", [wave])),
        {"group_id": RawSQL(f"(SELECT p.group_id FROM hh_payload p WHERE p.source_id = "
                            f"{_table(GroupDataSource)}.{_column(GroupDataSource, 'id')})", [])},
        user=user, now=now)
    _execute(cursor, ["DROP TABLE IF EXISTS hh_member", "DROP TABLE IF EXISTS hh_group"])


def _group_json_sql(sql, wave, i):
    """``hh_group(group_id, code, is_new, json_ext)`` of the wave: the members (id → full name), the head and
    the recipients (the last of each, as ``group_json_ext`` reads them) and the head's own attributes."""
    full_name = f"ind.{i['first_name']} || ' ' || ind.{i['last_name']}"
    id_text = sql.uuid_text("hm.individual_id")
    last = {kind: f"MAX(CASE WHEN {test} THEN hm.ord END) OVER (PARTITION BY hm.group_id)"
            for kind, test in (("head", "hm.role = 'HEAD'"), ("primary", "hm.recipient = 'PRIMARY'"),
                               ("secondary", "hm.recipient = 'SECONDARY'"))}
    named = (f"SELECT hm.group_id, hm.ord, {full_name} AS full_name, {id_text} AS id_text, "
             f"{last['head']} AS last_head, {last['primary']} AS last_primary, "
             f"{last['secondary']} AS last_secondary "
             f"FROM hh_member hm JOIN {_table(Individual)} ind ON ind.{i['id']} = hm.individual_id")
    picks = []
    for kind, alias in (("head", "head"), ("primary", "primary_recipient"), ("secondary", "secondary_recipient")):
        picks += [f"MAX(CASE WHEN n.ord = n.last_{kind} THEN n.full_name END) AS {alias}",
                  f"MAX(CASE WHEN n.ord = n.last_{kind} THEN n.id_text END) AS {alias}_id"]
    summary = (f"SELECT n.group_id, {sql.object_agg('n.id_text', 'n.full_name')} AS members, {', '.join(picks)} "
               f"FROM ({named}) n GROUP BY n.group_id")
    keys = ["members", "head", "head_id", "primary_recipient", "primary_recipient_id", "secondary_recipient",
            "secondary_recipient_id"]
    assert tuple(keys) == MEMBER_KEYS
    values = {key: f"a.{key}" for key in keys}
    values["members"] = sql.json(f"COALESCE(a.members, {sql.empty_object()})")
    head_ext = f"COALESCE(hi.{i['json_ext']}, {sql.empty_object()})"
    if sql.postgres:
        own = f"({head_ext}{''.join(f' - {sql.literal(k)}' for k in keys)})"
        pairs = ", ".join(f"{sql.literal(k)}, {v}" for k, v in values.items())
        json_ext = f"{own} || jsonb_build_object({pairs})"
    else:
        own = f"json_remove({head_ext}, {', '.join(sql.literal('$.' + k) for k in keys)})"
        assignments = ", ".join(f"{sql.literal('$.' + k)}, {v}" for k, v in values.items())
        json_ext = f"json_set({own}, {assignments})"
    return (f"SELECT p.group_id AS group_id, p.code AS code, p.is_new AS is_new, {json_ext} AS json_ext "
            f"FROM hh_payload p LEFT JOIN ({summary}) a ON a.group_id = p.group_id "
            f"LEFT JOIN {_table(Individual)} hi ON hi.{i['id']} = {sql.uuid_of_text('a.head_id')} "
            f"WHERE p.wave = {int(wave)}")
