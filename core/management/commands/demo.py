from django.conf import settings
from django.core.management.base import BaseCommand

from core.module_config import module_parts
from core.management.commands.create_admin import ensure_admin
from core.management.commands.seed_locations import seed_locations


class DemoContext:
    """Handed to each module's ``demo.contribute(ctx)``: shared objects and a place for credentials."""

    def __init__(self, admin, villages, stdout, style):
        self.admin = admin
        self.villages = villages
        self.stdout = stdout
        self.style = style
        self.credentials = []
        self.finishers = []

    def after_all(self, finish):
        """Run ``finish()`` once every module has contributed (e.g. what derives from the other modules' data)."""
        self.finishers.append(finish)

    def finish(self):
        finishers, self.finishers = self.finishers, []
        for finish in finishers:
            finish()

    def add_credentials(self, username, password, description=""):
        self.credentials.append((username, password, description))

    def log(self, message):
        self.stdout.write(f"  {message}")


class Command(BaseCommand):
    help = ("Load demo data: the administrator, a location tree and each installed module's contribution "
            "(module.demo.contribute). Idempotent; prints the credentials it created.")

    def add_arguments(self, parser):
        parser.add_argument("--admin-password", default=None,
                            help="set this administrator password (default: random on first run)")

    def handle(self, *args, admin_password=None, **options):
        admin, password = ensure_admin("Admin", admin_password)
        villages = seed_locations()
        ctx = DemoContext(admin, villages, self.stdout, self.style)
        if password:
            ctx.add_credentials(admin.username, password, "IMIS Administrator (frontend + /api/admin)")
        for module, demo in module_parts("demo"):
            self.stdout.write(f"{module}:")
            demo.contribute(ctx)
        ctx.finish()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        if ctx.credentials:
            self.stdout.write("Credentials created now (shown once):")
            for username, pwd, description in ctx.credentials:
                self.stdout.write(f"  {username} / {pwd}  {description}")
        else:
            self.stdout.write("No new accounts were created (existing passwords unchanged; "
                              "use `manage.py create_admin --password ...` to reset).")
