import json
import logging
import os
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

from core.request_memo import CacheGeneration, memoized

logger = logging.getLogger(__name__)

NO_CHANGES_MESSAGE = "Record has not be updated - there are no changes in fields"
IMIS_ADMIN_SYSTEM_ID = 64
RIGHTS_CACHE_GENERATION_KEY = "core:rights:generation"


# ---------------------------------------------------------------------------------------------
# Small bases
# ---------------------------------------------------------------------------------------------
class UUIDModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True


class ExtendableModel(models.Model):
    json_ext = models.JSONField(null=True, blank=True)

    class Meta:
        abstract = True


def _resolve_acting_user(user=None, username=None):
    if user is None and username:
        user = User.objects.filter(username=username).first()
    if user is None or not getattr(user, "is_authenticated", False):
        raise ValidationError("An acting user is required to save this record")
    return user


class HistoryModelQuerySet(models.QuerySet):
    pass


class HistoryModelManager(models.Manager.from_queryset(HistoryModelQuerySet)):
    """Annotates ``uuid`` so ``filter(uuid=...)`` works like upstream; deleted rows are NOT hidden."""

    def get_queryset(self):
        return super().get_queryset().annotate(uuid=models.F("id"))


class IndexChoosingHistoricalRecords(HistoricalRecords):
    """simple-history indexes every foreign key of a history table. A model whose history is written in bulk
    and read by record id and date (e.g. a month's entitlements, a million rows) lists the fields whose history
    column needs no index of its own in ``HISTORY_UNINDEXED_FIELDS``."""

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for name in getattr(model, "HISTORY_UNINDEXED_FIELDS", ()):
            if name in fields:
                fields[name].db_index = False
        return fields

    def get_extra_fields(self, model, fields):
        """``"history_user"`` in ``HISTORY_UNINDEXED_FIELDS``: the history rows' acting user is a reference as the
        record's own acting users are (``acting_user_field(checked=False)``): neither indexed nor checked row
        by row at commit (a million-row upload writes a million history rows)."""
        extra = super().get_extra_fields(model, fields)
        if "history_user" in getattr(model, "HISTORY_UNINDEXED_FIELDS", ()) and self.user_id_field is None:
            extra["history_user"] = models.ForeignKey(
                self.user_model or settings.AUTH_USER_MODEL, null=True, related_name=self.user_related_name,
                on_delete=models.SET_NULL, db_constraint=False, db_index=False)
        return extra


class ChangeTrackingMixin(models.Model):
    """Which fields a save would change: each record keeps what it held when it was loaded, created or last
    saved. Cheap enough for every row of a list: values are kept as they are (immutable), JSON as its canonical
    text (an edit in place of a dict is seen), no per-field conversion, no deep copy, no signal per instance;
    only a save compares, converting just the fields that differ."""

    class Meta:
        abstract = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._remember_state()

    @staticmethod
    def _comparable(field, value):
        if value is not None and isinstance(field, models.JSONField):
            try:
                return json.dumps(value, sort_keys=True, cls=DjangoJSONEncoder)
            except (TypeError, ValueError):
                return repr(value)
        return value

    def _remember_state(self):
        values = self.__dict__
        self._loaded_state = {field.attname: self._comparable(field, values[field.attname])
                              for field in self._meta.concrete_fields if field.attname in values}

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._remember_state()

    def get_dirty_fields(self, check_relationship=True):
        """``{field name: value when loaded}`` of the fields that differ now (foreign keys by their id)."""
        dirty = {}
        values = self.__dict__
        for field in self._meta.concrete_fields:
            attname = field.attname
            if attname not in self._loaded_state or attname not in values:  # deferred: not loaded
                continue
            if field.remote_field and not check_relationship:
                continue
            before, now = self._loaded_state[attname], self._comparable(field, values[attname])
            if before == now:
                continue
            try:  # an assigned text for a date, a number for a decimal, …: the value it stands for
                if self._comparable(field, field.to_python(values[attname])) == before:
                    continue
            except ValidationError:
                pass
            dirty[field.name] = self._original(field, before)
        return dirty

    @staticmethod
    def _original(field, remembered):
        if isinstance(field, models.JSONField) and isinstance(remembered, str):
            try:
                return json.loads(remembered)
            except ValueError:
                pass
        return remembered

    def is_dirty(self, check_relationship=True):
        return self._state.adding or bool(self.get_dirty_fields(check_relationship))

    def save(self, *args, **kwargs):
        result = super().save(*args, **kwargs)
        self._remember_state()
        return result


