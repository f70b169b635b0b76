"""Process a payment cycle now, in this process: ``process_payment_cycle --year 2025 --month 3`` creates and
processes the monthly cycle; ``--cycle <uuid>`` (re)computes an existing PENDING cycle."""
import json

from django.core.management.base import BaseCommand, CommandError

from core.management.arguments import acting_user


class Command(BaseCommand):
    help = "Compute the entitlements of a payment cycle (every payment plan due in it)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int)
        parser.add_argument("--month", type=int)
        parser.add_argument("--cycle", help="uuid of an existing PENDING cycle")
        parser.add_argument("--username", default=None, help="acting user (default: the first superuser)")

    def handle(self, *args, year=None, month=None, cycle=None, username=None, **options):
        from payment_cycle.processing import BenefitPlanPaymentCycleService

        if not cycle and not (year and month):
            raise CommandError("Give --year and --month, or --cycle")
        user = acting_user(username)
        result = BenefitPlanPaymentCycleService(user).process(year=year, month=month, payment_cycle_id=cycle)
        self.stdout.write(json.dumps(result, indent=2, default=str))
        if not result.get("success"):
            raise CommandError(result.get("detail") or result.get("message"))
