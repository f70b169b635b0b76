"""Notification report (reports framework): messages sent, failed and pending by type. Right:
``gql_notification_indication_perms``. A message's location is its household's; the period is the day the
message was decided (created).

Sent: status SENT. Failed: ERROR (retried while the trigger holds). Pending: CLAIMED (a dispatcher holds it, the
outcome not yet recorded). Not sent: NO_CONSENT, TOO_OLD, NOT_PERMITTED (final decisions not to send)."""
from django.db.models import Count, Q

from policy_notification.models import IndicationStatus, NotificationIndication
from reports.services import ReportDefinition, register

RIGHTS = "policy_notification.gql_notification_indication_perms"
NOT_SENT = (IndicationStatus.NO_CONSENT, IndicationStatus.TOO_OLD, IndicationStatus.NOT_PERMITTED)


def notifications_by_type(scope):
    rows = (NotificationIndication.objects.filter(is_deleted=False)
            .filter(scope.location_q("group__location"), scope.period_q("date_created", is_datetime=True))
            .values("notification_type").order_by("notification_type")
            .annotate(total=Count("id"),
                      sent=Count("id", filter=Q(status=IndicationStatus.SENT)),
                      failed=Count("id", filter=Q(status=IndicationStatus.ERROR)),
                      pending=Count("id", filter=Q(status=IndicationStatus.CLAIMED)),
                      not_sent=Count("id", filter=Q(status__in=NOT_SENT))))
    return list(rows)


register(ReportDefinition(
    name="notifications_by_type", app="policy_notification", title="Notifications by type",
    rights=RIGHTS, query=notifications_by_type, order=50, filters=("location", "period"),
    columns=[("notification_type", "Type"), ("total", "Total"), ("sent", "Sent"), ("failed", "Failed"),
             ("pending", "Pending"), ("not_sent", "Not sent (no consent, too old, not permitted)")],
    chart={"kind": "bar", "label": "notification_type", "values": ["sent", "failed", "pending"]},
    description="Live notification records by type and outcome."))
