"""Bindings: a write that changes what the summarised reports count (a service call, or any ``core.bulk``
write into a summarised table) asks for a summary refresh (debounced:
at most one queued refresh per ``REFRESH_DEBOUNCE_SECONDS``; only with a celery broker, so a request never
waits for a refresh; the scheduled job covers the rest). Names of modules not installed are skipped."""
from django.conf import settings
from django.core.cache import cache

from core.signals import REGISTERED_SERVICE_SIGNALS, ServiceSignalBindType, bind_service_signal

REFRESH_DEBOUNCE_SECONDS = 60
WATCHED = ("beneficiary_service.update", "beneficiary_service.create", "group_beneficiary_service.update",
           "group_beneficiary_service.create", "payment_cycle_service.update")


def on_summarised_write(**kwargs):
    from reports.summaries import refresh_soon

    if getattr(settings, "CELERY_BROKER_URL", "") and cache.add("reports:refresh-soon", 1,
                                                                 REFRESH_DEBOUNCE_SECONDS):
        refresh_soon()


def on_bulk_write(sender, count, **kwargs):
    """A set-based write (core.bulk: imports, enrolment by criteria, payment processing, reconciliation) into a
    table a summary reads."""
    from reports.summaries import SUMMARIES

    if sender._meta.app_label in {module for module, _ in SUMMARIES.values()}:
        on_summarised_write()


def bind_service_signals():
    from core.bulk import bulk_written

    for name in WATCHED:
        if name in REGISTERED_SERVICE_SIGNALS:
            bind_service_signal(name, on_summarised_write, ServiceSignalBindType.AFTER)
    bulk_written.connect(on_bulk_write, dispatch_uid="reports-summaries-after-bulk-writes")
