"""System checks for dangerous or inconsistent settings (stable ids core.W00x / core.E00x)."""
from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def security_settings(app_configs, **kwargs):
    messages = []
    if not settings.DEBUG and settings.SECRET_KEY.startswith("insecure-"):
        messages.append(Error("SECRET_KEY is the development default while DEBUG is off", id="core.E001"))
    if not settings.DEBUG and getattr(settings, "GRAPHQL_INTROSPECTION", False):
        messages.append(Warning("GraphQL introspection is enabled in production", id="core.W001"))
    if getattr(settings, "ASYNC_MUTATIONS", False) and getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        messages.append(Warning("ASYNC_MUTATIONS is on but no CELERY_BROKER_URL is set: tasks run in-process",
                                id="core.W002"))
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if (not settings.DEBUG and backend.endswith("LocMemCache")
            and getattr(settings, "CACHE_INVALIDATION", "cache") != "database"):
        # gunicorn runs several workers and celery workers check rights too: each would keep serving the
        # rights and districts it cached (no timeout) after a role change made in another process.
        messages.append(Error(
            "The cache is per-process (LocMemCache) and rights/location invalidation goes through it "
            "(CACHE_INVALIDATION=cache): a role change made in one worker is never seen by the others",
            hint="Set CACHE_URL to a shared cache (Redis), or CACHE_INVALIDATION=database.", id="core.E002"))
    return messages


@register()
def service_signal_bindings(app_configs, **kwargs):
    """A handler bound to a service-signal name that no service registers would wait forever, silently."""
    from core.signals import unregistered_bindings

    return [
        Error(f"Service signal {name!r} is bound by {', '.join(callbacks)} but no service registers it",
              hint="Check the name against the registering service's @register_service_signal, or install "
                   "the module that registers it.", id="core.E010")
        for name, callbacks in sorted(unregistered_bindings().items())
    ]
