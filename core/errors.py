"""Business errors and the one place where an exception becomes what a client may read.

Services raise; they never build failure dicts by hand. Only *business* errors (Django's
``ValidationError`` and ``PermissionDenied``, plus a nested service's failure result) carry text meant for a
user. Anything else is a defect or an outage: its text may hold host names, SQL or secrets, so it is logged
with its stack trace and the client reads the spec's generic sentence instead.
"""
import logging

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError

logger = logging.getLogger("core.errors")

BUSINESS_ERRORS = (ValidationError, PermissionDenied, ObjectDoesNotExist)


class ServiceResultError(Exception):
    """A nested service call answered with a failure result: raise it so the outer operation rolls back and
    answers with the same detail."""

    def __init__(self, result):
        super().__init__(result.get("detail") or result.get("message"))
        self.result = result


def ensure_success(result):
    """``result`` unchanged when it is a success, else :class:`ServiceResultError`."""
    if isinstance(result, dict) and result.get("success") is False:
        raise ServiceResultError(result)
    return result


def is_business_error(exc):
    return isinstance(exc, (*BUSINESS_ERRORS, ServiceResultError))


def business_detail(exc):
    """The user-facing text of a business error."""
    if isinstance(exc, ServiceResultError):
        return exc.result.get("detail") or exc.result.get("message") or ""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return "; ".join(str(m) for m in exc.messages)
    return str(exc) or exc.__class__.__name__


def internal_error_detail(exc):
    """The generic sentence of the spec (core §mutations) for anything that is not a business error."""
    return f"The mutation threw a {exc.__class__.__name__}, check logs for details"


def client_detail(exc, context=""):
    """What a client may read about ``exc``; internal errors are logged here, with their stack trace."""
    if is_business_error(exc):
        return business_detail(exc)
    logger.error("Internal error%s", f" in {context}" if context else "", exc_info=exc)
    return internal_error_detail(exc)


def failure_result(model_name, method, exc):
    """The openIMIS failure envelope for ``exc`` raised by ``method`` of a ``model_name`` service."""
    return {
        "success": False,
        "message": f"Failed to {method} {model_name}",
        "detail": client_detail(exc, context=f"{model_name}.{method}"),
        "data": "",
    }
