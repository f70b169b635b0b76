"""Masking of personal attributes kept in ``json_ext`` (used by individual and social_protection).

Configured ``json_ext.<key>[.<key>…]`` paths are blanked — numbers become 0, any other non-null value
``***************``; nulls and absent keys stay — unless the user holds core's ``gql_query_unmasked_data_perms``
(900101). GraphQL types mask in Python (:func:`mask_json`); exports mask in SQL (:func:`mask_queryset`), so the
rows that core's export streams — also when a celery task rebuilds the file from its stored description — never
carry the clear values.
"""
from django.core.exceptions import ValidationError
from django.db import NotSupportedError
from django.db.models import F, Func, JSONField

MASK_STRING = "***************"
JSON_PREFIX = "json_ext."
# a filter on a masked path would answer what the mask hides (``istartswith`` one character at a time)
MASKED_FILTER_REFUSED = "Filtering on the masked attribute '%(attribute)s' is not allowed"


def parse_mask_paths(fields):
    """Configured ``json_ext.…`` fields as key tuples (anything else is not a JSON attribute: ignored)."""
    fields = fields or []
    if isinstance(fields, str):  # a ModuleConfiguration row may hold "json_ext.a, json_ext.b"
        fields = fields.split(",")
    paths = []
    for field in fields:
        field = field.strip() if isinstance(field, str) else ""
        if field.startswith(JSON_PREFIX):
            path = tuple(part for part in field[len(JSON_PREFIX):].split(".") if part)
            if path and path not in paths:
                paths.append(path)
    return paths


def masking_applies(user, enabled):
    """Masking on and the user lacks core right 900101 (anonymous users never see clear data)."""
    if not enabled:
        return False
    if user is None or not getattr(user, "is_authenticated", False):
        return True
    from core.apps import CoreConfig

    return not user.has_perms(CoreConfig.gql_query_unmasked_data_perms)


def masked_value(value):
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return 0
    return MASK_STRING


def mask_json(json_ext, paths):
    """A masked copy of ``json_ext`` (the stored dict is left alone)."""
    if not paths or not isinstance(json_ext, dict):
        return json_ext
    result = dict(json_ext)
    for path in paths:
        container = result
        for key in path[:-1]:
            child = container.get(key)
            if not isinstance(child, dict):
                container = None
                break
            container[key] = container = dict(child)
        if container is not None and path[-1] in container:
            container[path[-1]] = masked_value(container[path[-1]])
    return result


def mask_for(user, json_ext, fields, enabled):
    if not isinstance(json_ext, dict) or not masking_applies(user, enabled):
        return json_ext
    return mask_json(json_ext, parse_mask_paths(fields))


class MaskedJSON(Func):
    """SQL: the JSON expression with the given key paths replaced by the mask, only where they exist."""

    output_field = JSONField()

    def __init__(self, expression, paths, **extra):
        self.paths = tuple(tuple(p) for p in paths)
        super().__init__(expression, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        column, column_params = compiler.compile(self.source_expressions[0])
        sql, params = column, list(column_params)
        for path in self.paths:
            json_path = "$." + ".".join('"%s"' % key.replace('"', '\\"') for key in path)
            # json_replace only touches existing keys; json_type is NULL for a missing one
            sql = (f"json_replace({sql}, %s, CASE json_type({column}, %s) WHEN 'integer' THEN 0 "
                   f"WHEN 'real' THEN 0 WHEN 'null' THEN json('null') ELSE %s END)")
            params = [*params, json_path, *column_params, json_path, MASK_STRING]
        return sql, params

    def as_postgresql(self, compiler, connection, **extra_context):
        column, column_params = compiler.compile(self.source_expressions[0])
        sql, params = column, list(column_params)
        for path in self.paths:
            # create_missing=false: absent keys stay absent
            sql = (f"jsonb_set({sql}, %s::text[], CASE jsonb_typeof({column} #> %s::text[]) "
                   f"WHEN 'number' THEN '0'::jsonb WHEN 'null' THEN 'null'::jsonb ELSE to_jsonb(%s::text) END, "
                   f"false)")
            params = [*params, list(path), *column_params, list(path), MASK_STRING]
        # jsonb_set only works on objects: other JSON values (and NULL) pass unchanged
        return (f"CASE WHEN jsonb_typeof({column}) = 'object' THEN {sql} ELSE {column} END",
                [*column_params, *params, *column_params])

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"Masking is not implemented for the {connection.vendor} database")


def mask_queryset(queryset, user, fields, enabled, json_paths=("json_ext",)):
    """``queryset`` whose JSON columns ``json_paths`` (as read by ``values_list``) are masked for ``user``.

    Core's export reads ``values_list("json_ext", "individual__json_ext", …)``; a select annotation of the same
    name takes precedence over the column there. ``QuerySet.annotate`` refuses a model field's name, so the
    annotation goes on the cloned query directly (an internal Django API, covered by tests on SQLite and
    PostgreSQL). Apply it last: a later ``filter(json_ext__…)`` would see the masked value.
    """
    paths = parse_mask_paths(fields)
    if not paths or not masking_applies(user, enabled):
        return queryset
    queryset = queryset.all()
    for json_path in json_paths:
        queryset.query.add_annotation(MaskedJSON(F(json_path), paths), json_path, select=True)
    return queryset


# --- the registry: each module declares its policies in AppConfig.ready() ----------------------------------
class MaskingPolicy:
    """Which ``json_ext`` paths of a kind of record are masked, and when (settings read at call time)."""

    def __init__(self, name, *, enabled, fields):
        self.name, self.enabled, self.fields = name, enabled, fields

    def applies(self, user):
        from core.module_config import config_value
        from core.request_memo import memoized

        key = ("masking", self.name, getattr(user, "pk", None))
        return memoized(key, lambda: masking_applies(user, config_value(self.enabled)))

    def paths(self):
        from core.module_config import config_value

        return parse_mask_paths(config_value(self.fields))

    def mask(self, user, json_ext):
        if not isinstance(json_ext, dict) or not self.applies(user):
            return json_ext
        return mask_json(json_ext, self.paths())

    def refuse_filter(self, user, keys):
        """Raise a business ``ValidationError`` when a filter on the ``json_ext`` key path ``keys`` (``("address",
        "city")``) reaches an attribute this policy masks for ``user``: the path itself, a key below it, or an
        object holding it. Callers who see clear values (900101) or a disabled policy filter freely."""
        keys = tuple(keys)
        if not keys or not self.applies(user):
            return
        for path in self.paths():
            common = min(len(path), len(keys))
            if path[:common] == keys[:common]:
                raise ValidationError(MASKED_FILTER_REFUSED % {"attribute": ".".join(path)})

    def mask_queryset(self, queryset, user, json_paths=("json_ext",)):
        from core.module_config import config_value

        return mask_queryset(queryset, user, config_value(self.fields), config_value(self.enabled), json_paths)


_POLICIES: dict[str, MaskingPolicy] = {}


def register_masking(name, *, enabled, fields):
    """Declare a policy: ``enabled`` and ``fields`` are settings (``"<app>.<config key>"`` or callables)."""
    _POLICIES[name] = policy = MaskingPolicy(name, enabled=enabled, fields=fields)
    return policy


def masking_policy(name):
    try:
        return _POLICIES[name]
    except KeyError:
        raise LookupError(f"No masking policy {name!r} is registered (register it in the module's ready())")
