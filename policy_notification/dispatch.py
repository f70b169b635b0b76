"""Sending the detected messages: claim, send, mark (spec §7, §8, §13.8). No message is ever sent twice.

For each chunk of candidates (``CLAIM_CHUNK``):

1. **claim**, in its own committed transaction: a new ``NotificationIndication`` row in status ``CLAIMED`` (0)
   is inserted ``ON CONFLICT DO NOTHING`` (the unique key enrolment/type/period), and a status-4 row (a failed
   send being retried) is moved to ``CLAIMED`` under a row lock (``SKIP LOCKED``). A candidate whose row is
   neither new nor in status 4 is someone else's (another run got it first) and is skipped.
2. **send**: each claimed message goes through the providers in configured order (``gateways.send_with_fallback``).
3. **mark**, in one bulk update per chunk: ``SENT`` (1) with ``sent_at``, provider and attempts; ``ERROR`` (4)
   with the last error (a later run retries it); an ``UNKNOWN`` outcome (the gateway may have accepted the
   message: read timeout, connection dropped after sending) stays ``CLAIMED`` with the error in ``details``.

Detection treats every status except 4 as handled, so a run that dies between 2 and 3 (killed, database lost)
leaves its chunk's rows ``CLAIMED``: those messages are never sent again. The price of "at most once" is that
a crash may leave up to one chunk of claimed rows whose message did not go out; they are listed by the
``notificationIndication`` query (status 0) and an operator can set them back to 4 to have them retried.
"""
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from core.bulk import analyze, fewer_collections, insert_rows, update_rows, update_with_history
from policy_notification import gateways
from policy_notification.models import IndicationStatus, NotificationIndication

logger = logging.getLogger(__name__)

CLAIM_CHUNK = 200
DETAILS_MAX = 2000
ANALYZE_AFTER = 10_000  # claimed rows after which the table's planner statistics are refreshed


@dataclass
class DispatchReport:
    """What one run did (counts; ``by_type`` counts the messages sent per notification type)."""

    detected: int = 0
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0  # claimed by another run, or already handled
    by_type: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def as_dict(self):
        return {"detected": self.detected, "claimed": self.claimed, "sent": self.sent, "failed": self.failed,
                "unknown": self.unknown, "skipped": self.skipped, "by_type": dict(self.by_type),
                "seconds": round(self.seconds, 3)}


def _key(enrolment_type, enrolment_id, notification_type, period_key):
    return int(getattr(enrolment_type, "pk", enrolment_type)), str(enrolment_id), str(notification_type), period_key


def candidate_key(candidate):
    return _key(candidate.enrolment_type, candidate.enrolment_id, candidate.notification_type, candidate.period_key)


def _row_key(row):
    return _key(row.enrolment_type_id, row.enrolment_id, row.notification_type, row.period_key)


def claim(candidates, *, user, now=None):
    """Claim ``candidates`` (one committed transaction). Answers ``{key: (indication id, previous attempts)}``
    of the claimed ones; the others belong to another run or are already handled."""
    now = now or timezone.now()
    by_key = {}
    for candidate in candidates:
        by_key.setdefault(candidate_key(candidate), candidate)
    if not by_key:
        return {}
    claimed = {}
    with transaction.atomic():
        existing = (NotificationIndication.objects
                    .filter(enrolment_type_id__in={key[0] for key in by_key},
                            enrolment_id__in={key[1] for key in by_key},
                            notification_type__in={key[2] for key in by_key})
                    .only("id", "enrolment_type_id", "enrolment_id", "notification_type", "period_key", "status",
                          "attempts"))
        known, retry = set(), {}
        for row in existing:
            key = _row_key(row)
            if key in by_key:
                known.add(key)
                if row.status == IndicationStatus.ERROR:
                    retry[row.id] = (key, row.attempts)
        if retry:
            locked = list(NotificationIndication.objects.select_for_update(skip_locked=True)
                          .filter(id__in=list(retry), status=IndicationStatus.ERROR).values_list("id", flat=True))
            if locked:
                update_with_history(NotificationIndication.objects.filter(id__in=locked),
                                    {"status": IndicationStatus.CLAIMED, "claimed_at": now}, user=user, now=now)
                for row_id in locked:
                    key, attempts = retry[row_id]
                    claimed[key] = (row_id, attempts)
        rows = []
        for key, candidate in by_key.items():
            if key in known:
                continue
            rows.append({"id": uuid.uuid4(), "enrolment_type_id": key[0], "enrolment_id": key[1],
                         "group_id": getattr(candidate, "group_id", None), "notification_type": key[2],
                         "period_key": key[3], "status": IndicationStatus.CLAIMED, "claimed_at": now,
                         "attempts": 0})
        if rows:
            inserted = set(insert_rows(NotificationIndication, rows, user=user, now=now, ignore_conflicts=True,
                                       returning=True))
            for row in rows:
                if row["id"] in inserted:
                    claimed[_key(row["enrolment_type_id"], row["enrolment_id"], row["notification_type"],
                                 row["period_key"])] = (row["id"], 0)
    return claimed


