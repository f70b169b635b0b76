"""Generate fake individuals in households, fast: bulk inserts with history rows and a progress bar; or, with
``--csv``, a fake upload file of such people (some of them invalid with ``--bad-rows``) to try the imports."""
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.management.arguments import acting_user, non_negative_int, positive_int
from core.models import Location
from individual.bulk import create_households


class Command(BaseCommand):
    help = "Create fake individuals in households (bulk, with history rows)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=positive_int, default=100, help="number of individuals (default 100)")
        parser.add_argument("--group-size", type=non_negative_int, default=5,
                            help="household size; 0 creates individuals without households (default 5)")
        parser.add_argument("--locations", default="all",
                            help='comma-separated village codes, "all" (every village) or "none"')
        parser.add_argument("--username", default=None, help="acting user (default: first superuser/admin)")
        parser.add_argument("--batch-size", type=positive_int, default=10000,
                            help="rows per insert (default 10000)")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--csv", default=None, metavar="PATH",
                            help="write an upload file (the columns of the demo schema) instead of the database")
        parser.add_argument("--bad-rows", type=non_negative_int, default=0,
                            help="with --csv: rows breaking one validation rule each (default 0)")

    def handle(self, *args, count, group_size, locations, username, batch_size, seed, csv=None, bad_rows=0,
               **options):
        if count < 1 or group_size < 0 or batch_size < 1:  # call_command(count=0) bypasses the parser's types
            raise CommandError("--count and --batch-size must be at least 1, --group-size must not be negative")
        if csv:
            from individual.demo import write_upload_csv

            write_upload_csv(csv, count, group_size, bad_rows, seed)
            self.stdout.write(self.style.SUCCESS(f"Wrote {count} rows ({bad_rows} invalid) to {csv}"))
            return
        user = acting_user(username)
        villages = self._villages(locations)
        with tqdm(total=count, unit="ind", disable=options.get("verbosity", 1) == 0) as bar:
            individuals, groups = create_households(user, count, group_size, villages, batch_size=batch_size,
                                                    seed=seed, progress=bar)
        self.stdout.write(self.style.SUCCESS(f"Created {individuals} individuals in {groups} groups"))

    def _villages(self, locations):
        if locations == "none":
            return [None]
        queryset = Location.objects.filter(type="V", validity_to__isnull=True)
        if locations != "all":
            codes = [c.strip() for c in locations.split(",") if c.strip()]
            queryset = queryset.filter(code__in=codes)
            found = set(queryset.values_list("code", flat=True))
            missing = sorted(set(codes) - found)
            if missing:
                raise CommandError(f"Unknown village codes: {', '.join(missing)}")
        villages = list(queryset)
        return villages or [None]
