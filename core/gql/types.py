"""Base GraphQL object types: every read path of a model checks its rights and row security by construction.

A module type subclasses :class:`HistoryModelType` (or :class:`ProtectedType` for other models,
:class:`HistoricalRecordType` for simple-history rows) and declares ``read_perms``. The base then enforces:

* ``get_queryset`` (lists, exports, nested lists): nothing without the rights, then the model's row security
  (``Model.get_queryset(queryset, user)``);
* ``get_node`` (``node(id:)`` and graphene-django's foreign-key fields): the same rules, through a per-request
  :class:`~core.gql.loaders.NodeLoader`, primed with the whole page, so a foreign key costs one query per page;
* ``jsonExt`` masked by the type's ``masking`` policy (``core.masking.register_masking``);
* a foreign key listed in ``granted_relations`` is read by this type's right (not the target's) but still under
  the target's row security, through a per-request :class:`~core.gql.loaders.RowSecurityLoader` (one query per
  page): a beneficiary's individual is shown to a beneficiary clerk only if they may see that individual.

A type that forgets ``read_perms`` is refused when the class is created (``public = True`` says on purpose
that any logged-in user may read it).
"""
import graphene
from django.core.exceptions import ImproperlyConfigured
from graphene_django import DjangoObjectType
from graphene_django.registry import get_global_registry

from core.gql.connection import ExtendedConnection
from core.gql.loaders import NodeLoader, RowSecurityLoader
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
    # foreign keys read by this type's right (not the target type's), under the target's row security
    granted_relations = ()

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
        for name in cls.granted_relations:
            if not hasattr(cls, f"resolve_{name}"):
                setattr(cls, f"resolve_{name}", _granted_resolver(cls._meta.model._meta.get_field(name)))

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
    def visible_keys(cls, info, keys):
        """Of ``keys`` (primary keys), those the caller's row security lets them see (one query); None when it
        hides nothing from them (no query)."""
        user = getattr(info.context, "user", None)
        manager = cls._meta.model._default_manager
        rows = cls.restrict(manager.all(), user)
        if len(rows.query.where.children) == len(manager.all().query.where.children):
            return None
        return set(rows.filter(pk__in=keys).values_list("pk", flat=True))

    @classmethod
    def hidden_fields(cls, info):
        """Names of the fields this caller reads as null (exports leave them empty too); none by default."""
        return ()

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
            granted = field.name in cls.granted_relations
            loader = (RowSecurityLoader if granted else NodeLoader).for_request(info, target)
            # rows joined with the page (select_related) that the request's loader does not hold yet
            joined = [node for node in nodes if field.is_cached(node) and field.get_cached_value(node) is not None
                      and loader.normalize(getattr(node, field.attname)) not in loader.values]
            rest = [node for node in nodes if not field.is_cached(node)]
            if joined:
                # the rows came with the page (select_related): the type's rights (unless granted) and its row
                # security apply to them (one query of the visible keys per page, none for an unrestricted caller)
                readable = granted or target.readable(info)
                keys = [getattr(node, field.attname) for node in joined]
                visible = target.visible_keys(info, keys) if readable and target.has_row_security() else None
                shown = {key: field.get_cached_value(node) for key, node in zip(keys, joined)
                         if readable and (visible is None or key in visible)}
                loader.seed({key: shown.get(key) for key in keys})
                if shown:
                    target.prime_page(list(shown.values()), info)
            loader.prime(getattr(node, field.attname) for node in rest)

    # --- masking --------------------------------------------------------------------------------------------
    def resolve_json_ext(root, info):
        policy = info.parent_type.graphene_type.masking
        if policy is None:
            return root.json_ext
        from core.masking import masking_policy

        return masking_policy(policy).mask(getattr(info.context, "user", None), root.json_ext)


def _granted_resolver(field):
    """A foreign key of ``granted_relations``: the target row through the row-security loader (primed with the
    page), null when the caller's row security hides it."""
    from graphene_django.utils import bypass_get_queryset

    def resolve(root, info):
        target = get_global_registry().get_type_for_model(field.related_model)
        return RowSecurityLoader.for_request(info, target).load(getattr(root, field.attname))

    return bypass_get_queryset(resolve)


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

    @classmethod
    def get_node(cls, info, id):
        """``node(id:)`` with the id the API gives a history row: its record's id (the latest row of that record)
        or, for a type whose rows are their own nodes, the row's history key. Anything else is no row: never a
        database error naming the internal column."""
        if not cls.readable(info):
            return None
        model = cls._meta.model
        rows = model._default_manager.all()
        try:
            record_id = model._meta.get_field("id").to_python(id)
        except Exception:
            record_id = None
        if isinstance(record_id, int) and not 0 < record_id < 2 ** 63:
            record_id = None
        if record_id is not None:
            rows = rows.filter(id=record_id)
        elif str(id).isdigit() and 0 < int(str(id)) < 2 ** 63:
            rows = rows.filter(pk=int(str(id)))
        else:
            return None
        return cls.get_queryset(rows, info).order_by("-history_date", "-pk").first()

    def resolve_id(root, info):
        return root.id

    def resolve_uuid(root, info):
        return str(root.id)