def _details(outcome):
    text = " | ".join(outcome.errors)
    return text[-DETAILS_MAX:] if text else None


def deliver(candidate, providers, render):
    """Render and send one claimed message; a rendering defect is a failed send (status 4)."""
    if not getattr(candidate, "phone", None):
        return gateways.DeliveryOutcome(gateways.FAILED, errors=["no phone number"])
    try:
        message = render(candidate)
    except Exception as exc:  # a template defect must not stop the run; recorded on the row
        logger.exception("Rendering %s for %s failed", candidate.notification_type, candidate.enrolment_id)
        return gateways.DeliveryOutcome(gateways.FAILED, errors=[f"message could not be rendered: "
                                                                 f"{type(exc).__name__}"])
    return gateways.send_with_fallback(providers, message, candidate.phone)


def mark(results, *, user, now=None):
    """Record the outcomes of one chunk: ``[(indication id, previous attempts, DeliveryOutcome, sent_at)]``."""
    now = now or timezone.now()
    rows = []
    for row_id, previous_attempts, outcome, sent_at in results:
        if outcome.outcome == gateways.SENT:
            status = IndicationStatus.SENT
        elif outcome.outcome == gateways.UNKNOWN:
            status = IndicationStatus.CLAIMED
        else:
            status = IndicationStatus.ERROR
        rows.append({"id": row_id, "status": status, "sent_at": sent_at if status == IndicationStatus.SENT else None,
                     "provider": outcome.provider, "attempts": min(32767, previous_attempts + outcome.attempts),
                     "details": _details(outcome)})
    if rows:
        with transaction.atomic():
            update_rows(NotificationIndication, rows, fields=["status", "sent_at", "provider", "attempts", "details"],
                        user=user, now=now)


def dispatch(candidates, *, user, providers=None, render=None, chunk_size=CLAIM_CHUNK, report=None):
    """Claim, send and mark ``candidates`` chunk by chunk (see the module docstring)."""
    if render is None:
        from policy_notification.detection import render
    providers = gateways.load_providers() if providers is None else providers
    report = report or DispatchReport()
    if connection.in_atomic_block:
        logger.warning("Notifications dispatched inside a transaction: a claim is durable only when it commits")
    started = time.monotonic()
    candidates = list(candidates)
    report.detected += len(candidates)
    for start in range(0, len(candidates), chunk_size):
        chunk = candidates[start:start + chunk_size]
        claimed = claim(chunk, user=user)
        report.claimed += len(claimed)
        report.skipped += len(chunk) - len(claimed)
        results = []
        for candidate in chunk:
            entry = claimed.pop(candidate_key(candidate), None)
            if entry is None:
                continue
            outcome = deliver(candidate, providers, render)
            results.append((entry[0], entry[1], outcome, timezone.now()))
            if outcome.outcome == gateways.SENT:
                report.sent += 1
                report.by_type[str(candidate.notification_type)] += 1
            elif outcome.outcome == gateways.UNKNOWN:
                report.unknown += 1
            else:
                report.failed += 1
        mark(results, user=user)
    if report.claimed >= ANALYZE_AFTER and not connection.in_atomic_block:
        analyze(NotificationIndication)  # the next run's "already handled" test is planned on the real table
    report.seconds += time.monotonic() - started
    return report


def enrolment_content_type(model):
    return ContentType.objects.get_for_model(model).pk


def run(today=None, *, user=None, dry_run=False, providers=None):
    """One scheduled run: detection (every enabled trigger, validation chain) then dispatch.

    ``dry_run``: detection runs in a transaction rolled back afterwards (nothing recorded, nothing sent); the
    report counts the messages that would be sent."""
    from policy_notification.detection import detect

    user = user or notification_user()
    report = DispatchReport()
    started = time.monotonic()
    if dry_run:
        with transaction.atomic():
            candidates = detect(today=today, user=user)
            report.detected = len(candidates)
            report.by_type.update(str(c.notification_type) for c in candidates)
            transaction.set_rollback(True)
        report.seconds = time.monotonic() - started
        return report
    with fewer_collections():
        candidates = detect(today=today, user=user)
        detection_seconds = time.monotonic() - started
        dispatch(candidates, user=user, providers=providers, report=report)
    report.seconds = time.monotonic() - started
    logger.info("Notifications: %s (detection %.2fs)", report.as_dict(), detection_seconds)
    return report


def notification_user():
    from policy_notification import services

    return services.notification_user()
