from django.db import models


class RevokedToken(models.Model):
    """Deny-list of revoked access tokens (by jti) until they would have expired anyway."""

    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "core"
