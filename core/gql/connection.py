"""Relay connections in the openIMIS dialect: totalCount, orderBy, auth check, N+1-free loading."""
import re

import graphene
from django.core.exceptions import PermissionDenied
from django.db import models
from graphene.utils.str_converters import to_snake_case
from graphene_django.filter import DjangoFilterConnectionField
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode


class ExtendedConnection(graphene.relay.Connection):
    class Meta:
        abstract = True

    total_count = graphene.Int()
    edge_count = graphene.Int()

    def resolve_total_count(self, info, **kwargs):
        return self.length

    def resolve_edges(self, info, **kwargs):
        # the page is known before any of its nodes' fields resolve: let the node type batch-load for it
        prime = getattr(self._meta.node, "prime_page", None)
        if prime is not None and self.edges:
            prime([edge.node for edge in self.edges], info)
        return self.edges

    def resolve_edge_count(self, info, **kwargs):
        return len(self.edges)


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


def apply_order(queryset, order_by):
    terms = order_terms(order_by)
    model = queryset.model
    valid = []
    for term in terms:
        if term == "?":
            valid.append("?")
            continue
        path = term.lstrip("-")
        if path in queryset.query.annotations or _is_model_path(model, path):
            valid.append(term)
        else:
            raise ValueError(f"Cannot order by '{term}'")
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


# --- selection-driven select_related / prefetch_related -----------------------------------------
def _selections(node, info):
    if node is None or node.selection_set is None:
        return
    for sel in node.selection_set.selections:
        if isinstance(sel, FieldNode):
            yield sel
        elif isinstance(sel, InlineFragmentNode):
            yield from _selections(sel, info)
        elif isinstance(sel, FragmentSpreadNode):
            fragment = info.fragments.get(sel.name.value)
            if fragment is not None:
                yield from _selections(fragment, info)


def selected(info, name):
    """True when a field called ``name`` appears anywhere in the selection set of this query field."""
    stack = list(info.field_nodes)
    while stack:
        node = stack.pop()
        for sel in _selections(node, info):
            if sel.name.value == name:
                return True
            stack.append(sel)
    return False


def _child(node, name, info):
    for sel in _selections(node, info):
        if sel.name.value == name:
            return sel
    return None


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


def _walk(model, node, info, prefix, in_prefetch, select, prefetch, depth=0):
    if depth > 4:
        return
    relations = _relation_map(model)
    for sel in _selections(node, info):
        found = relations.get(to_snake_case(sel.name.value))
        if found is None:
            continue
        accessor, field = found
        path = prefix + accessor
        if (field.many_to_one or field.one_to_one) and not in_prefetch:
            select.add(path)
            _walk(field.related_model, sel, info, path + "__", False, select, prefetch, depth + 1)
        else:
            # one extra query per relation for the whole page, never one per row
            prefetch.add(path)
            target = sel
            edges = _child(sel, "edges", info)
            if edges is not None:
                target = _child(edges, "node", info)
            _walk(field.related_model, target, info, path + "__", True, select, prefetch, depth + 1)


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
        queryset = apply_order(queryset, args.get("orderBy"))
        return optimize_queryset(queryset, info)
