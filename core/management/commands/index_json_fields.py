"""``index_json_fields [--dry-run]``: build (or drop) the indexes of the JSON keys the schemas declare
searchable (``"searchable": true``), as after a schema change; see ``core.json_indexes``."""
from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    help = "Create the indexes of the JSON attributes declared searchable by the schemas; drop those no longer so."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")

    def handle(self, *args, dry_run=False, **options):
        from core.json_indexes import sync_json_indexes

        if connection.vendor != "postgresql":
            self.stdout.write("Nothing to do: JSON indexes are built on PostgreSQL only.")
            return
        done = sync_json_indexes(dry_run=dry_run)
        verb = ("would create", "would drop") if dry_run else ("created", "dropped")
        for (label, names) in zip(verb, (done["created"], done["dropped"])):
            self.stdout.write(f"{label}: {', '.join(names) if names else 'none'}")
