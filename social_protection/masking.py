"""Masking of beneficiary attributes (spec §6: ``social_protection_masking_enabled``, ``beneficiary_mask_fields``,
``group_beneficiary_mask_fields``).

The listed ``json_ext.<key>`` paths are blanked in list results and exports — strings (and any other
non-numeric value) become ``***************``, numbers 0, nulls and absent keys stay as they are — unless the
user holds core's ``gql_query_unmasked_data_perms`` (900101). GraphQL types mask in Python
(:func:`mask_json`); exports mask in SQL (:func:`mask_queryset`), so the rows streamed by core's export —
also when it is built later by a celery task from the pickled query — never carry the clear values.
"""
from django.db import NotSupportedError
from django.db.models import F, Func, JSONField

from social_protection.apps import SocialProtectionConfig

MASK_STRING = "***************"
JSON_PREFIX = "json_ext."


def _config_fields(group):
    fields = (SocialProtectionConfig.group_beneficiary_mask_fields if group
              else SocialProtectionConfig.beneficiary_mask_fields)
    if isinstance(fields, str):  # a ModuleConfiguration row may hold "json_ext.a, json_ext.b"
        fields = fields.split(",")
    return [f.strip() for f in (fields or []) if isinstance(f, str) and f.strip()]


def mask_paths(group=False):
    """Configured ``json_ext.<a>[.<b>…]`` fields as key tuples (other fields are not JSON attributes: ignored)."""
    paths = []
    for field in _config_fields(group):
        if field.startswith(JSON_PREFIX) and len(field) > len(JSON_PREFIX):
            path = tuple(part for part in field[len(JSON_PREFIX):].split(".") if part)
            if path and path not in paths:
                paths.append(path)
    return paths


def masking_applies(user):
    """True when data must be masked for ``user``: masking on and no core right 900101."""
    if not SocialProtectionConfig.social_protection_masking_enabled:
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
    """A masked copy of ``json_ext`` (the stored dict is never modified)."""
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
            container[key] = child = dict(child)
            container = child
        if container is not None and path[-1] in container:
            container[path[-1]] = masked_value(container[path[-1]])
    return result


def mask_for(user, json_ext, group=False):
    if not masking_applies(user):
        return json_ext
    return mask_json(json_ext, mask_paths(group))


class MaskedJSON(Func):
    """SQL: ``json_ext`` with the given key paths replaced by the mask (only where they exist)."""

    output_field = JSONField()

    def __init__(self, expression, paths, **extra):
        self.paths = tuple(tuple(p) for p in paths)
        super().__init__(expression, **extra)

    def _column(self, compiler):
        return compiler.compile(self.source_expressions[0])

    def as_sqlite(self, compiler, connection, **extra_context):
        column, column_params = self._column(compiler)
        sql, params = column, list(column_params)
        for path in self.paths:
            json_path = "$." + ".".join('"%s"' % key.replace('"', '\\"') for key in path)
            sql = (f"json_replace({sql}, %s, CASE json_type({column}, %s) WHEN 'integer' THEN 0 WHEN 'real' THEN 0 "
                   f"WHEN 'null' THEN json('null') ELSE %s END)")
            params = [*params, json_path, *column_params, json_path, MASK_STRING]
        return sql, params

    def as_postgresql(self, compiler, connection, **extra_context):
        column, column_params = self._column(compiler)
        sql, params = column, list(column_params)
        for path in self.paths:
            sql = (f"jsonb_set({sql}, %s::text[], CASE jsonb_typeof({column} #> %s::text[]) "
                   f"WHEN 'number' THEN '0'::jsonb WHEN 'null' THEN 'null'::jsonb ELSE to_jsonb(%s::text) END, false)")
            params = [*params, list(path), *column_params, list(path), MASK_STRING]
        # jsonb_set is only defined on objects: leave other JSON values (and NULL) untouched
        return (f"CASE WHEN jsonb_typeof({column}) = 'object' THEN {sql} ELSE {column} END",
                [*column_params, *params, *column_params])

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"Masking is not implemented for the {connection.vendor} database")


def mask_queryset(queryset, user, group=False):
    """``queryset`` whose ``json_ext`` (as read by ``values_list``) is masked for ``user``.

    Core's export reads ``values_list("json_ext", …)``; a select annotation of the same name takes precedence
    over the column there. ``QuerySet.annotate`` refuses a name that is a model field, so the annotation is
    added on the (cloned) query. Apply it last: later ``filter(json_ext__…)`` would see the masked value.
    """
    paths = mask_paths(group)
    if not paths or not masking_applies(user):
        return queryset
    queryset = queryset.all()
    queryset.query.add_annotation(MaskedJSON(F("json_ext"), paths), "json_ext", select=True)
    return queryset
