"""List query → CSV/XLSX file, fetched from ``/api/core/fetch_export?export=<name>``.

A module Query lists ``exportable_fields``; for each list field ``x`` a query ``xExport`` is added with
the same arguments plus ``fileFormat``, ``fields`` and ``fieldsColumns``. The export reuses the list's
resolver, so rights and row security are exactly those of the list. Rows are streamed from the
database (``values_list().iterator()``); large sets are written by a celery task.

A large export stores for its worker a declarative description — the export field, its arguments as the
client sent them, the columns, the user — never a pickled query: the worker rebuilds the queryset through
the list's own resolver as that user, so rights, row security and masking are applied again by the code
deployed when it runs.

Columns (``fields``) are an explicit set per list, never any ORM path: the concrete model fields the list's node
type exposes (``json_ext`` and its keys ``json_ext__<key>``, a foreign key as its id ``<fk>`` / ``<fk>__id``), and
the same columns of the relations the declaring Query lists in ``export_relations`` (``individual__first_name``).
Anything else is refused before a file is stored. Each column is then secured like the list shows it:

* every JSON column is masked by the masking policy of the type that owns it (``json_ext`` by the node type's,
  ``group__json_ext`` by the group type's …);
* a field the type hides from the caller (``hidden_fields(info)``) is exported empty;
* a relation's columns follow the relation's own rules: the related type's rights (unless the node type grants
  the relation, ``granted_relations``) and its row security, row by row, in the same SQL statement.
"""
import csv
import io
import json
import uuid
from types import SimpleNamespace

import graphene
from graphene.utils.str_converters import to_camel_case
from graphene_django.registry import get_global_registry
from graphql import GraphQLError
from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Case, F, JSONField, Q, Value, When
from django.utils import timezone

from core.gql.connection import OrderedDjangoFilterConnectionField
from core.tabular import FORMULA_PREFIXES, neutralise  # noqa: F401  (the one formula guard; re-exported)

SUPPORTED_FORMATS = ("csv", "xlsx")


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
    fields = [f for f in fields or [] if f]
    if not fields:
        raise ValueError("Choose at least one field to export")
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
    fields = export_fields_of(export)["fields"]
    columns = export_columns(declaring_query, list_name, list_field, fields, spec["field"])  # rules of today
    return secure_columns(list_queryset(declaring_query, list_name, list_field, info, kwargs), columns, info)


# --- the columns a list exports ---------------------------------------------------------------------------------
JSON_COLUMN = "json_ext"


class ExportColumn:
    """A requested field resolved against the list: the database path it reads (``individual__json_ext`` for the
    key ``individual.json_ext__email``), the type that owns the value, the relation it goes through (None for the
    list's own columns) and the model field."""

    def __init__(self, path, owner, field, relation=None, relation_field=None):
        self.path, self.owner, self.field = path, owner, field
        self.relation, self.relation_field = relation, relation_field


def node_type_of(list_field):
    connection = list_field.type
    while hasattr(connection, "of_type"):
        connection = connection.of_type
    return connection._meta.node


def _exposed_fields(node_type):
    """The concrete model fields a node type exposes, by name."""
    exposed = node_type._meta.fields
    return {f.name: f for f in node_type._meta.model._meta.concrete_fields if f.name in exposed}


def _own_column(node_type, parts, relation=None, relation_field=None):
    """The column ``parts`` of ``node_type``: a field, a key of its ``json_ext``, or a foreign key's id."""
    field = _exposed_fields(node_type).get(parts[0])
    if field is None:
        return None
    prefix = f"{relation}__" if relation else ""
    if len(parts) == 1:
        return ExportColumn(prefix + field.name, node_type, field, relation, relation_field)
    if field.name == JSON_COLUMN and all(parts[1:]):  # json_ext__<key>: the whole JSON is read (then masked)
        return ExportColumn(prefix + field.name, node_type, field, relation, relation_field)
    if field.is_relation and parts[1:] in (["id"], ["pk"]):
        return ExportColumn(prefix + field.attname, node_type, field, relation, relation_field)
    return None


