"""Relay connections in the openIMIS dialect: totalCount, orderBy, auth check, N+1-free loading.

Counting: a forward page (``first``/``after``) is read as ``first + 1`` rows, so it needs no count; ``totalCount``
is computed only when the query selects it and the page does not end the list: on PostgreSQL the planner's
estimate when it is above ``LIST_COUNT_EXACT_LIMIT`` (flagged by ``totalCountExact: false``), else an exact count
that stops at the limit (SQLite always counts exactly). Pages after a cursor seek by the sort key where the order
allows it (``core.gql.cursors``), so deep pages cost what the first does.
"""
import json
import re

import graphene
from django.core.exceptions import PermissionDenied
from django.db import models
from graphene.utils.str_converters import to_snake_case
from graphene_django.filter import DjangoFilterConnectionField
from graphene_django.utils import maybe_queryset
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode

from core.gql import cursors


class ExtendedConnection(graphene.relay.Connection):
    class Meta:
        abstract = True

    total_count = graphene.Int()
    total_count_exact = graphene.Boolean(description="False when totalCount is the database's estimate")
    edge_count = graphene.Int()

    def _counted(self):
        if getattr(self, "_count", None) is None:
            if self.length is not None:  # counted while paging (last:, offset:) or by a custom resolver
                self._count = (self.length, True)
            else:
                self._count = count_rows(self.iterable)
        return self._count

    def resolve_total_count(self, info, **kwargs):
        return self._counted()[0]

    def resolve_total_count_exact(self, info, **kwargs):
        return self._counted()[1]

    def resolve_edges(self, info, **kwargs):
        # the page is known before any of its nodes' fields resolve: let the node type batch-load for it
        prime = getattr(self._meta.node, "prime_page", None)
        if prime is not None and self.edges:
            prime([edge.node for edge in self.edges], info)
        return self.edges

    def resolve_edge_count(self, info, **kwargs):
        return len(self.edges)


def count_rows(queryset):
    """``(count, exact)`` of a list's rows. On PostgreSQL, for a table larger than ``LIST_COUNT_EXACT_LIMIT``, the
    planner's estimate comes first (an ``EXPLAIN``, no rows read): above the limit it is the answer, flagged
    inexact; below it the rows are counted, in one statement that stops at the limit (should the estimate have been
    low). SQLite always counts."""
    from django.conf import settings

    if not hasattr(queryset, "query"):
        return len(queryset), True
    limit = getattr(settings, "LIST_COUNT_EXACT_LIMIT", 10_000)
    if not limit or _vendor(queryset) != "postgresql":
        return queryset.count(), True
    queryset = queryset.order_by()
    estimate = None
    if _table_rows(queryset) > limit:  # a smaller table is counted at once: no filter makes it larger
        estimate = _estimate(queryset)
        if estimate is not None and estimate > limit:
            return estimate, False
    capped = queryset[: limit + 1].count()
    if capped <= limit:
        return capped, True
    return max(estimate or 0, capped), False


_TABLE_ROWS = {}
_TABLE_ROWS_TTL = 60.0


def _table_rows(queryset):
    """The planner's row count of the list's table (``pg_class.reltuples``, kept by autovacuum), read once a
    minute per process; 0 for a table never analysed (the capped count bounds its cost anyway)."""
    import time

    from django.db import connections

    table = queryset.model._meta.db_table
    key = (queryset.db, table)
    known = _TABLE_ROWS.get(key)
    now = time.monotonic()
    if known is None or known[1] < now:
        with connections[queryset.db].cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
            row = cursor.fetchone()
        known = (max(int(row[0]) if row and row[0] is not None else 0, 0), now + _TABLE_ROWS_TTL)
        _TABLE_ROWS[key] = known
    return known[0]


