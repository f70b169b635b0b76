"""Values computed once per request: rights, the admin flag, allowed locations, masking decisions.

Rights and locations live in the cache (Redis in production), so every ``has_perms`` on every row and
JSON field of a page would be a network round trip. Inside a request (the middleware below), or a celery
task that opens a scope, the first computation is kept for the rest of the scope; outside any scope (shell,
tests calling services directly) nothing is memoised and every call reads the cache as before. Any write that
invalidates the rights or location caches also empties the current scope.
"""
import contextlib
import contextvars

_scope = contextvars.ContextVar("core_request_memo", default=None)


@contextlib.contextmanager
def memo_scope():
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def memoized(key, compute):
    """``compute()`` once per scope for ``key`` (a hashable); every call when no scope is open."""
    memo = _scope.get()
    if memo is None:
        return compute()
    try:
        return memo[key]
    except KeyError:
        memo[key] = value = compute()
        return value


def forget():
    memo = _scope.get()
    if memo is not None:
        memo.clear()


class RequestMemoMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with memo_scope():
            return self.get_response(request)


def _invalidation_in_database():
    from django.conf import settings

    return getattr(settings, "CACHE_INVALIDATION", "cache") == "database"


class CacheGeneration:
    """A generation that is part of every key of a cached family (rights, locations): bumping it invalidates the
    whole family at once, in every process, and empties the request memo. It lives in the shared cache, or — with
    a per-process cache (``CACHE_INVALIDATION=database``) — in the database, read once per request."""

    def __init__(self, key):
        self.key = key

    def current(self):
        return memoized(("generation", self.key), self._read)

    def _read(self):
        if _invalidation_in_database():
            from core.models_auth import SharedCacheGeneration

            return SharedCacheGeneration.objects.filter(key=self.key).values_list("value", flat=True).first() or "0"
        from django.core.cache import cache

        value = cache.get(self.key)
        if value is None:
            value = 1
            cache.add(self.key, value, None)
        return value

    def bump(self, **_signal_kwargs):
        forget()
        if _invalidation_in_database():
            self._bump_in_database()
            return
        from django.core.cache import cache

        try:
            cache.incr(self.key)
        except ValueError:
            cache.set(self.key, 2, None)

    def _bump_in_database(self):
        # A fresh random value, not a counter: a bump rolled back with its transaction and redone later never
        # meets entries cached under the rolled-back value.
        import uuid

        from django.db import IntegrityError, transaction

        from core.models_auth import SharedCacheGeneration

        value = uuid.uuid4().hex
        if SharedCacheGeneration.objects.filter(key=self.key).update(value=value):
            return
        try:
            with transaction.atomic():
                SharedCacheGeneration.objects.create(key=self.key, value=value)
        except IntegrityError:
            SharedCacheGeneration.objects.filter(key=self.key).update(value=value)


_celery_tokens = {}


def _open_task_scope(task_id=None, **_kwargs):
    _celery_tokens[task_id] = _scope.set({})


def _close_task_scope(task_id=None, **_kwargs):
    token = _celery_tokens.pop(task_id, None)
    if token is not None:
        _scope.reset(token)


def connect_celery_task_scopes():
    """Each celery task is a scope too (a worker running a mutation checks rights like a request does)."""
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_open_task_scope, weak=False, dispatch_uid="core-memo-open")
    task_postrun.connect(_close_task_scope, weak=False, dispatch_uid="core-memo-close")
