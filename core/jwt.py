"""JWT handling: tokens signed with SECRET_KEY carry jti/nbf; revoked jtis are refused."""
import uuid
from datetime import datetime, timezone as dt_timezone

from django.utils import timezone
from graphql_jwt import exceptions as jwt_exceptions
from graphql_jwt.settings import jwt_settings
from graphql_jwt.utils import get_payload, get_user_by_payload, jwt_decode as base_jwt_decode, jwt_payload as base_payload
from rest_framework import authentication, exceptions


def jwt_payload(user, context=None):
    payload = base_payload(user, context)
    payload["jti"] = uuid.uuid4().hex
    payload["nbf"] = int(timezone.now().timestamp()) - 5
    payload["user_id"] = str(user.pk)
    user.last_login = timezone.now()
    type(user).objects.filter(pk=user.pk).update(last_login=user.last_login)
    return payload


def jwt_decode(token, context=None):
    payload = base_jwt_decode(token, context)
    jti = payload.get("jti")
    if jti:
        from core.models_auth import RevokedToken

        if RevokedToken.objects.filter(jti=jti).exists():
            raise jwt_exceptions.JSONWebTokenError("Token has been revoked")
    return payload


def revoke_token(token):
    from core.models_auth import RevokedToken

    payload = base_jwt_decode(token)
    jti = payload.get("jti")
    if not jti:
        raise jwt_exceptions.JSONWebTokenError("Token cannot be revoked")
    expires = datetime.fromtimestamp(payload.get("exp", 0), tz=dt_timezone.utc)
    RevokedToken.objects.get_or_create(jti=jti, defaults={"expires_at": expires})
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