def _estimate(queryset):
    try:
        plan = json.loads(queryset.explain(format="json"))
        return int(plan[0]["Plan"]["Plan Rows"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _vendor(queryset):
    from django.db import connections

    return connections[queryset.db].vendor


_ORDER_CLEAN = re.compile(r"[^\w\-+,]")


def order_terms(order_by):
    if not order_by:
        return []
    if isinstance(order_by, str):
        order_by = [order_by]
    terms = []
    for raw in order_by:
        for part in _ORDER_CLEAN.sub("", str(raw)).split(","):
            if not part:
                continue
            if part == "?":
                terms.append("?")
                continue
            sign = "-" if part.startswith("-") else ""
            name = part.lstrip("+-")
            terms.append(sign + "__".join(to_snake_case(p) for p in name.split("__")))
    return terms


def apply_order(queryset, order_by, allowed=None):
    """``queryset`` ordered by the client's ``orderBy`` terms (plus the primary key, for stable pages).

    ``allowed`` maps each orderable path to the ORM path it orders by (see :func:`orderable_paths`); a term
    outside it is refused (ValueError, a client error), so no column the list does not expose (``password``,
    a masked JSON attribute, a relation's hidden fields) can serve as an ordering oracle. Without ``allowed``
    (server code) any model path goes. Annotations the resolver added are always orderable."""
    terms = order_terms(order_by)
    model = queryset.model
    valid = []
    for term in terms:
        if term == "?":
            valid.append("?")
            continue
        sign, path = ("-" if term.startswith("-") else ""), term.lstrip("-")
        if path in queryset.query.annotations:
            valid.append(term)
        elif allowed is not None and path in allowed:
            valid.append(sign + allowed[path])
        elif allowed is None and _is_model_path(model, path):
            valid.append(term)
        else:
            raise ValueError(f"Cannot order by '{term}': orderBy accepts the list's own fields and its filter "
                             "fields only")
    pk = model._meta.pk.name
    if valid:
        if not any(t.lstrip("-") in (pk, "id") for t in valid) and "?" not in valid:
            # a total order keeps pages stable; in the terms' direction when they share one, so that deep pages
            # can seek by key (core.gql.cursors)
            valid.append(f"-{pk}" if all(t.startswith("-") for t in valid) else pk)
        return queryset.order_by(*valid)
    if not queryset.ordered:
        return queryset.order_by(pk)
    return queryset


def _is_model_path(model, path):
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part)
        except Exception:
            return False
        if field.is_relation and field.related_model is not None:
            model = field.related_model
    return True


def _orderable_target(model, path):
    """The ORM path ordering by ``path`` uses, or None: each step a forward single-valued relation, the last a
    concrete column that is not JSON (a foreign key orders by its key column, never by the target's Meta.ordering)."""
    parts = path.split("__")
    for index, part in enumerate(parts):
        try:
            field = model._meta.get_field(part)
        except Exception:
            return None
        if not getattr(field, "concrete", False) or isinstance(field, models.JSONField):
            return None  # reverse relations, generic relations, JSON attributes
        if field.many_to_many or field.one_to_many:
            return None
        if index == len(parts) - 1:
            if field.is_relation:
                return "__".join([*parts[:-1], field.attname])
            return path
        if not field.is_relation or field.related_model is None:
            return None
        model = field.related_model
    return None


_ORDERABLE = {}


def orderable_paths(node_type, filterset_class=None):
    """``{path: ORM path}`` a list of ``node_type`` may be ordered by: the type's own exposed fields and the
    paths of its filter set (what the caller may already filter on), when they name an orderable column."""
    key = (node_type, filterset_class)
    if key not in _ORDERABLE:
        model = node_type._meta.model
        names = set(getattr(node_type._meta, "fields", {}) or {}) | {"id", model._meta.pk.name}
        filters = getattr(filterset_class, "base_filters", None) or {}
        names |= {getattr(f, "field_name", None) for f in filters.values()} - {None}
        allowed = {}
        for name in names:
            target = _orderable_target(model, name)
            if target is not None:
                allowed[name] = target
        _ORDERABLE[key] = allowed
    return _ORDERABLE[key]


# --- selection-driven select_related / prefetch_related -----------------------------------------
# As graphql-core collects fields, the walkers below merge the fields of one level and expand each fragment once
# per level: a document spreading the same fragments many times (2^n paths) costs linear time, not exponential.
def _selections(nodes, info):
    """The field nodes directly selected by ``nodes`` (a node or a list), in document order, each fragment
    expanded once."""
    if not isinstance(nodes, (list, tuple)):
        nodes = [nodes]
    visited, found = set(), []
    stack = [iter([sel for node in nodes if node is not None and node.selection_set is not None
                   for sel in node.selection_set.selections])]
    while stack:
        sel = next(stack[-1], None)
        if sel is None:
            stack.pop()
        elif isinstance(sel, FieldNode):
            found.append(sel)
        elif isinstance(sel, InlineFragmentNode):
            stack.append(iter(sel.selection_set.selections))
        elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in visited:
            visited.add(sel.name.value)
            fragment = info.fragments.get(sel.name.value)
            if fragment is not None:
                stack.append(iter(fragment.selection_set.selections))
    return found


def _grouped(nodes, info):
    """``{name: [field nodes]}`` of the fields ``nodes`` select, in document order."""
    groups = {}
    for sel in _selections(nodes, info):
        groups.setdefault(sel.name.value, []).append(sel)
    return groups


def selected(info, name):
    """True when a field called ``name`` appears anywhere in the selection set of this query field."""
    level = list(info.field_nodes)
    for _ in range(64):  # deeper than any document the depth limit lets through
        if not level:
            return False
        groups = _grouped(level, info)
        if name in groups:
            return True
        level = [sel for sels in groups.values() for sel in sels if sel.selection_set is not None]
    return False


def _children(nodes, name, info):
    return _grouped(nodes, info).get(name, [])


def _child(node, name, info):
    found = _children(node, name, info)
    return found or None


def _relation_map(model):
    relations = {}
    for field in model._meta.get_fields():
        if not field.is_relation or field.related_model is None or getattr(field, "fk_field", None):
            continue
        accessor = field.name if field.concrete else field.get_accessor_name()
        if accessor:
            relations[accessor] = (accessor, field)
            relations.setdefault(field.name, (accessor, field))
    return relations


def _walk(model, nodes, info, prefix, in_prefetch, select, prefetch, depth=0):
    if depth > 4 or not nodes:
        return
    relations = _relation_map(model)
    for name, sels in _grouped(nodes, info).items():
        found = relations.get(to_snake_case(name))
        if found is None:
            continue
        accessor, field = found
        path = prefix + accessor
        if (field.many_to_one or field.one_to_one) and not in_prefetch:
            select.add(path)
            _walk(field.related_model, sels, info, path + "__", False, select, prefetch, depth + 1)
        else:
            # one extra query per relation for the whole page, never one per row
            prefetch.add(path)
            targets = sels
            edges = _children(sels, "edges", info)
            if edges:
                targets = _children(edges, "node", info)
            _walk(field.related_model, targets, info, path + "__", True, select, prefetch, depth + 1)


def optimize_queryset(queryset, info, node_path=("edges", "node")):
    """Load every related object the query selects in a bounded number of SQL queries."""
    try:
        node = info.field_nodes[0]
        for step in node_path:
            node = _child(node, step, info)
            if node is None:
                return queryset
        select, prefetch = set(), set()
        _walk(queryset.model, node, info, "", False, select, prefetch)
        if select:
            queryset = queryset.select_related(*sorted(select))
        # a resolver's own Prefetch (filtered, ordered) for the same relation wins over the plain one
        already = {getattr(lookup, "prefetch_through", lookup) for lookup in queryset._prefetch_related_lookups}
        prefetch = {path for path in prefetch if path not in already}
        if prefetch:
            queryset = queryset.prefetch_related(*sorted(prefetch))
    except Exception:  # the optimiser is an accelerator: never fail a query because of it
        return queryset
    return queryset


class OrderedDjangoFilterConnectionField(DjangoFilterConnectionField):
    """List field: refuses anonymous callers, filters, orders (``orderBy``), and avoids N+1."""

    def __init__(self, type_, *args, **kwargs):
        kwargs.setdefault("orderBy", graphene.List(of_type=graphene.String))
        super().__init__(type_, *args, **kwargs)

    @classmethod
    def resolve_queryset(cls, connection, iterable, info, args, filtering_args, filterset_class):
        user = getattr(info.context, "user", None)
        if user is None or not user.is_authenticated:
            raise PermissionDenied("unauthorized")
        queryset = super().resolve_queryset(connection, iterable, info, args, filtering_args, filterset_class)
        node_type = connection._meta.node
        allowed = orderable_paths(node_type, filterset_class)
        hidden = set(getattr(node_type, "hidden_fields", lambda _info: ())(info) or ())
        if hidden:  # a column this caller reads as null is no ordering oracle either
            allowed = {path: target for path, target in allowed.items() if path.split("__")[0] not in hidden}
        queryset = apply_order(queryset, args.get("orderBy"), allowed=allowed)
        return optimize_queryset(queryset, info)

    @classmethod
    def resolve_connection(cls, connection, args, iterable, max_limit=None):
        iterable = maybe_queryset(iterable)
        order = cursors.KeysetOrder.of(iterable) if hasattr(iterable, "query") else None
        if args.get("last") is not None and order is not None:
            before, key = cursors.decode(args.get("before"), order)
            if key is not None and args.get("first") is None and not args.get("after") and not args.get("offset"):
                return cls._page_before(connection, args, iterable, order, before, key, max_limit)
        if args.get("offset") or args.get("last") is not None or not hasattr(iterable, "query"):
            # sliced from the count, as relay does (our cursors reduced to their positions for it)
            args = {**args, **{name: cursors.positional(args.get(name)) for name in ("before", "after")}}
            return super().resolve_connection(connection, args, iterable, max_limit=max_limit)
        # no COUNT(*) to read a page (a full scan on a large registry); totalCount counts only when selected
        return cls._page_after(connection, args, iterable, order, max_limit)

    @staticmethod
    def _page_after(connection, args, queryset, order, max_limit):
        """A forward page read as ``first + 1`` rows: the extra row says whether a next page exists, so no count
        is needed. After a keyed cursor the page seeks (``WHERE key > …``), else it skips by position."""
        after, key = cursors.decode(args.get("after"), order)
        start = 0 if after is None else after + 1
        first = args.get("first")
        if first is None:
            first = max_limit
        rows = order.seek(queryset, key) if key is not None else queryset[start:] if start else queryset
        if first is None:
            rows, has_next = list(rows), False
        else:
            rows = list(rows[:first + 1])
            has_next = len(rows) > first
            rows = rows[:first]
        page = _page(connection, queryset, order, rows, start, has_previous=False, has_next=has_next)
        if not has_next and (start == 0 or key is None):
            page.length = start + len(rows)  # the list ends on this page: its length is known without counting
        return page

    @staticmethod
    def _page_before(connection, args, queryset, order, before, key, max_limit):
        """A backward page (``last``/``before`` a keyed cursor): the rows before the key in reverse order, read
        as ``last + 1`` rows (the extra one says whether a previous page exists)."""
        last = args["last"]
        if max_limit is not None:
            last = min(last, max_limit)
        reverse = [f"-{term}" if not term.startswith("-") else term[1:] for term in queryset.query.order_by]
        rows = list(order.seek(queryset, key, forward=False).order_by(*reverse)[:last + 1])
        has_previous = len(rows) > last
        rows = rows[:last][::-1]
        start = max(before - len(rows), 0)
        return _page(connection, queryset, order, rows, start, has_previous=has_previous, has_next=True)


def _page(connection, queryset, order, rows, start, has_previous, has_next):
    edges = [connection.Edge(node=node, cursor=cursors.encode(start + index, order, node))
             for index, node in enumerate(rows)]
    page_info = graphene.relay.PageInfo(
        start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None,
        has_previous_page=has_previous, has_next_page=has_next)
    page = connection(edges=edges, page_info=page_info)
    page.iterable = queryset
    page.length = None
    return page
