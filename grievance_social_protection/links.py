"""Generic reporter / commenter links: explicit type names → the rows they point at (spec §3.1, §7).

``individual`` → an Individual, ``beneficiary`` → a Beneficiary, ``user`` → a core User. The types are
registered in ``TicketConfig.ready()`` (:func:`register_default_link_types`) with the queryset that reads their
rows — the sibling module's selector or service, never its models — so this app has no hard dependency on
individual or social_protection: a type whose app is not installed is simply unknown (a validation error).
"""
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from graphene.utils.str_converters import to_camel_case

from core.gql.loaders import BatchLoader

# never exposed through the derived ``reporter`` / ``commenter`` JSON
_SECRET_FIELDS = {"password", "last_login", "is_superuser", "groups", "user_permissions"}


def _nobody(target):
    return None


@dataclass
class LinkType:
    name: str
    rows: Callable  # () -> queryset of every row of the type, joined with what the derived fields read
    person: Callable = _nobody  # row -> the Individual behind it (first/last name, dob), or None

    @cached_property
    def model(self):
        return self.rows().model

    def content_type(self):
        return ContentType.objects.get_for_model(self.model)  # cached by Django after the first read


_LINK_TYPES: dict[str, LinkType] = {}


def register_link_type(name, rows, person=_nobody):
    _LINK_TYPES[name] = LinkType(name, rows, person)


def _users():
    from core.models import User

    return User.objects.select_related("i_user")


def _individuals():
    from individual.selectors import individuals

    return individuals()


def _beneficiaries():
    from social_protection.selectors import beneficiaries

    return beneficiaries().select_related("individual")


def register_default_link_types():
    """The three link types of the spec, for the apps that are installed (called in ``ready()``)."""
    register_link_type("user", _users)
    if apps.is_installed("individual"):
        register_link_type("individual", _individuals, person=lambda individual: individual)
    if apps.is_installed("social_protection"):
        register_link_type("beneficiary", _beneficiaries, person=lambda beneficiary: beneficiary.individual)


def link_type(type_name):
    """The registered type of a name (case-insensitive), or None."""
    return _LINK_TYPES.get(str(type_name).strip().lower()) if type_name else None


def link_type_of(content_type_id):
    if not content_type_id:
        return None
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    return next((t for t in _LINK_TYPES.values() if model is not None and t.model is model), None)


def link_type_name(content_type_id):
    """Our type name for a content type id (``individual`` / ``beneficiary`` / ``user``) or None."""
    if not content_type_id:
        return None
    known = link_type_of(content_type_id)
    return known.name if known else ContentType.objects.get_for_id(content_type_id).model


def normalise_id(model, raw_id):
    """Canonical string form of an id for ``model`` (UUIDs hyphenated lower-case); None if malformed."""
    if raw_id in (None, ""):
        return None
    try:
        value = model._meta.pk.to_python(str(raw_id).strip())
    except (ValidationError, ValueError, TypeError):
        return None
    return str(value)


def _live(queryset):
    names = {f.name for f in queryset.model._meta.get_fields()}
    if "is_deleted" in names:
        queryset = queryset.filter(is_deleted=False)
    if "is_active" in names:
        queryset = queryset.filter(is_active=True)
    return queryset


def validate_link(type_name, raw_id, *, both_required, invalid_type, not_found):
    """``(ContentType, id string)`` of an optional generic link, ``(None, None)`` when both are absent.

    Type and id must come together (``both_required``), the type must be registered (``invalid_type``) and
    the row must exist and be live (``not_found``): each raises ValidationError with the spec's key."""
    if type_name in (None, "") and raw_id in (None, ""):
        return None, None
    if type_name in (None, "") or raw_id in (None, ""):
        raise ValidationError(both_required)
    known = link_type(type_name)
    if known is None:
        raise ValidationError(invalid_type)
    object_id = normalise_id(known.model, raw_id)
    if object_id is None or not _live(known.rows()).filter(pk=object_id).exists():
        raise ValidationError(not_found)
    return known.content_type(), object_id


class LinkLoader(BatchLoader):
    """The rows behind ``(content type id, object id)`` links of a page: one query per link type."""

    def normalize(self, key):
        content_type_id, object_id = key
        known = link_type_of(content_type_id)
        object_id = normalise_id(known.model, object_id) if known else None
        return (content_type_id, object_id) if object_id else None

    def batch_load(self, keys):
        wanted = {}
        for content_type_id, object_id in keys:
            wanted.setdefault(content_type_id, set()).add(object_id)
        loaded = {}
        for content_type_id, ids in wanted.items():
            for row in self.rows(content_type_id).filter(pk__in=ids):
                loaded[(content_type_id, str(row.pk))] = row
        return loaded

    def rows(self, content_type_id):
        """The rows a link of that type may point to (a subclass narrows them)."""
        return link_type_of(content_type_id).rows()


def person_of(content_type_id, target):
    """The Individual behind a link: the individual itself, a beneficiary's individual, None for users."""
    known = link_type_of(content_type_id)
    return known.person(target) if known and target is not None else None


def to_json(target):
    """The linked object's attributes with camelCase keys, JSON-safe (GraphQL JSONString encodes it)."""
    if target is None:
        return None
    data = {}
    for field in target._meta.concrete_fields:
        if field.name in _SECRET_FIELDS:
            continue
        value = field.value_from_object(target)
        data[to_camel_case(field.attname if field.is_relation else field.name)] = value
    data["id"] = str(target.pk)
    data["uuid"] = str(target.pk)
    if target._meta.label == "core.User":
        data.update({"lastName": target.last_name, "otherNames": target.other_names})
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


__all__ = ["LinkType", "register_link_type", "register_default_link_types", "link_type", "link_type_name",
           "validate_link", "LinkLoader", "person_of", "to_json"]
