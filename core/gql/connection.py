"""Relay connections in the openIMIS dialect: totalCount, orderBy, auth check, N+1-free loading.

Counting: a forward page (``first``/``after``) is read as ``first + 1`` rows, so it needs no count; ``totalCount``
is computed only when the query selects it: exactly up to ``LIST_COUNT_EXACT_LIMIT`` rows (a capped count, cheap
whatever the table's size); above that, on PostgreSQL, the planner's estimate, flagged by ``totalCountExact:
false`` (SQLite always counts exactly).
"""
import json
import re

import graphene
from django.core.exceptions import PermissionDenied
from django.db import models
from graphene.utils.str_converters import to_snake_case
from graphene_django.filter import DjangoFilterConnectionField
from graphene_django.utils import maybe_queryset
from graphql_relay import get_offset_with_default, offset_to_cursor
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode


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
    """``(count, exact)`` of a list's rows: an exact count up to ``LIST_COUNT_EXACT_LIMIT`` rows (one statement
    that stops there); beyond it, on PostgreSQL, the planner's row estimate (never below the limit)."""
    from django.conf import settings

    if not hasattr(queryset, "query"):
        return len(queryset), True
    limit = getattr(settings, "LIST_COUNT_EXACT_LIMIT", 100_000)
    if not limit or _vendor(queryset) != "postgresql":
        return queryset.count(), True
    capped = queryset.order_by()[: limit + 1].count()
    if capped <= limit:
        return capped, True
    try:
        plan = json.loads(queryset.order_by().explain(format="json"))
        estimate = int(plan[0]["Plan"]["Plan Rows"])
    except (ValueError, KeyError, IndexError, TypeError):
        estimate = capped
    return max(estimate, capped), False


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
            valid.append(pk)  # a total order keeps pages stable
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
        if args.get("last") is not None or args.get("offset"):  # backward pages are sliced from the count
            return super().resolve_connection(connection, args, iterable, max_limit=max_limit)
        # no COUNT(*) to read a page (a full scan on a large registry); totalCount counts only when selected
        return cls._page_without_count(connection, args, iterable, max_limit)

    @staticmethod
    def _page_without_count(connection, args, queryset, max_limit):
        """A forward page read as ``first + 1`` rows: the extra row says whether a next page exists, so no
        count is needed. Cursors and pageInfo are those relay's array slicing would give."""
        start = get_offset_with_default(args.get("after"), -1) + 1
        first = args.get("first")
        if first is None:
            first = max_limit
        if first is None:
            rows = list(queryset[start:])
            has_next = False
        else:
            rows = list(queryset[start:start + first + 1])
            has_next = len(rows) > first
            rows = rows[:first]
        edges = [connection.Edge(node=node, cursor=offset_to_cursor(start + index))
                 for index, node in enumerate(rows)]
        page_info = graphene.relay.PageInfo(
            start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None,
            has_previous_page=False, has_next_page=has_next)
        page = connection(edges=edges, page_info=page_info)
        page.iterable = queryset
        page.length = None
        return page
