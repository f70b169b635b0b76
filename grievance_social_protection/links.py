"""Generic reporter / commenter links: explicit type names → models, resolved lazily.

``individual`` → individual.Individual, ``beneficiary`` → social_protection.Beneficiary, ``user`` → core.User.
A type whose app is not installed is simply unknown (validation error), so this app has no hard dependency
on individual or social_protection.
"""
import json
import uuid
from collections import defaultdict

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from graphene.utils.str_converters import to_camel_case

LINK_TYPES = {
    "individual": ("individual", "Individual"),
    "beneficiary": ("social_protection", "Beneficiary"),
    "user": ("core", "User"),
}

# never exposed through the derived ``reporter`` / ``commenter`` JSON
_SECRET_FIELDS = {"password", "last_login", "is_superuser", "groups", "user_permissions"}


def link_model(type_name):
    """Model class for a type name (case-insensitive) or None when unknown / app not installed."""
    if not type_name:
        return None
    target = LINK_TYPES.get(str(type_name).strip().lower())
    if target is None or not apps.is_installed(target[0]):
        return None
    try:
        return apps.get_model(*target)
    except LookupError:
        return None


def link_type_name(content_type_id):
    """Our type name for a content type id (``individual`` / ``beneficiary`` / ``user``) or None."""
    if not content_type_id:
        return None
    ct = ContentType.objects.get_for_id(content_type_id)
    for name, (app_label, model_name) in LINK_TYPES.items():
        if ct.app_label == app_label and ct.model == model_name.lower():
            return name
    return ct.model


def normalise_id(model, raw_id):
    """Canonical string form of an id for ``model`` (UUIDs hyphenated lower-case); None if malformed."""
    if raw_id in (None, ""):
        return None
    try:
        value = model._meta.pk.to_python(str(raw_id).strip())
    except (ValidationError, ValueError, TypeError):
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def resolve_link(type_name, raw_id, type_error, id_error):
    """(ContentType, id string) for a generic link; raises ValidationError with the given keys."""
    model = link_model(type_name)
    if model is None:
        raise ValidationError(type_error)
    object_id = normalise_id(model, raw_id)
    if object_id is None:
        raise ValidationError(id_error)
    qs = model._default_manager.filter(pk=object_id)
    if any(f.name == "is_deleted" for f in model._meta.get_fields()):
        qs = qs.filter(is_deleted=False)
    if any(f.name == "is_active" for f in model._meta.get_fields()):
        qs = qs.filter(is_active=True)
    if not qs.exists():
        raise ValidationError(id_error)
    return ContentType.objects.get_for_model(model), object_id


def _queryset_for(model):
    qs = model._default_manager.all()
    if model._meta.label == "social_protection.Beneficiary":
        qs = qs.select_related("individual")
    elif model._meta.label == "core.User":
        qs = qs.select_related("i_user")
    return qs


def attach_links(objects, type_attr, id_attr, target_attr):
    """Load the linked objects of a whole page at once (one query per content type): no N+1."""
    wanted = defaultdict(set)
    for obj in objects:
        ct_id, object_id = getattr(obj, type_attr, None), getattr(obj, id_attr, None)
        if ct_id and object_id:
            wanted[ct_id].add(object_id)
    loaded = {}
    for ct_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None:
            continue
        valid = {i for i in (normalise_id(model, raw) for raw in ids) if i}
        for target in _queryset_for(model).filter(pk__in=valid):
            loaded[(ct_id, str(target.pk))] = target
    for obj in objects:
        ct_id, object_id = getattr(obj, type_attr, None), getattr(obj, id_attr, None)
        target = None
        if ct_id and object_id:
            model = ContentType.objects.get_for_id(ct_id).model_class()
            key = normalise_id(model, object_id) if model else None
            target = loaded.get((ct_id, key))
        setattr(obj, target_attr, target)


def linked_object(obj, type_attr, id_attr, target_attr):
    """The linked object, from the page cache when attach_links ran, else one lookup."""
    if not hasattr(obj, target_attr):
        attach_links([obj], type_attr, id_attr, target_attr)
    return getattr(obj, target_attr)


def person_of(target):
    """The Individual behind a link: the individual itself, a beneficiary's individual, None for users."""
    if target is None:
        return None
    label = target._meta.label
    if label == "individual.Individual":
        return target
    if label == "social_protection.Beneficiary":
        return getattr(target, "individual", None)
    return None


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


__all__ = ["LINK_TYPES", "link_model", "link_type_name", "resolve_link", "attach_links", "linked_object",
           "person_of", "to_json"]
