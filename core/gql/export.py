"""List query → CSV/XLSX file, fetched from ``/api/core/fetch_export?export=<name>``.

A module Query lists ``exportable_fields``; for each list field ``x`` a query ``xExport`` is added with
the same arguments plus ``fileFormat``, ``fields`` and ``fieldsColumns``. The export reuses the list's
resolver, so rights and row security are exactly those of the list. Rows are streamed from the
database (``values_list().iterator()``); large sets are written by a celery task.

A large export stores for its worker a declarative description — the export field, its arguments as the
client sent them, the columns, the user — never a pickled query: the worker rebuilds the queryset through
the list's own resolver as that user, so rights, row security and masking are applied again by the code
deployed when it runs.
"""
import csv
import io
import json
import uuid
from types import SimpleNamespace

import graphene
from graphene.utils.str_converters import to_camel_case
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from core.gql.connection import OrderedDjangoFilterConnectionField

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SUPPORTED_FORMATS = ("csv", "xlsx")


def neutralise(value):
    """Spreadsheet formula injection guard: a cell that could be read as a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, default=str)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def _field_path(field):
    return field.replace(".", "__")


def _split_json_fields(fields):
    """``json_ext__email`` reaches a JSON key; ``json_ext`` alone expands into one column per key."""
    plain, json_keys, expand = [], [], []
    for field in fields:
        path = _field_path(field)
        if "json_ext__" in path:
            base, key = path.split("json_ext__", 1)
            json_keys.append((field, base + "json_ext", key))
        elif path == "json_ext" or path.endswith("__json_ext"):
            expand.append((field, path))
        else:
            plain.append((field, path))
    return plain, json_keys, expand


def iter_export_rows(queryset, fields, columns):
    """Yield the header then each row: plain columns, JSON keys, expanded json_ext keys."""
    plain, json_keys, expand = _split_json_fields(fields)
    db_paths = [p for _, p in plain] + sorted({b for _, b, _ in json_keys} | {p for _, p in expand})
    index = {p: i for i, p in enumerate(db_paths)}
    expand_keys = {}
    if expand:  # first pass: collect the JSON keys only
        for values in queryset.values_list(*[p for _, p in expand]).iterator(chunk_size=2000):
            for (_, path), value in zip(expand, values):
                if isinstance(value, dict):
                    expand_keys.setdefault(path, {}).update(dict.fromkeys(value.keys()))
    def title(field):
        # the frontend keys fieldsColumns either as sent (individual.first_name) or as a path (individual__first_name)
        return columns.get(field, columns.get(_field_path(field), field))

    header = [title(f) for f, _ in plain] + [title(f) for f, _, _ in json_keys]
    for field, path in expand:
        header += [columns.get(f"{field}__{k}", columns.get(k, k)) for k in expand_keys.get(path, {})]
    yield header
    for values in queryset.values_list(*db_paths).iterator(chunk_size=2000):
        row = [values[index[p]] for _, p in plain]
        for _, base, key in json_keys:
            data = values[index[base]] or {}
            row.append(data.get(key) if isinstance(data, dict) else None)
        for _, path in expand:
            data = values[index[path]] or {}
            row += [data.get(k) if isinstance(data, dict) else None for k in expand_keys.get(path, {})]
        yield row


def render_export(queryset, fields, columns, file_format):
    rows = iter_export_rows(queryset, fields, columns)
    if file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("export")
        for row in rows:
            sheet.append([neutralise(v) for v in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return buffer.getvalue().encode("utf-8")


def build_export_file(export, queryset):
    fields = export_fields_of(export)
    content = render_export(queryset, fields["fields"], fields["columns"], export.file_format)
    export.content.save(export.name, ContentFile(content), save=True)
    return export


def export_fields_of(export):
    return json.loads(export.sql_query or "{}").get("spec", {"fields": [], "columns": {}})


def create_export(user, queryset, fields, columns, file_format, model_name, source):
    """``source``: ``{"field": <export field>, "arguments": <its arguments as the client sent them>}``, how a
    worker rebuilds ``queryset`` for a large export."""
    from core.models import ExportableQueryModel
    from core.scheduling import enqueue_on_commit
    from core.tasks import build_export

    file_format = (file_format or "csv").lower()
    if file_format not in SUPPORTED_FORMATS:
        raise ValueError(f"Unsupported export format {file_format}; use csv or xlsx")
    if not fields:
        raise ValueError("Choose at least one field to export")
    fields = [f for f in fields if f]
    _validate_fields(queryset.model, fields)
    name = f"{uuid.uuid4()}.{file_format}"
    export = ExportableQueryModel.objects.create(
        name=name, model=model_name, user=user, file_format=file_format,
        sql_query=json.dumps({"spec": {"fields": fields, "columns": columns or {}}, **source}),
    )
    threshold = getattr(settings, "EXPORT_ASYNC_THRESHOLD", 10000)
    if queryset.count() > threshold:
        enqueue_on_commit(build_export, str(export.id))
    else:
        build_export_file(export, queryset)
    return export


# export field (camelCase, as in the schema) → (declaring module Query, list name, list field)
EXPORTABLE_LISTS = {}


def list_queryset(declaring_query, list_name, list_field, info, kwargs):
    """The list's rows exactly as the list answers them: its resolver (rights), filters, order, then the
    declaring Query's ``export_patches`` (e.g. masking for ``info.context.user``), applied last."""
    resolver = getattr(declaring_query, f"resolve_{list_name}", None)
    iterable = resolver(None, info, **kwargs) if resolver else None
    if iterable is None:
        iterable = list_field.model._default_manager.all()
    connection = list_field.type
    while hasattr(connection, "of_type"):
        connection = connection.of_type
    queryset = OrderedDjangoFilterConnectionField.resolve_queryset.__func__(
        OrderedDjangoFilterConnectionField, connection, iterable, info, dict(kwargs),
        list_field.filtering_args, list_field.filterset_class,
    )
    for patch in declaring_query.__dict__.get("export_patches", {}).get(list_name, []):
        queryset = patch(queryset, info)
    return queryset