def _relation_column(node_type, relations, parts):
    if len(parts) < 2 or parts[0] not in relations:
        return None
    field = _exposed_fields(node_type).get(parts[0])
    if field is None or not field.is_relation:
        return None
    from core.gql.types import ProtectedType

    target = get_global_registry().get_type_for_model(field.related_model)
    if target is None or not issubclass(target, ProtectedType):
        return None
    column = _own_column(target, parts[1:], relation=field.name, relation_field=field)
    if column is not None:
        column.holder = node_type
    return column


def export_columns(declaring_query, list_name, list_field, fields, export_name):
    """Each requested field resolved to an :class:`ExportColumn` of the list, or a clear error naming it."""
    node_type = node_type_of(list_field)
    relations = declaring_query.__dict__.get("export_relations", {}).get(list_name, ())
    columns = []
    for name in fields:
        parts = _field_path(str(name)).split("__")
        column = _own_column(node_type, parts) or _relation_column(node_type, relations, parts)
        if column is None:
            raise GraphQLError(f"Unknown export field '{name}': not a column of {export_name}")
        columns.append(column)
    return columns


def _replace_column(queryset, path, expression):
    """``values_list(path)`` reads ``expression`` instead of the column (a select annotation of the same name
    takes precedence, see ``core.masking.mask_queryset``); ``F(path)`` inside it still reads what was there."""
    queryset.query.add_annotation(expression, path, select=True)


def secure_columns(queryset, columns, info):
    """The list's rows with each exported column as the caller may read it (masking, hidden fields, the rights
    and row security of relations), all in the one SQL statement that streams the file."""
    from core.masking import masking_policy

    user = getattr(info.context, "user", None)
    queryset = queryset.all()
    done, hidden, visible = set(), {}, {}
    for column in columns:
        if column.path in done:
            continue
        done.add(column.path)
        owner = column.owner
        if owner not in hidden:
            hidden[owner] = set(owner.hidden_fields(info))
        if column.field.name in hidden[owner]:
            _replace_column(queryset, column.path, Value(None, output_field=column.field))
            continue
        if column.field.name == JSON_COLUMN and owner.masking:
            queryset = masking_policy(owner.masking).mask_queryset(queryset, user, json_paths=(column.path,))
        if column.relation is None:
            continue
        if column.relation not in visible:
            visible[column.relation] = _visible_related(column, info, user)
        condition = visible[column.relation]
        if condition is False:
            _replace_column(queryset, column.path, Value(None, output_field=column.field))
        elif condition is not None:
            output = JSONField() if column.field.name == JSON_COLUMN else column.field
            _replace_column(queryset, column.path, Case(When(condition, then=F(column.path)), default=Value(None),
                                                        output_field=output))
    return queryset


def _visible_related(column, info, user):
    """For a relation's columns: False (the caller may not read the related type), None (every related row is
    visible) or a condition on the list's rows (the related row passes its row security)."""
    target = column.owner
    if column.relation not in column.holder.granted_relations and not target.readable(info):
        return False
    if not target.has_row_security():
        return None
    rows = target.restrict(target._meta.model._default_manager.all(), user)
    if not rows.query.where:  # an unrestricted caller
        return None
    return Q(**{f"{column.relation}__in": rows.values("pk")})


def _export_resolver(list_name, list_field, declaring_query):
    def resolve(root, info, file_format="csv", fields=None, fields_columns=None, **kwargs):
        # the module Query that declares the list (not the stitched root) owns its resolver and patches
        from core.gql.mutation import to_external

        queryset = list_queryset(declaring_query, list_name, list_field, info, kwargs)
        secured = export_columns(declaring_query, list_name, list_field, [f for f in fields or [] if f],
                                 info.field_name)
        queryset = secure_columns(queryset, secured, info)
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
    """``exportable_fields``: list fields that get an export; ``export_relations``: ``{list_name: [relation, …]}``
    foreign keys of the node type whose columns the export may include (``individual__first_name``), under the
    related type's rules; ``export_patches``: ``{list_name: [fn(queryset, info) -> queryset]}`` applied in order
    to the final queryset of that export (declared on the module's Query)."""

    exportable_fields: list = []
    export_relations: dict = {}
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