def acting_user_field(role, checked=True):
    """The ``user_created`` / ``user_updated`` column of a record (``role``: "created" or "updated").

    ``checked=False`` for the tables written a hundred thousand rows at a time (the registry, enrolments,
    entitlements): the acting users are bookkeeping references (accounts are deactivated, never deleted), which
    the database then neither checks row by row at commit nor indexes. Lists still join them (userUpdated)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, db_column=f"User{role.capitalize()}UUID", on_delete=models.DO_NOTHING,
        related_name=f"%(class)s_user_{role}", db_constraint=checked, db_index=checked,
    )


class BulkWrittenRecord(models.Model):
    """A record of a table written a hundred thousand rows at a time (the registry, enrolments, entitlements): its
    acting users are not checked row by row nor indexed (:func:`acting_user_field`), nor indexed in its history
    table, which is read by record, and neither is the history rows' own acting user. Listed before the ``HistoryModel`` base, so that its fields are the ones kept."""

    HISTORY_UNINDEXED_FIELDS = ("user_created", "user_updated", "history_user")

    user_created = acting_user_field("created", checked=False)
    user_updated = acting_user_field("updated", checked=False)

    class Meta:
        abstract = True


class HistoryModel(ChangeTrackingMixin, models.Model):
    """Every business entity: UUID id, soft delete, version, acting user, history table."""

    id = models.UUIDField(primary_key=True, default=None, editable=False, db_column="UUID")
    is_deleted = models.BooleanField(default=False, db_column="isDeleted")
    json_ext = models.JSONField(null=True, blank=True, db_column="Json_ext")
    date_created = models.DateTimeField(null=True, default=timezone.now, db_column="DateCreated")
    date_updated = models.DateTimeField(null=True, default=timezone.now, db_column="DateUpdated")
    user_created = acting_user_field("created")
    user_updated = acting_user_field("updated")
    version = models.IntegerField(default=1)
    history = IndexChoosingHistoricalRecords(inherit=True)

    objects = HistoryModelManager()

    # Fields whose change alone does not count as an update of the business record.
    _bookkeeping_fields = {"date_updated", "user_updated", "version", "date_created", "user_created"}

    class Meta:
        abstract = True

    @property
    def uuid(self):
        return self.id

    @uuid.setter
    def uuid(self, value):
        # The manager annotates uuid=id; accept the annotation silently.
        pass

    def _full_clean(self):
        try:
            self.full_clean(exclude=["user_created", "user_updated", "id"], validate_unique=False)
        except ValidationError as exc:
            raise ValidationError(
                f"Object {self.__class__.__name__} is not respecting the mandatory fields: {exc.message_dict if hasattr(exc, 'error_dict') else exc.messages}"
            )

    def _changed_fields(self):
        dirty = self.get_dirty_fields(check_relationship=True)
        return {k: v for k, v in dirty.items() if k not in self._bookkeeping_fields}

    def save(self, *args, user=None, username=None, **kwargs):
        user = _resolve_acting_user(user, username)
        now = timezone.now()
        self._history_user = user
        if self.id is None:
            self.id = uuid.uuid4()
            self.user_created = user
            self.user_updated = user
            self.date_created = self.date_created or now
            self.date_updated = now
            kwargs["force_insert"] = True
            self._full_clean()
            return super().save(*args, **kwargs)
        if self._state.adding:
            # Caller supplied an id (imports, fixtures): still an insert.
            self.user_created_id = self.user_created_id or user.pk
            self.user_updated = user
            self._full_clean()
            return super().save(*args, **kwargs)
        if not self._changed_fields():
            raise ValidationError(NO_CHANGES_MESSAGE)
        if getattr(self, "replacement_uuid", None) is not None and "replacement_uuid" not in self._changed_fields():
            raise ValidationError("Update error! You cannot update replaced entity")
        self.date_updated = now
        self.user_updated = user
        self.version = (self.version or 0) + 1
        self._full_clean()
        return super().save(*args, **kwargs)

    def delete(self, *args, user=None, username=None, **kwargs):
        user = _resolve_acting_user(user, username)
        if self.is_dirty(check_relationship=True) and not self._state.adding:
            raise ValidationError("Record has unsaved changes; save or reload it before deleting")
        if self.is_deleted:
            raise ValidationError("Record is already deleted")
        self.is_deleted = True
        self.date_updated = timezone.now()
        self.user_updated = user
        self.version = (self.version or 0) + 1
        self._history_user = user
        super().save(update_fields=["is_deleted", "date_updated", "user_updated", "version"])

    def hard_delete(self, *args, **kwargs):
        return super().delete(*args, **kwargs)

    @classmethod
    def get_queryset(cls, queryset, user):
        """Row security hook for GraphQL types and exports; modules override it."""
        return queryset if queryset is not None else cls.objects.all()


