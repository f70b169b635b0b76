"""Values computed once per request: rights, the admin flag, allowed locations, masking decisions.

Rights and locations live in the shared cache (Redis in production), so every ``has_perms`` on every row and
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


class CacheGeneration:
    """A counter in the shared cache that is part of every key of a cached family (rights, locations):
    bumping it invalidates the whole family at once, in every process, and empties the request memo."""

    def __init__(self, key):
        self.key = key

    def current(self):
        return memoized(("generation", self.key), self._read)

    def _read(self):
        from django.core.cache import cache

        value = cache.get(self.key)
        if value is None:
            value = 1
            cache.add(self.key, value, None)
        return value

    def bump(self, **_signal_kwargs):
        from django.core.cache import cache

        forget()
        try:
            cache.incr(self.key)
        except ValueError:
            cache.set(self.key, 2, None)


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
