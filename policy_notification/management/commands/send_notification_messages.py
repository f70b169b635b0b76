"""Run the notification triggers and send the messages once, now, in this process:
``send_notification_messages [--dry-run] [--date YYYY-MM-DD]``."""
import datetime
import json

from django.core.management.base import BaseCommand, CommandError


def _date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, not {value!r}")


class Command(BaseCommand):
    help = "Detect the enrolment events to notify (enabled triggers) and send the messages through the providers."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="detect and count only: nothing is recorded, nothing is sent")
        parser.add_argument("--date", help="run as if today were this date (YYYY-MM-DD)")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args, dry_run=False, date=None, json=False, **options):
        from policy_notification.dispatch import run

        from django.core.exceptions import ImproperlyConfigured

        today = _date(date) if date else None
        try:
            report = run(today=today, dry_run=dry_run)
        except ImproperlyConfigured as exc:  # e.g. no user to record the run as
            raise CommandError(str(exc))
        counts = report.as_dict()
        if json:
            self.stdout.write(_json(counts))
            return
        if dry_run:
            self.stdout.write(f"dry run: {report.detected} message(s) would be sent")
        else:
            self.stdout.write(f"detected: {report.detected}, sent: {report.sent}, failed: {report.failed}, "
                              f"unknown outcome: {report.unknown}, already handled: {report.skipped}")
        for name, count in sorted(report.by_type.items()):
            self.stdout.write(f"  {name}: {count}")


def _json(counts):
    return json.dumps(counts, sort_keys=True)