class HistoryBusinessModel(HistoryModel):
    date_valid_from = models.DateTimeField(default=timezone.now, db_column="DateValidFrom")
    date_valid_to = models.DateTimeField(null=True, blank=True, db_column="DateValidTo")
    replacement_uuid = models.UUIDField(null=True, blank=True, db_column="ReplacementUUID")

    class Meta:
        abstract = True

    def replace_object(self, data, **user_lookup):
        """Copy this entity into a new one with ``data`` applied and close this one."""
        user = _resolve_acting_user(user_lookup.get("user"), user_lookup.get("username"))
        now = timezone.now()
        new = self.__class__.objects.get(pk=self.pk)
        new.id = None
        new._state.adding = True
        new.version = 1
        new.date_valid_from = now
        new.date_valid_to = None
        new.replacement_uuid = None
        new.date_created = now
        for key, value in (data or {}).items():
            setattr(new, key, value)
        new.save(user=user)
        if self.date_valid_to is None or self.date_valid_to > now:
            self.date_valid_to = now
        self.replacement_uuid = new.id
        self.save(user=user)
        return new

    def delete(self, *args, **kwargs):
        super().delete(*args, **kwargs)
        # Deleting a replacement re-opens the link on the replaced row.
        replaced = self.__class__.objects.filter(replacement_uuid=self.id)
        replaced.update(replacement_uuid=None)


# ---------------------------------------------------------------------------------------------
# Legacy versioned models (roles, interactive users, locations)
# ---------------------------------------------------------------------------------------------
class VersionedModel(models.Model):
    validity_from = models.DateTimeField(default=timezone.now)
    validity_to = models.DateTimeField(null=True, blank=True)
    legacy_id = models.IntegerField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_current(self):
        return self.validity_to is None

    def delete_history(self):
        self.validity_to = timezone.now()
        self.save(update_fields=["validity_to"])


def filter_validity(arg="validity", prefix="", **kwargs):
    """Q objects selecting rows valid today, or on the date given as ``kwargs[arg]``."""
    validity = kwargs.get(arg)
    if validity is None:
        return [models.Q(**{f"{prefix}validity_to__isnull": True})]
    if hasattr(validity, "date") is False:
        from datetime import datetime, time

        validity = timezone.make_aware(datetime.combine(validity, time(23, 59, 59)))
    return [
        models.Q(**{f"{prefix}validity_from__lte": validity}),
        models.Q(**{f"{prefix}validity_to__isnull": True}) | models.Q(**{f"{prefix}validity_to__gte": validity}),
    ]


class Language(models.Model):
    code = models.CharField(primary_key=True, max_length=5)
    name = models.CharField(max_length=50)
    sort_order = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ("sort_order", "code")

    def __str__(self):
        return self.name


class InteractiveUser(VersionedModel):
    """Profile of a frontend user: names, language, roles and districts hang here."""

    id = models.AutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    last_name = models.CharField(max_length=100)
    other_names = models.CharField(max_length=100)
    email = models.EmailField(max_length=255, null=True, blank=True)
    phone = models.CharField(max_length=50, null=True, blank=True)
    language = models.ForeignKey(Language, on_delete=models.PROTECT, default="en")
    health_facility_id = models.IntegerField(null=True, blank=True)
    history = HistoricalRecords()

    def __str__(self):
        return f"{self.other_names} {self.last_name}"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username, password=None, **extra):
        user = self.model(username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, password, **extra)


_rights_generation = CacheGeneration(RIGHTS_CACHE_GENERATION_KEY)
rights_cache_generation = _rights_generation.current


def invalidate_rights_cache():
    """Called whenever a role, a role right or a user role changes: every cached right set goes."""
    _rights_generation.bump()


