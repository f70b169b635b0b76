"""The one rights check: every resolver, node lookup and mutation goes through :func:`require`.

A *rights spec* is what a module declares: a list of right codes, a callable returning one, or the string
``"<app label>.<config key>"`` naming a ``*_perms`` key of the module's configuration (read late, so
``ModuleConfiguration`` overrides apply without a restart of this code path).
"""
from django.core.exceptions import PermissionDenied

from core.module_config import config_value

UNAUTHORIZED = "unauthorized"
AUTHENTICATION_REQUIRED = "mutation.authentication_required"


def resolve_perms(spec):
    """The right codes of a rights spec (``None`` stays ``None``: logged-in is enough)."""
    return config_value(spec)


def is_authenticated(user):
    return bool(user is not None and getattr(user, "is_authenticated", False))


def has_rights(user, spec=None):
    perms = resolve_perms(spec)
    return is_authenticated(user) and (perms is None or user.has_perms(perms))


def require(user, spec=None, message=UNAUTHORIZED, anonymous_message=None):
    """``PermissionDenied`` unless ``user`` is logged in and holds one of the rights of ``spec``.

    ``message`` is the spec's wording for a refusal (``unauthorized`` for most queries, ``Unauthorized`` for
    some lists); ``anonymous_message`` the one for anonymous callers when it differs (mutations)."""
    if not is_authenticated(user):
        raise PermissionDenied(anonymous_message or message)
    perms = resolve_perms(spec)
    if perms is not None and not user.has_perms(perms):
        raise PermissionDenied(message)


def require_for_mutation(user, spec=None):
    """The mutation flavour: anonymous callers read ``mutation.authentication_required``."""
    require(user, spec, anonymous_message=AUTHENTICATION_REQUIRED)
