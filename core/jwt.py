"""JWT handling: tokens signed with SECRET_KEY carry jti/nbf and the user's token generation (``gen``); revoked jtis
and tokens of an older generation (issued before a password change or a logout, or refreshed from one) are refused."""
import contextvars
import time
import uuid
from datetime import datetime, timezone as dt_timezone

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from graphql_jwt import exceptions as jwt_exceptions
from graphql_jwt.settings import jwt_settings
from graphql_jwt.utils import get_payload, get_user_by_payload, jwt_decode as base_jwt_decode, jwt_payload as base_payload
from graphql_jwt.utils import get_user_by_natural_key as base_get_user_by_natural_key
from rest_framework import authentication, exceptions


def jwt_payload(user, context=None):
    payload = base_payload(user, context)
    payload["jti"] = uuid.uuid4().hex
    payload["nbf"] = int(timezone.now().timestamp()) - 5
    payload["user_id"] = str(user.pk)
    payload["gen"] = token_generation(user.pk)
    user.last_login = timezone.now()
    type(user).objects.filter(pk=user.pk).update(last_login=user.last_login)
    return payload


def jwt_decode(token, context=None):
    payload = base_jwt_decode(token, context)
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from core.models_auth import RevokedToken, TokenGeneration

    user_id, generation = payload.get("user_id"), payload.get("gen")
    if not user_id or not isinstance(generation, int):
        raise jwt_exceptions.JSONWebTokenError("Token has been revoked")  # issued before generations: log in again
    try:
        # one query: the user, their current generation and whether this very token was revoked
        user = get_user_model().objects.filter(pk=user_id).annotate(
            token_generation=Coalesce(Subquery(
                TokenGeneration.objects.filter(user_id=OuterRef("pk")).values("generation")[:1]), Value(0)),
            token_revoked=Exists(RevokedToken.objects.filter(jti=payload.get("jti") or "")),
        ).first()
    except (ValueError, TypeError, DjangoValidationError):
        user = None
    if user is None:
        raise jwt_exceptions.JSONWebTokenError("Invalid payload")
    if user.token_revoked or user.token_generation != generation:
        raise jwt_exceptions.JSONWebTokenError("Token has been revoked")
    _decoded_user.set((user.get_username(), user, time.monotonic()))
    return payload


# graphql-jwt looks the token's user up by username right after decoding the token: the row read above answers it
# (one statement per request instead of two). Only that very lookup: the row is taken once, within a second.
_decoded_user = contextvars.ContextVar("decoded_user", default=None)


def get_user_by_natural_key(username):
    decoded = _decoded_user.get()
    _decoded_user.set(None)
    if decoded is not None and decoded[0] == username and time.monotonic() - decoded[2] < 1.0:
        return decoded[1]
    return base_get_user_by_natural_key(username)


def token_generation(user_id):
    from django.db.models import Max

    from core.models_auth import TokenGeneration

    return TokenGeneration.objects.filter(user_id=user_id).aggregate(g=Max("generation"))["g"] or 0


def bump_token_generation(user_id):
    """Every token issued to the user so far (and every token refreshed from one) stops working."""
    from django.db.models import F

    from core.models_auth import TokenGeneration

    if not TokenGeneration.objects.filter(user_id=user_id).update(generation=F("generation") + 1):
        _, created = TokenGeneration.objects.get_or_create(user_id=user_id, defaults={"generation": 1})
        if not created:
            TokenGeneration.objects.filter(user_id=user_id).update(generation=F("generation") + 1)


def bump_on_password_change(sender, instance, raw=False, **kwargs):
    """post_save of the user model: ``set_password`` followed by ``save`` (change, set, reset, admin, commands)
    ends every earlier session. ``_password`` is Django's marker of a password set since the last save."""
    if not raw and getattr(instance, "_password", None) is not None:
        bump_token_generation(instance.pk)


def revoke_token(token):
    """Logout: the token is deny-listed and the user's generation bumped, so the whole refresh family (tokens
    refreshed from this one, or this one's ancestors) and every other token of the user stop working."""
    from core.models_auth import RevokedToken

    payload = base_jwt_decode(token)
    jti = payload.get("jti")
    if not jti:
        raise jwt_exceptions.JSONWebTokenError("Token cannot be revoked")
    expires = datetime.fromtimestamp(payload.get("exp", 0), tz=dt_timezone.utc)
    RevokedToken.objects.get_or_create(jti=jti, defaults={"expires_at": expires})
    if payload.get("user_id"):
        try:
            bump_token_generation(payload["user_id"])
        except (ValueError, DjangoValidationError):
            pass
    return payload


class JWTCookieOrHeaderAuthentication(authentication.BaseAuthentication):
    """DRF: ``Authorization: Bearer <token>`` or the ``JWT`` cookie; no CSRF needed for either."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        token = None
        if header and header[0] == jwt_settings.JWT_AUTH_HEADER_PREFIX:
            if len(header) != 2:
                raise exceptions.AuthenticationFailed("Invalid Authorization header")
            token = header[1]
        else:
            token = request.COOKIES.get(jwt_settings.JWT_COOKIE_NAME)
        if not token:
            return None
        try:
            payload = get_payload(token)
            user = get_user_by_payload(payload)
        except jwt_exceptions.JSONWebTokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc))
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted")
        return user, token

    def authenticate_header(self, request):
        return jwt_settings.JWT_AUTH_HEADER_PREFIX
