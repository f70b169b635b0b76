import os
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.models import IMIS_ADMIN_SYSTEM_ID, InteractiveUser, Role, User, UserRole, invalidate_rights_cache


def check_password_policy(password, user):
    """A password given on the command line or in the environment follows the same policy as one set from the
    frontend (``AUTH_PASSWORD_VALIDATORS``): ``CommandError`` naming every rule it breaks."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise CommandError(f"The password was refused: {' '.join(exc.messages)}") from exc


def ensure_admin(username="Admin", password=None, stdout=None):
    """Create (or repair) the interactive administrator. Returns (user, password or None if unchanged).

    Repairing brings back an existing account however it was disabled: reactivated (its profile undeleted),
    staff, holding the IMIS Administrator role, that role unblocked. A given password must pass the policy;
    without one an existing account keeps its password."""
    with transaction.atomic():
        role = Role.objects.select_for_update().get(is_system=IMIS_ADMIN_SYSTEM_ID, validity_to__isnull=True)
        user = User.objects.filter(username=username).select_related("i_user").first()
        if password:
            check_password_policy(password, user or User(username=username))
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
            user.i_user = InteractiveUser.objects.create(last_name="Administrator", other_names="Admin",
                                                         language_id="en")
            user.save(update_fields=["i_user"])
        elif user.i_user.validity_to is not None:
            user.i_user.validity_to = None
            user.i_user.save(update_fields=["validity_to"])
        if not (user.is_staff and user.is_active):
            user.is_staff = user.is_active = True
            user.save(update_fields=["is_staff", "is_active"])
        if role.is_blocked:
            role.is_blocked = False
            role.save(update_fields=["is_blocked"])
        if not UserRole.objects.filter(user_id=user.i_user_id, role=role, validity_to__isnull=True).exists():
            UserRole.objects.create(user_id=user.i_user_id, role=role)
    invalidate_rights_cache()
    return user, created_password


class Command(BaseCommand):
    help = ("Create or repair the interactive administrator (active, IMIS Administrator role unblocked, Django "
            "admin access). Idempotent: an existing account keeps its password unless --password is given (it "
            "must pass the password policy).")

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