def _profile_attribute(name, default=None):
    """A read-only property of the user reading its interactive profile (``default`` for technical users)."""
    return property(lambda user: getattr(user.i_user, name) if user.i_user_id else default)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=150, unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    i_user = models.OneToOneField(
        InteractiveUser, null=True, blank=True, on_delete=models.SET_NULL, related_name="user"
    )
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = []

    def __str__(self):
        return self.username

    # --- openIMIS compatibility surface -------------------------------------------------------
    @property
    def _u(self):
        return self.i_user or self

    @property
    def login_name(self):
        return self.username

    @property
    def id_for_audit(self):
        return self.i_user_id if self.i_user_id else self.id

    last_name = _profile_attribute("last_name")
    other_names = _profile_attribute("other_names")
    email = _profile_attribute("email")
    phone = _profile_attribute("phone")
    language = _profile_attribute("language_id", default="en")

    @property
    def rights(self):
        """Distinct right codes (ints) of the user's current roles; empty for technical users."""
        return self._access()[0] if self.i_user_id else []

    @property
    def is_imis_admin(self):
        return self._access()[1] if self.i_user_id else False

    def _access(self):
        """``(rights, is IMIS admin)``: one cache entry per user and rights generation, read once per request."""
        return memoized(("access", self.pk), self._load_access)

    def _load_access(self):
        key = f"core:access:{rights_cache_generation()}:{self.pk}"
        access = cache.get(key)
        if access is None:
            rights = sorted(set(RoleRight.objects.filter(
                validity_to__isnull=True,
                role__validity_to__isnull=True,
                role__is_blocked=False,
                role__user_roles__user_id=self.i_user_id,
                role__user_roles__validity_to__isnull=True,
            ).values_list("right_id", flat=True)))
            is_admin = UserRole.objects.filter(
                user_id=self.i_user_id,
                validity_to__isnull=True,
                role__validity_to__isnull=True,
                role__is_blocked=False,  # a blocked IMIS Administrator role grants nothing
                role__is_system=IMIS_ADMIN_SYSTEM_ID,
            ).exists()
            access = (rights, is_admin)
            cache.set(key, access, None)
        return access

    def has_perm(self, perm, obj=None):
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        if self.i_user_id:
            if self.is_imis_admin:
                return True
            try:
                return int(str(perm)) in self.rights
            except (TypeError, ValueError):
                pass
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label):
        # Django admin lists an app only when this is true; IMIS administrators pass has_perm for every
        # model, so they must see every app on /api/admin/ too (not "You don't have permission …").
        if self.is_active and self.is_imis_admin:
            return True
        return super().has_module_perms(app_label)

    def has_perms(self, perm_list, obj=None, list_evaluation_or=True):
        if not perm_list:
            return True
        if isinstance(perm_list, (str, int)):
            perm_list = [perm_list]
        checks = (self.has_perm(p, obj) for p in perm_list)
        return any(checks) if list_evaluation_or else all(checks)

    def get_rights_for_frontend(self):
        """The admin sees every menu: give it every right any module declares."""
        if self.is_imis_admin or self.is_superuser:
            from core.module_config import all_declared_rights

            return sorted(set(self.rights) | set(all_declared_rights()))
        return self.rights


class Role(VersionedModel):
    id = models.AutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=50)
    alt_language = models.CharField(max_length=50, null=True, blank=True)
    is_system = models.IntegerField(default=0)
    is_blocked = models.BooleanField(default=False)
    audit_user_id = models.CharField(max_length=64, null=True, blank=True)
    history = HistoricalRecords()

    def __str__(self):
        return self.name


class RoleRight(VersionedModel):
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="rights")
    right_id = models.IntegerField(db_index=True)
    audit_user_id = models.CharField(max_length=64, null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        indexes = [models.Index(fields=["role", "right_id"])]


class UserRole(VersionedModel):
    user = models.ForeignKey(InteractiveUser, on_delete=models.CASCADE, related_name="user_roles")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="user_roles")
    audit_user_id = models.CharField(max_length=64, null=True, blank=True)
    history = HistoricalRecords()


class MutationLog(UUIDModel, ExtendableModel):
    RECEIVED = 0
    ERROR = 1
    SUCCESS = 2
    STATUS_CHOICES = ((RECEIVED, "Received"), (ERROR, "Error"), (SUCCESS, "Success"))

    json_content = models.TextField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="mutation_logs")
    request_date_time = models.DateTimeField(auto_now_add=True, db_index=True)
    client_mutation_id = models.CharField(max_length=255, null=True, blank=True, db_index=True)
    client_mutation_label = models.CharField(max_length=255, null=True, blank=True)
    client_mutation_details = models.TextField(null=True, blank=True)
    status = models.IntegerField(choices=STATUS_CHOICES, default=RECEIVED)
    error = models.TextField(null=True, blank=True)
    autogenerated_code = models.TextField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "client_mutation_id"])]
        constraints = [
            # a client mutation id is an idempotency key per user
            models.UniqueConstraint(
                fields=["user", "client_mutation_id"],
                condition=models.Q(client_mutation_id__isnull=False, user__isnull=False),
                name="core_mutationlog_unique_client_id_per_user",
            )
        ]

    def mark_as_successful(self):
        MutationLog.objects.filter(pk=self.pk, status=self.RECEIVED).update(status=self.SUCCESS)
        self.refresh_from_db(fields=["status"])

    def mark_as_failed(self, error):
        if not isinstance(error, str):
            error = json.dumps(error, default=str)
        MutationLog.objects.filter(pk=self.pk).update(status=self.ERROR, error=error)
        self.status, self.error = self.ERROR, error


