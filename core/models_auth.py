from django.conf import settings
from django.db import models


class RevokedToken(models.Model):
    """Deny-list of revoked access tokens (by jti) until they would have expired anyway."""

    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "core"


class TokenGeneration(models.Model):
    """The user's token generation, carried by every JWT issued to them (``gen``). Changing, setting or resetting
    the password and logging out bump it: every earlier token, and every token refreshed from one, is refused."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
                                related_name="+")
    generation = models.PositiveBigIntegerField(default=0)

    class Meta:
        app_label = "core"


class SharedCacheGeneration(models.Model):
    """The current generation of a cached family (rights, locations) when the cache is per-process: every
    process reads it from the database, so a change made in one worker invalidates the others' caches."""

    key = models.CharField(max_length=100, primary_key=True)
    value = models.CharField(max_length=32)

    class Meta:
        app_label = "core"


def _connect_token_generation_bump():
    from django.db.models.signals import post_save

    from core.jwt import bump_on_password_change

    post_save.connect(bump_on_password_change, sender=settings.AUTH_USER_MODEL, weak=False,
                      dispatch_uid="core-token-generation-on-password")


_connect_token_generation_bump()
