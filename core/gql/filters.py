"""Filter sets and lookup lists shared by every module's GraphQL lists."""
import uuid as uuid_lib

import django_filters
import graphene
from django.db import models
from django.db.models import Q
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


class WordPrefixSearchFilter(django_filters.CharFilter):
    """``icontains`` of a name column, except for a text of one or two characters: that finds the names with a
    word starting with it (``ar`` → "Arnold", "Mary Ann Arden", not "Carl"). It is what a person typing the first
    letters of a name means, and what the column's trigram index can answer: a substring under three characters
    has no trigram, so ``%ar%`` would read every row of the registry."""

    SHORT = 3

    def filter(self, qs, value):
        if value in (None, "") or len(value.strip()) >= self.SHORT:
            return super().filter(qs, value)
        text = value.strip()
        if not text:
            return qs
        qs = qs.filter(Q(**{f"{self.field_name}__istartswith": text}) | Q(**{f"{self.field_name}__icontains": f" {text}"}))
        return qs.distinct() if self.distinct else qs


class BaseFilterSet(GrapheneFilterSetMixin, django_filters.FilterSet):
    """Filter set of every list: UUID columns filter leniently (raw UUIDs and relay ids); the ``icontains`` of
    the columns in ``WORD_PREFIX_SEARCH`` searches short texts by word prefix (:class:`WordPrefixSearchFilter`)."""

    FILTER_DEFAULTS = {**GrapheneFilterSetMixin.FILTER_DEFAULTS,
                       models.UUIDField: {"filter_class": LenientUUIDFilter}}
    WORD_PREFIX_SEARCH = frozenset()

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if data is not None and prefix is None:
            # a list declares dozens of filters and a request sets a few: only those are copied, turned into form
            # fields and cleaned (the copies were a tenth of a small list request)
            self.base_filters = {name: item for name, item in type(self).base_filters.items() if name in data}
        super().__init__(data, queryset, request=request, prefix=prefix)

    @classmethod
    def filter_for_field(cls, field, field_name, lookup_expr=None):
        made = super().filter_for_field(field, field_name, lookup_expr)
        if lookup_expr == "icontains" and field_name in cls.WORD_PREFIX_SEARCH:
            return WordPrefixSearchFilter(field_name=field_name, lookup_expr=lookup_expr, label=made.label)
        return made


def filterset_for(model, fields, base=BaseFilterSet, word_prefix_search=(), **declared):
    """A ``BaseFilterSet`` over ``model`` with ``Meta.fields = fields`` (plus declared filters); the columns of
    ``word_prefix_search`` (name columns with a trigram index) search one- and two-letter texts by word prefix."""
    meta = type("Meta", (), {"model": model, "fields": fields})
    return type(f"{model.__name__}FilterSet", (base,),
                {"Meta": meta, "WORD_PREFIX_SEARCH": frozenset(word_prefix_search), **declared})
