"""Per-request batch loading for GraphQL fields: a page costs one query per loader, never one per row.

graphql-core runs a page depth-first (every field of the first row, then of the second …), so a loader cannot
wait for the keys of later rows. Instead the page *primes* its loaders: ``ExtendedConnection`` hands the nodes
of each page to ``prime_page`` of the node type before any of their fields resolve, which queues the keys
(``loader.prime(keys)``); the first ``load(key)`` then fetches every queued key in one batch. A lookup that
was not primed (``node(id:)``) loads just its key. Loaders live on the request (``info.context``).
"""
import weakref

_CONTEXTLESS = weakref.WeakKeyDictionary()
_MISSING = object()


def _store(info):
    context = info.context
    if context is None:
        return {}
    try:
        return context.__dict__.setdefault("_openimis_loaders", {})
    except AttributeError:  # a context object without __dict__
        return _CONTEXTLESS.setdefault(context, {})


class BatchLoader:
    """Subclass with ``batch_load(keys) -> {key: value}``; get one per request with ``for_request(info)``."""

    def __init__(self, info):
        self.info = info
        self.user = getattr(info.context, "user", None)
        self.values = {}
        self.pending = set()

    @classmethod
    def for_request(cls, info, *key):
        """The request's loader of this class (one per extra ``key``, e.g. a node type)."""
        store = _store(info)
        name = (cls, *key)
        loader = store.get(name)
        if loader is None:
            loader = store[name] = cls(info, *key)
        return loader

    def normalize(self, key):
        """The canonical form of a key (e.g. a UUID from its string); None for an impossible key."""
        return key

    def prime(self, keys):
        keys = (self.normalize(k) for k in keys if k is not None)
        self.pending.update(k for k in keys if k is not None and k not in self.values)
        return self

    def seed(self, values):
        """Values already known (e.g. rows joined by select_related): no query for them."""
        for key, value in values.items():
            key = self.normalize(key)
            if key is not None:
                self.values[key] = value
                self.pending.discard(key)
        return self

    def load(self, key):
        key = None if key is None else self.normalize(key)
        if key is None:
            return None
        value = self.values.get(key, _MISSING)
        if value is _MISSING:
            self.pending.add(key)
            batch, self.pending = self.pending, set()
            loaded = self.batch_load(sorted(batch, key=str))
            for item in batch:
                self.values[item] = loaded.get(item)
            value = self.values[key]
        return value

    def batch_load(self, keys):
        raise NotImplementedError


class NodeLoader(BatchLoader):
    """Objects of a protected node type by primary key, through the type's ``get_queryset`` (rights and row
    security): what graphene-django's foreign-key fields and ``node(id:)`` read, one query per page."""

    def __init__(self, info, node_type):
        super().__init__(info)
        self.node_type = node_type

    def normalize(self, key):
        try:
            return self.node_type._meta.model._meta.pk.to_python(key)
        except Exception:  # not an id of this model: nothing to load
            return None

    def batch_load(self, keys):
        model = self.node_type._meta.model
        objects = list(self.node_type.get_queryset(model._default_manager.filter(pk__in=keys), self.info))
        if objects:  # their own links (e.g. a membership's individual, then its location) load per page too
            self.node_type.prime_page(objects, self.info)
        return {obj.pk: obj for obj in objects}


class RowSecurityLoader(NodeLoader):
    """Objects of ``node_type`` by primary key under its row security only: for a relation that the holder's
    right grants (``ProtectedType.granted_relations``), e.g. a beneficiary's individual read by the beneficiary
    right, shown only when the caller's districts let them see that individual. One query per page."""

    def batch_load(self, keys):
        model = self.node_type._meta.model
        objects = list(self.node_type.restrict(model._default_manager.filter(pk__in=keys), self.user))
        if objects:
            self.node_type.prime_page(objects, self.info)
        return {obj.pk: obj for obj in objects}
