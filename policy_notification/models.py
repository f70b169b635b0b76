"""Household notification preferences and the record of every notification decided or sent (spec §13.2).

``FamilyNotification``: one row per household (``individual.Group``): consent and language of the messages.
``NotificationIndication``: one row per (enrolment, notification type, period): what became of that message.

Status codes (spec §1.3), and the dispatcher's claim marker:

* ``0`` CLAIMED: the dispatcher inserted the row *before* calling a gateway (``claimed_at`` set). Whether the
  gateway accepted the message is unknown until the row is updated; a claimed row counts as handled, so a run
  that crashes between the gateway call and the update never sends the message again (no duplicate SMS).
* ``1`` SENT (``sent_at``, ``provider``, ``attempts`` set by the dispatcher) – never resent.
* ``2`` NO_CONSENT, ``3`` TOO_OLD, ``5`` NOT_PERMITTED – written by detection, final.
* ``4`` ERROR – written by detection (no phone, unparsable phone) or by the dispatcher (every gateway failed);
  retried by the next runs while the trigger condition holds.
"""
import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import HistoryModel

OPEN_PERIOD = datetime.date(9999, 12, 31)  # period_key of an open-ended enrolment
FALLBACK_LANGUAGE = "en"


def default_language_code():
    """The first core language by sort order, ``en`` when the table is empty (spec §13.7)."""
    from core.models import Language

    return Language.objects.order_by("sort_order", "code").values_list("code", flat=True).first() or FALLBACK_LANGUAGE


class NotificationType(models.TextChoices):
    ACTIVATION = "activation_of_policy", _("activation_of_policy")
    STARTING = "starting_of_policy", _("starting_of_policy")
    NEED_FOR_RENEWAL = "need_for_renewal", _("need_for_renewal")
    EXPIRATION = "expiration_of_policy", _("expiration_of_policy")
    REMINDER_AFTER_EXPIRATION = "reminder_after_expiration", _("reminder_after_expiration")
    RENEWAL = "renewal_of_policy", _("renewal_of_policy")


class IndicationStatus(models.IntegerChoices):
    CLAIMED = 0, _("claimed by a dispatcher, outcome not yet recorded")
    SENT = 1, _("sent successfully")
    NO_CONSENT = 2, _("not sent: the household has not consented")
    TOO_OLD = 3, _("not sent: event too old to be relevant")
    ERROR = 4, _("not sent: sending error")
    NOT_PERMITTED = 5, _("not sent: failed validation")


class CommunicationMode(models.IntegerChoices):
    ALL = 0, _("All")
    CONSENT_AND_PHONE = 1, _("Approved and with phone")
    CONSENT_NO_PHONE = 2, _("Approved and without phone")
    PHONE_NO_CONSENT = 3, _("Not approved with phone")
    NEITHER = 4, _("Not approved and without phone")


class FamilyNotification(HistoryModel):
    group = models.OneToOneField("individual.Group", models.DO_NOTHING, related_name="family_notification")
    approval_of_notification = models.BooleanField(default=False)
    language_of_notification = models.CharField(max_length=5, default=default_language_code)

    class Meta:
        indexes = [models.Index(fields=["approval_of_notification", "is_deleted"], name="pn_fn_approval_del_idx")]

    def __str__(self):
        return f"Notification of {self.group_id}: {self.approval_of_notification}/{self.language_of_notification}"


class NotificationIndication(HistoryModel):
    # its history is read by indication and date (a run writes 100,000 rows): no other history index
    HISTORY_UNINDEXED_FIELDS = ("enrolment_type", "group", "user_created", "user_updated", "history_user")

    # the unique constraint's index starts with it: no index of its own (it misleads the planner). Both references
    # are copied from the enrolment by set-based writes (detection: 100,000 rows a run) and point at rows that are
    # never deleted (content types, soft-deleted groups): not checked row by row at COMMIT, as Entitlement's
    enrolment_type = models.ForeignKey(ContentType, models.DO_NOTHING, related_name="+", db_index=False,
                                       db_constraint=False)
    enrolment_id = models.UUIDField()
    group = models.ForeignKey("individual.Group", models.DO_NOTHING, null=True, blank=True, related_name="+",
                              db_constraint=False)
    notification_type = models.CharField(max_length=32, choices=NotificationType.choices)
    period_key = models.DateField()
    status = models.SmallIntegerField(choices=IndicationStatus.choices, default=IndicationStatus.CLAIMED)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=64, null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    details = models.TextField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["enrolment_type", "enrolment_id", "notification_type",
                                                       "period_key"], name="pn_indication_enrolment_type_period_uniq")]
        indexes = [models.Index(fields=["status", "notification_type"], name="pn_ind_status_type_idx")]

    def __str__(self):
        return f"{self.notification_type} {self.enrolment_id} {self.period_key}: {self.status}"
