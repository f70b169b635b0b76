"""Filter sets and lookup lists shared by every module's GraphQL lists."""
import uuid as uuid_lib

import django_filters
import graphene
from django.db import models
from graphene_django.filter.filters import TypedFilter
from graphene_django.filter.filterset import GrapheneFilterSetMixin
from graphql_relay import from_global_id

DATE_LOOKUPS = ["exact", "lt", "lte", "gt", "gte"]
TEXT_LOOKUPS = ["iexact", "istartswith", "icontains"]
STRING_LOOKUPS = ["exact", *TEXT_LOOKUPS]
ID_LOOKUPS = ["exact", "isnull"]

# the bookkeeping columns every HistoryModel list can be filtered on
HISTORY_MODEL_FILTERS = {
    "id": ID_LOOKUPS,
    "date_created": DATE_LOOKUPS,
    "date_updated": DATE_LOOKUPS,
    "is_deleted": ["exact"],
    "version": ["exact"],
}
USER_UPDATED_FILTERS = {"user_updated__username": STRING_LOOKUPS}


def prefixed(prefix, filters):
    """``{"a": [...]}`` → ``{"<prefix>__a": [...]}``: a related model's filters on a list."""
    return {f"{prefix}__{key}": lookups for key, lookups in filters.items()}


def parse_uuid(value):
    """A raw UUID or a relay global id (``"Type:uuid"``) → UUID, else None."""
    if value is None:
        return None
    if isinstance(value, uuid_lib.UUID):
        return value
    text = str(value).strip()
    try:
        return uuid_lib.UUID(text)
    except ValueError:
        pass
    try:
        _type, raw = from_global_id(text)
        return uuid_lib.UUID(str(raw))
    except Exception:
        return None


class LenientUUIDFilter(TypedFilter):
    """UUID filter typed ID: accepts raw UUIDs and relay ids; anything else matches nothing."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_type", graphene.ID)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        parsed = parse_uuid(value)
        if parsed is None:
            return qs.none()
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": parsed})


class BaseFilterSet(GrapheneFilterSetMixin, django_filters.FilterSet):
    """Filter set of every list: UUID columns filter leniently (raw UUIDs and relay ids)."""

    FILTER_DEFAULTS = {**GrapheneFilterSetMixin.FILTER_DEFAULTS,
                       models.UUIDField: {"filter_class": LenientUUIDFilter}}


def filterset_for(model, fields, base=BaseFilterSet, **declared):
    """A ``BaseFilterSet`` over ``model`` with ``Meta.fields = fields`` (plus declared filters)."""
    meta = type("Meta", (), {"model": model, "fields": fields})
    return type(f"{model.__name__}FilterSet", (base,), {"Meta": meta, **declared})