def queryset_of(export):
    """A stored export's rows, rebuilt in a worker through the list's resolver, as the export's user."""
    from graphql.utilities import coerce_input_value

    from openimis_be.schema import schema

    spec = json.loads(export.sql_query)
    declaring_query, list_name, list_field = EXPORTABLE_LISTS[spec["field"]]
    field = schema.graphql_schema.query_type.fields[spec["field"]]
    kwargs = {}
    for name, value in spec.get("arguments", {}).items():
        argument = field.args[name]
        kwargs[argument.out_name or name] = coerce_input_value(value, argument.type)
    request = SimpleNamespace(user=export.user, META={}, COOKIES={}, GET={}, POST={})
    info = SimpleNamespace(context=request, field_nodes=[], fragments={}, variable_values={})
    return list_queryset(declaring_query, list_name, list_field, info, kwargs)


def _validate_fields(model, fields):
    plain, json_keys, expand = _split_json_fields(fields)
    queryset = model.objects.all()
    try:
        paths = [p for _, p in plain] + [b for _, b, _ in json_keys] + [p for _, p in expand]
        queryset.values_list(*paths).query.get_compiler("default")
        str(queryset.values_list(*paths).query)
    except Exception as exc:
        raise ValueError(f"Unknown export field: {exc}")


def _export_resolver(list_name, list_field, declaring_query):
    def resolve(root, info, file_format="csv", fields=None, fields_columns=None, **kwargs):
        # the module Query that declares the list (not the stitched root) owns its resolver and patches
        from core.gql.mutation import to_external

        queryset = list_queryset(declaring_query, list_name, list_field, info, kwargs)
        columns = json.loads(fields_columns) if fields_columns else {}
        by_python_name = {argument.out_name or name: (name, argument)
                          for name, argument in info.parent_type.fields[info.field_name].args.items()}
        sent = {by_python_name[key][0]: to_external(value, by_python_name[key][1].type)
                for key, value in kwargs.items() if key in by_python_name}
        export = create_export(info.context.user, queryset, fields or [], columns, file_format,
                               list_field.model.__name__, source={"field": info.field_name, "arguments": sent})
        return export.name

    return resolve


class ExportableQueryMixin:
    """``exportable_fields``: list fields that get an export; ``export_patches``: ``{list_name: [fn(queryset,
    info) -> queryset]}`` applied in order to the final queryset of that export (declared on the module's Query)."""

    exportable_fields: list = []
    export_patches: dict = {}

    def __init_subclass__(cls, **kwargs):
        for name in cls.__dict__.get("exportable_fields", []):
            list_field = cls.__dict__[name]
            args = {k: v for k, v in list_field.args.items() if k not in ("first", "last", "before", "after", "offset")}
            export_name = f"{name}_export"
            setattr(cls, export_name, graphene.Field(
                graphene.String,
                args={**args, "file_format": graphene.String(), "fields": graphene.List(graphene.String),
                      "fields_columns": graphene.String()},
            ))
            setattr(cls, f"resolve_{export_name}", staticmethod(_export_resolver(name, list_field, cls)))
            EXPORTABLE_LISTS[to_camel_case(export_name)] = (cls, name, list_field)
        super().__init_subclass__(**kwargs)
