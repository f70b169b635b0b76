from django.core.management.base import BaseCommand

from reports.summaries import refresh


class Command(BaseCommand):
    help = "Refresh the reports' summary tables (PostgreSQL materialized views); prints each one's duration."

    def handle(self, *args, **options):
        done = refresh()
        if not done:
            self.stdout.write("No summary tables on this database (PostgreSQL only): the reports read live tables.")
        for name, elapsed in done.items():
            self.stdout.write(f"{name}: {elapsed:.0f} ms")
