"""Login throttle (django-axes, database handler): failures are counted per username and per client address in
the database, so every worker process sees them. Every ``authenticate()`` with a request counts (each aliased
``tokenAuth`` of a document, the Django admin login form, a wrong old password of ``changePassword``);
``resetPassword`` requests count under their own per-username key and towards the client's budget. Settings: LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_MINUTES,
LOGIN_PROXY_COUNT (README)."""
from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.http import HttpResponse

RESET_KEY = "password-reset:"


def cooloff_minutes():
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def locked_out_message(what="LOGIN_LOCKED_OUT"):
    return f"{what}: too many attempts, try again in {cooloff_minutes()} minutes"


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses every login of a locked-out username or client, whatever the password. In-process callers with no
    request (management commands, the test client's ``login``) have no client to throttle and pass through."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_locked_out(request):
    return bool(getattr(request, "axes_locked_out", False))


def mark_graphql_lockout(request):
    """The GraphQL answer keeps its body (the error names the lockout); the middleware turns its status into 429."""
    request.openimis_graphql_lockout = True


def password_reset_allowed(request, username):
    """Counts one reset request for ``username`` from this client; False when either is over the limit."""
    if request is None or not settings.AXES_ENABLED:
        return True
    credentials = {settings.AXES_USERNAME_FORM_FIELD: f"{RESET_KEY}{username}"}
    if not AxesProxyHandler.is_allowed(request, credentials):
        request.axes_locked_out = True
        return False
    was_locked = login_locked_out(request)
    AxesProxyHandler.user_login_failed(sender=__name__, credentials=credentials, request=request)
    request.axes_locked_out = was_locked  # this request was allowed: it answers normally
    return True


def old_password_ok(request, user, password):
    """``changePassword``'s old password: refused while the username or the client is locked out, and a wrong one
    counts as a failed login (a stolen session must not guess the password at will). Returns None when locked."""
    credentials = {settings.AXES_USERNAME_FORM_FIELD: user.get_username()}
    if request is not None and settings.AXES_ENABLED and not AxesProxyHandler.is_allowed(request, credentials):
        request.axes_locked_out = True
        return None
    if user.check_password(password or ""):
        return True
    if request is not None and settings.AXES_ENABLED:
        AxesProxyHandler.user_login_failed(sender=__name__, credentials=credentials, request=request)
    return False


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: HTTP 429 with Retry-After; a GraphQL answer keeps its JSON body."""
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if original_response is not None and getattr(request, "openimis_graphql_lockout", False):
        original_response.status_code = 429
        original_response["Retry-After"] = retry_after
        return original_response
    response = HttpResponse(f"Too many failed login attempts: try again in {cooloff_minutes()} minutes.\n",
                            status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = retry_after
    return response


def client_ip(request):
    """AXES_CLIENT_IP_CALLABLE: REMOTE_ADDR, or — behind LOGIN_PROXY_COUNT trusted reverse proxies — the address
    the outermost trusted proxy appended to X-Forwarded-For (earlier entries are client-controlled)."""
    proxies = getattr(settings, "LOGIN_PROXY_COUNT", 0)
    remote = request.META.get("REMOTE_ADDR", "")
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return remote