class ObjectMutation:
    """Mixin for ``<Model>Mutation`` link tables (model FK + ``mutation`` FK)."""

    @classmethod
    def object_mutated(cls, user, mutation_log_id=None, client_mutation_id=None, **kwargs):
        try:
            if mutation_log_id is None:
                log = (MutationLog.objects.filter(client_mutation_id=client_mutation_id, user=user)
                       .order_by("-request_date_time").first())
                if log is None:
                    return None
                mutation_log_id = log.id
            with transaction.atomic():  # a savepoint: a failed link leaves the mutation's transaction usable
                return cls.objects.create(mutation_id=mutation_log_id, **kwargs)
        except Exception:  # linking is best effort, it must never break the mutation
            logger.exception("Could not link %s to mutation log %s", cls.__name__, mutation_log_id)
            return None


class RoleMutation(UUIDModel, ObjectMutation):
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="mutations")
    mutation = models.ForeignKey(MutationLog, on_delete=models.CASCADE, related_name="roles")


class UserMutation(UUIDModel, ObjectMutation):
    core_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mutations")
    mutation = models.ForeignKey(MutationLog, on_delete=models.CASCADE, related_name="users")


# ---------------------------------------------------------------------------------------------
# Locations
# ---------------------------------------------------------------------------------------------
class Location(VersionedModel):
    REGION, DISTRICT, WARD, VILLAGE = "R", "D", "W", "V"
    TYPE_CHOICES = ((REGION, "Region"), (DISTRICT, "District"), (WARD, "Ward"), (VILLAGE, "Village"))
    LEVELS = (REGION, DISTRICT, WARD, VILLAGE)

    id = models.AutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(max_length=50, db_index=True)
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=1, choices=TYPE_CHOICES)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    json_ext = models.JSONField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        indexes = [models.Index(fields=["type", "validity_to"])]

    def __str__(self):
        return f"{self.code} {self.name}"


class UserDistrict(VersionedModel):
    user = models.ForeignKey(InteractiveUser, on_delete=models.CASCADE, related_name="user_districts")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="user_districts")
    history = HistoricalRecords()


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------
class ModuleConfiguration(UUIDModel):
    LAYER_FRONTEND, LAYER_BACKEND = "fe", "be"
    module = models.CharField(max_length=80)
    layer = models.CharField(max_length=2, choices=((LAYER_FRONTEND, "frontend"), (LAYER_BACKEND, "backend")),
                             default=LAYER_BACKEND)
    version = models.CharField(max_length=10, default="1")
    config = models.TextField(default="{}")
    is_exposed = models.BooleanField(default=False)
    is_disabled_until = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    def __str__(self):
        return f"{self.module} ({self.layer})"

    def clean(self):
        try:
            value = json.loads(self.config or "{}")
        except ValueError as exc:
            raise ValidationError({"config": f"config must be a JSON object: {exc}"})
        if not isinstance(value, dict):
            raise ValidationError({"config": "config must be a JSON object"})

    @classmethod
    def get_or_default(cls, module, default, layer="be"):
        if os.environ.get("NO_DATABASE"):
            return default
        try:
            now = timezone.now()
            row = (
                cls.objects.filter(module=module, layer=layer)
                .filter(models.Q(is_disabled_until__isnull=True) | models.Q(is_disabled_until__lt=now))
                .first()
            )
            if row is None:
                return default
            return {**default, **json.loads(row.config)}
        except Exception:  # unmigrated database, bad JSON: fall back to the code defaults
            logger.debug("ModuleConfiguration for %s unavailable, using defaults", module, exc_info=True)
            return default


# ---------------------------------------------------------------------------------------------
# Exports
# ---------------------------------------------------------------------------------------------
def export_upload_to(instance, filename):
    return f"query_exports/user_{instance.user_id}/{filename}"


def default_export_expiry():
    return timezone.now() + timedelta(days=1)


class ExportableQueryModel(UUIDModel):
    name = models.CharField(max_length=255, unique=True)
    model = models.CharField(max_length=255)
    content = models.FileField(upload_to=export_upload_to)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    sql_query = models.TextField(blank=True, default="")
    create_date = models.DateTimeField(default=timezone.now)
    expire_date = models.DateTimeField(default=default_export_expiry)
    is_deleted = models.BooleanField(default=False)
    file_format = models.CharField(max_length=5, default="csv")

    def __str__(self):
        return self.name
from core.models_auth import RevokedToken  # noqa: E402,F401
