import os
import secrets

from django.core.management.base import BaseCommand
from django.db import transaction

from core.models import IMIS_ADMIN_SYSTEM_ID, InteractiveUser, Role, User, UserRole


def ensure_admin(username="Admin", password=None, stdout=None):
    """Create (or repair) the interactive administrator. Returns (user, password or None if unchanged)."""
    with transaction.atomic():
        role = Role.objects.get(is_system=IMIS_ADMIN_SYSTEM_ID, validity_to__isnull=True)
        user = User.objects.filter(username=username).select_related("i_user").first()
        created_password = None
        if user is None:
            i_user = InteractiveUser.objects.create(last_name="Administrator", other_names="Admin",
                                                    language_id="en")
            user = User(username=username, i_user=i_user, is_staff=True, is_superuser=False)
            created_password = password or secrets.token_urlsafe(12)
            user.set_password(created_password)
            user.save()
        elif password:
            user.set_password(password)
            user.save(update_fields=["password"])
            created_password = password
        if not user.i_user_id:
            user.i_user = InteractiveUser.objects.create(last_name="Administrator", other_names="Admin")
            user.save(update_fields=["i_user"])
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        if not UserRole.objects.filter(user_id=user.i_user_id, role=role, validity_to__isnull=True).exists():
            UserRole.objects.create(user_id=user.i_user_id, role=role)
    return user, created_password


class Command(BaseCommand):
    help = ("Create the interactive administrator (IMIS Administrator role, Django admin access). Idempotent: "
            "an existing account keeps its password unless --password is given.")

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("ADMIN_USERNAME", "Admin"))
        parser.add_argument("--password", default=os.environ.get("ADMIN_PASSWORD"),
                            help="password to set (default: random, printed once)")

    def handle(self, *args, username, password, **options):
        user, new_password = ensure_admin(username, password)
        if new_password:
            self.stdout.write(self.style.SUCCESS(f"Administrator: username={user.username} password={new_password}"))
        else:
            self.stdout.write(f"Administrator {user.username} already exists (password unchanged)")
