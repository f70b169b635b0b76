"""Registry of individuals, groups (households), memberships and upload data sources."""
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import (
    BulkWrittenRecord,
    HistoryBusinessModel,
    HistoryModel,
    Location,
    MutationLog,
    ObjectMutation,
    UUIDModel,
)


def _location_q(user, prefix):
    from core.location import location_manager

    return location_manager.build_user_location_filter_query(user, prefix=prefix)


def _rows_at_allowed_locations(model, queryset, user, prefix):
    """Row security by one location path: rows whose ``prefix`` location is allowed to ``user`` or not set."""
    return (model.objects.all() if queryset is None else queryset).filter(_location_q(user, prefix))


# The registry's tables are written a million rows at a time (imports, enrolments): BulkWrittenRecord; a
# membership's group and individual are indexed by the composite indexes the lists use.
class Individual(BulkWrittenRecord, HistoryBusinessModel):
    first_name = models.CharField(max_length=255, null=False)
    last_name = models.CharField(max_length=255, null=False)
    dob = models.DateField(null=False)
    json_ext = models.JSONField(default=dict, blank=True, db_column="Json_ext")
    location = models.ForeignKey(Location, models.DO_NOTHING, blank=True, null=True, related_name="individuals")

    class Meta:
        indexes = [
            # the orders the lists page by: a name, then the primary key that closes every order (apply_order),
            # so the first page and the key-sought ones read ten index entries, whatever a name's frequency
            models.Index(fields=["last_name", "id"], name="ind_individual_last_name_idx"),
            models.Index(fields=["first_name", "id"], name="ind_individual_first_name_id"),
            models.Index(fields=["dob"], name="ind_individual_dob_idx"),
            models.Index(fields=["is_deleted", "date_created"], name="ind_individual_del_created_idx"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"

    @classmethod
    def get_queryset(cls, queryset, user):
        """Row security (spec §4): own location allowed, or a membership in a group whose location is allowed."""
        queryset = queryset if queryset is not None else cls.objects.all()
        own = _location_q(user, "location")
        if not own:  # unrestricted user: empty Q
            return queryset
        via_group = GroupIndividual.objects.filter(_location_q(user, "group__location")).values("individual_id")
        return queryset.filter(own | Q(id__in=via_group))


class Group(BulkWrittenRecord, HistoryBusinessModel):
    code = models.CharField(max_length=64, blank=False, null=False)
    json_ext = models.JSONField(default=dict, blank=True, db_column="Json_ext")
    location = models.ForeignKey(Location, models.DO_NOTHING, blank=True, null=True, related_name="groups")

    class Meta:
        indexes = [
            models.Index(fields=["code"], name="ind_group_code_idx"),
            models.Index(fields=["is_deleted", "date_created"], name="ind_group_del_created_idx"),
        ]

    def __str__(self):
        return self.code

    @classmethod
    def get_queryset(cls, queryset, user):
        return _rows_at_allowed_locations(cls, queryset, user, "location")


class GroupIndividual(BulkWrittenRecord, HistoryModel):
    class Role(models.TextChoices):
        HEAD = "HEAD", _("HEAD")
        SPOUSE = "SPOUSE", _("SPOUSE")
        SON = "SON", _("SON")
        DAUGHTER = "DAUGHTER", _("DAUGHTER")
        GRANDFATHER = "GRANDFATHER", _("GRANDFATHER")
        GRANDMOTHER = "GRANDMOTHER", _("GRANDMOTHER")
        MOTHER = "MOTHER", _("MOTHER")
        FATHER = "FATHER", _("FATHER")

    class RecipientType(models.TextChoices):
        PRIMARY = "PRIMARY", _("PRIMARY")
        SECONDARY = "SECONDARY", _("SECONDARY")

    # written by the hundred thousand with the groups and individuals they join (uploads): not re-checked row by
    # row at commit (db_constraint=False); records of the registry are soft-deleted, never removed
    group = models.ForeignKey(Group, models.DO_NOTHING, db_index=False, db_constraint=False)
    individual = models.ForeignKey(Individual, models.DO_NOTHING, db_index=False, db_constraint=False)
    role = models.CharField(max_length=255, choices=Role.choices, null=True, blank=True)
    recipient_type = models.CharField(max_length=255, choices=RecipientType.choices, null=True, blank=True)
    json_ext = models.JSONField(default=dict, blank=True, db_column="Json_ext")

    HISTORY_UNINDEXED_FIELDS = ("group", "individual", *BulkWrittenRecord.HISTORY_UNINDEXED_FIELDS)

    class Meta:
        verbose_name, verbose_name_plural = "group membership", "group memberships"
        indexes = [
            models.Index(fields=["group", "is_deleted"], name="ind_gi_group_del_idx"),
            models.Index(fields=["individual", "is_deleted"], name="ind_gi_individual_del_idx"),
        ]

    def __str__(self):
        return f"{self.individual} in {self.group}"

    @classmethod
    def get_queryset(cls, queryset, user):
        return _rows_at_allowed_locations(cls, queryset, user, "group__location")

    def save(self, *args, align=True, **kwargs):
        super().save(*args, **kwargs)
        if align:
            from individual.membership import align_group_after_membership_change

            align_group_after_membership_change(self, self._history_user)

    def delete(self, *args, align=True, **kwargs):
        super().delete(*args, **kwargs)
        if align:
            from individual.membership import align_group_after_membership_change

            align_group_after_membership_change(self, self._history_user)


class IndividualDataSourceUpload(HistoryModel):
    class Status(models.TextChoices):
        PENDING = "PENDING", _("PENDING")
        TRIGGERED = "TRIGGERED", _("TRIGGERED")
        IN_PROGRESS = "IN_PROGRESS", _("IN_PROGRESS")
        SUCCESS = "SUCCESS", _("SUCCESS")
        PARTIAL_SUCCESS = "PARTIAL_SUCCESS", _("PARTIAL_SUCCESS")
        WAITING_FOR_VERIFICATION = "WAITING_FOR_VERIFICATION", _("WAITING_FOR_VERIFICATION")
        FAIL = "FAIL", _("FAIL")

    source_name = models.CharField(max_length=255, null=False)
    source_type = models.CharField(max_length=255, null=False)
    status = models.CharField(max_length=255, choices=Status.choices, default=Status.PENDING)
    error = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = "registry upload", "registry uploads"

    def __str__(self):
        return f"{self.source_name} ({self.status})"


class UploadedRecord(BulkWrittenRecord, HistoryModel):
    """One record of an upload: the raw data in ``json_ext``, its validation result, the registry row it became.

    Its references (the upload, the registry row) are written with it a hundred thousand at a time and are not
    re-checked row by row at commit (``db_constraint=False``): uploads and registry records are soft-deleted,
    never removed. Its history is read by record: those columns are not indexed there."""

    HISTORY_UNINDEXED_FIELDS = ("upload", *BulkWrittenRecord.HISTORY_UNINDEXED_FIELDS)

    upload = models.ForeignKey(IndividualDataSourceUpload, models.DO_NOTHING, null=True, blank=True, db_index=False,
                               db_constraint=False)
    validations = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True


class IndividualDataSource(UploadedRecord):
    HISTORY_UNINDEXED_FIELDS = ("individual", *UploadedRecord.HISTORY_UNINDEXED_FIELDS)

    individual = models.ForeignKey(Individual, models.DO_NOTHING, null=True, blank=True, db_constraint=False)

    class Meta:
        verbose_name, verbose_name_plural = "uploaded individual row", "uploaded individual rows"
        indexes = [models.Index(fields=["upload", "is_deleted"], name="ind_ids_upload_del_idx")]


class IndividualDataUploadRecords(HistoryModel):
    data_upload = models.ForeignKey(IndividualDataSourceUpload, models.DO_NOTHING, null=False)
    workflow = models.CharField(max_length=50)

    class Meta:
        verbose_name, verbose_name_plural = "registry upload workflow run", "registry upload workflow runs"

    def __str__(self):
        return f"{self.workflow} {self.data_upload_id}"


class GroupDataSource(UploadedRecord):
    HISTORY_UNINDEXED_FIELDS = ("group", *UploadedRecord.HISTORY_UNINDEXED_FIELDS)

    group = models.ForeignKey(Group, models.DO_NOTHING, null=True, blank=True, db_constraint=False)

    class Meta:
        verbose_name, verbose_name_plural = "uploaded group row", "uploaded group rows"
        indexes = [models.Index(fields=["upload", "is_deleted"], name="ind_gds_upload_del_idx")]


# Links between mutation logs and the records they touched (clientMutationId filter on lists).
class IndividualMutation(UUIDModel, ObjectMutation):
    individual = models.ForeignKey(Individual, models.DO_NOTHING, related_name="mutations")
    mutation = models.ForeignKey(MutationLog, models.DO_NOTHING, related_name="individuals")


class GroupMutation(UUIDModel, ObjectMutation):
    group = models.ForeignKey(Group, models.DO_NOTHING, related_name="mutations")
    mutation = models.ForeignKey(MutationLog, models.DO_NOTHING, related_name="groups")
