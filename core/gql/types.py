"""Base GraphQL object types: every read path of a model checks its rights and row security by construction.

A module type subclasses :class:`HistoryModelType` (or :class:`ProtectedType` for other models,
:class:`HistoricalRecordType` for simple-history rows) and declares ``read_perms``. The base then enforces:

* ``get_queryset`` (lists, exports, nested lists): nothing without the rights, then the model's row security
  (``Model.get_queryset(queryset, user)``);
* ``get_node`` (``node(id:)`` and graphene-django's foreign-key fields): the same rules, through a per-request
  :class:`~core.gql.loaders.NodeLoader`, primed with the whole page, so a foreign key costs one query per page;
* ``jsonExt`` masked by the type's ``masking`` policy (``core.masking.register_masking``).

A type that forgets ``read_perms`` is refused when the class is created (``public = True`` says on purpose
that any logged-in user may read it).
"""
import graphene
from django.core.exceptions import ImproperlyConfigured
from graphene_django import DjangoObjectType
from graphene_django.registry import get_global_registry

from core.gql.connection import ExtendedConnection
from core.gql.loaders import NodeLoader
from core.rights import has_rights, is_authenticated

# Meta.fields of the bookkeeping columns
HISTORY_MODEL_FIELDS = ("id", "is_deleted", "json_ext", "date_created", "date_updated", "user_created",
                        "user_updated", "version")
BUSINESS_MODEL_FIELDS = (*HISTORY_MODEL_FIELDS, "date_valid_from", "date_valid_to", "replacement_uuid")
HISTORY_RECORD_FIELDS = ("history_date", "history_type")


class ProtectedType(DjangoObjectType):
    read_perms = None  # a rights spec (core.rights): codes, a callable, or "<app>.<config key>"
    public = False  # True: any logged-in user may read it (pickers); must be said explicitly
    masking = None  # name of a core.masking policy applied to jsonExt

    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(cls, interfaces=(), connection_class=None, **options):
        if cls.read_perms is None and not cls.public:
            raise ImproperlyConfigured(f"{cls.__name__} declares no read_perms (or public = True): "
                                       "its rows would be readable by anyone through node(id:)")
        super().__init_subclass_with_meta__(interfaces=interfaces or (graphene.relay.Node,),
                                            connection_class=connection_class or ExtendedConnection, **options)
        for name, field in list(cls._meta.fields.items()):
            if isinstance(field, graphene.Dynamic):  # a foreign key, typed once every type is known
                cls._meta.fields[name] = graphene.Dynamic(_nullable_when_protected(field.type))

    # --- rights and row security ------------------------------------------------------------------------
    @classmethod
    def readable(cls, info):
        user = getattr(info.context, "user", None)
        return is_authenticated(user) if cls.public else has_rights(user, cls.read_perms)

    @classmethod
    def restrict(cls, queryset, user):
        """Row security: the model's ``get_queryset(queryset, user)`` hook when it has one."""
        hook = getattr(cls._meta.model, "get_queryset", None)
        return hook(queryset, user) if hook is not None else queryset

    @classmethod
    def has_row_security(cls):
        """Whether rows are filtered per user beyond the rights (else a readable type shows every row)."""
        if cls.restrict.__func__ is not ProtectedType.restrict.__func__:
            return True
        hook = getattr(cls._meta.model, "get_queryset", None)
        if hook is None:
            return False
        from core.models import HistoryModel

        return getattr(hook, "__func__", hook) is not HistoryModel.get_queryset.__func__

    @classmethod
    def get_queryset(cls, queryset, info):
        if not cls.readable(info):
            return queryset.none()
        return cls.restrict(queryset, info.context.user)

    @classmethod
    def get_node(cls, info, id):
        if not cls.readable(info):
            return None
        return NodeLoader.for_request(info, cls).load(id)

    # --- batch loading ------------------------------------------------------------------------------------
    @classmethod
    def prime_page(cls, nodes, info):
        """Called with the nodes of a page before their fields resolve: queue the keys of every foreign key
        to a protected type, so each such field costs one query for the page. Subclasses extend it."""
        registry = get_global_registry()
        exposed = cls._meta.fields
        for field in cls._meta.model._meta.concrete_fields:
            if not field.is_relation or field.name not in exposed:
                continue
            target = registry.get_type_for_model(field.related_model)
            if target is None or not issubclass(target, ProtectedType):
                continue
            loader = NodeLoader.for_request(info, target)
            joined = [node for node in nodes if field.is_cached(node)]
            rest = [node for node in nodes if not field.is_cached(node)]
            if joined and target.has_row_security():
                rest, joined = nodes, []
            if joined:
                # the rows came with the page (select_related) and only the type's rights apply to them
                readable = target.readable(info)
                loader.seed({getattr(node, field.attname): field.get_cached_value(node) if readable else None
                             for node in joined})
            loader.prime(getattr(node, field.attname) for node in rest)

    # --- masking --------------------------------------------------------------------------------------------
    def resolve_json_ext(root, info):
        policy = info.parent_type.graphene_type.masking
        if policy is None:
            return root.json_ext
        from core.masking import masking_policy

        return masking_policy(policy).mask(getattr(info.context, "user", None), root.json_ext)


def _nullable_when_protected(make_field):
    """A required foreign key to a protected type becomes nullable: the caller may lack the target's rights
    or rows, and a null must not void the whole node."""

    def make():
        field = make_field()
        wrapped = getattr(field, "_type", None)
        if isinstance(wrapped, graphene.NonNull):
            target = wrapped.of_type
            if isinstance(target, type) and issubclass(target, ProtectedType):
                field._type = target
        return field

    return make


class HistoryModelType(ProtectedType):
    """A ``core.models.HistoryModel``: ``uuid`` (the id as a string) besides the relay ``id``."""

    uuid = graphene.String()

    class Meta:
        abstract = True

    def resolve_uuid(root, info):
        return str(root.id)


class HistoricalRecordType(ProtectedType):
    """A simple-history row of ``history_of``: visible when its live record is (row security of the live
    model); ``id``/``uuid`` are the record's id, as upstream answers them."""

    history_of = None
    uuid = graphene.String()

    class Meta:
        abstract = True

    @classmethod
    def restrict(cls, queryset, user):
        from core.location import is_unrestricted, row_security_enabled

        live = cls.history_of
        if live is None or not row_security_enabled() or is_unrestricted(user):
            return queryset
        return queryset.filter(id__in=live.get_queryset(live.objects.all(), user).values("id"))

    def resolve_id(root, info):
        return root.id

    def resolve_uuid(root, info):
        return str(root.id)
