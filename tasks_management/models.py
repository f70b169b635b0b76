"""Tasks, task groups (sets of executors) and the link of tasks to mutation logs."""
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from core.models import HistoryModel, MutationLog, ObjectMutation, UUIDModel

TASK_TRIAGE_SYSTEM_ID = 2097152
TASK_GROUP_RIGHTS = ("190001", "190002", "190003", "190004")


class TaskGroup(HistoryModel):
    class CompletionPolicy(models.TextChoices):
        ALL = "ALL", _("All executors")
        ANY = "ANY", _("Any executor")
        N = "N", _("N of M executors")

    code = models.CharField(max_length=255)
    completion_policy = models.CharField(max_length=50, choices=CompletionPolicy.choices)
    # N-of-M: how many APPROVED votes complete a task (null = majority of live executors).
    completion_threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    task_allowed_sources = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["code", "is_deleted"])]

    def __str__(self):
        return self.code

    @property
    def task_sources(self):
        return list((self.json_ext or {}).get("task_sources") or [])


class TaskExecutor(HistoryModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING)
    task_group = models.ForeignKey(TaskGroup, on_delete=models.DO_NOTHING)

    class Meta:
        indexes = [models.Index(fields=["task_group", "user", "is_deleted"])]

    def __str__(self):
        return f"{self.user_id} in {self.task_group_id}"


class RuleState(models.TextChoices):
    """CHT task states (task_rules.md §5)."""
    DRAFT = "Draft", _("Draft")
    READY = "Ready", _("Ready")
    CANCELLED = "Cancelled", _("Cancelled")
    COMPLETED = "Completed", _("Completed")
    FAILED = "Failed", _("Failed")


RULE_NON_TERMINAL_STATES = (RuleState.DRAFT, RuleState.READY)
RULE_TERMINAL_STATES = (RuleState.CANCELLED, RuleState.COMPLETED, RuleState.FAILED)


class Task(HistoryModel):
    class Status(models.TextChoices):
        RECEIVED = "RECEIVED", _("Received")
        ACCEPTED = "ACCEPTED", _("Accepted")
        COMPLETED = "COMPLETED", _("Completed")
        FAILED = "FAILED", _("Failed")

    PENDING_STATUSES = (Status.RECEIVED, Status.ACCEPTED)
    TERMINAL_STATUSES = (Status.COMPLETED, Status.FAILED)

    source = models.CharField(max_length=255, null=True, blank=True)
    entity_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.DO_NOTHING)
    entity_id = models.CharField(max_length=255, null=True, blank=True)
    entity = GenericForeignKey("entity_type", "entity_id")
    status = models.CharField(max_length=255, choices=Status.choices, default=Status.RECEIVED)
    executor_action_event = models.CharField(max_length=255, null=True, blank=True)
    business_event = models.CharField(max_length=255, null=True, blank=True)
    business_status = models.JSONField(default=dict, blank=True)
    task_group = models.ForeignKey(TaskGroup, null=True, blank=True, on_delete=models.DO_NOTHING)
    data = models.JSONField(default=dict, blank=True)
    # registered name of the batch serializer making ``data`` readable (register_business_data_serializer)
    business_data_serializer = models.CharField(max_length=255, null=True, blank=True)
    # Rule-generated tasks (task_rules.md §12): all null for ordinary (maker-checker) tasks.
    emission_key = models.CharField(max_length=255, null=True, blank=True, db_index=True)
    rule_name = models.CharField(max_length=100, null=True, blank=True)
    rule_state = models.CharField(max_length=16, null=True, blank=True, choices=RuleState.choices)
    due_date = models.DateField(null=True, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    # indexed by tm_task_rule_assignee_idx (a rule task is written often: no index more than needed)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                                 related_name="rule_tasks", db_index=False)
    # the subject contact's location (row security of dueTasks); null when it has none or is headless
    location = models.ForeignKey("core.Location", null=True, blank=True, on_delete=models.DO_NOTHING,
                                 related_name="+", db_constraint=False, db_index=False)

    class Meta:
        indexes = [
            models.Index(fields=["entity_type", "entity_id", "status"]),
            models.Index(fields=["task_group", "status"]),
            models.Index(fields=["source"]),
            models.Index(fields=["assignee", "rule_state", "due_date"], name="tm_task_rule_assignee_idx"),
            models.Index(fields=["entity_type", "entity_id", "rule_name"], name="tm_task_rule_entity_idx"),
            models.Index(fields=["rule_state", "end_date"], name="tm_task_rule_state_end_idx"),
        ]
        constraints = [
            # one pending (RECEIVED/ACCEPTED) task per entity and business event, so an entity may wait for
            # several different decisions (a payment cycle: an over-limit task and an update task) but never
            # for the same one twice; rule-generated tasks are exempt. (A NULL business event is not unique
            # for the database: TaskValidation.validate_no_pending_task covers that case.)
            # ``json_ext.task_scope`` narrows it within the entity: a payment cycle waits for one over-limit
            # approval per payment plan (payment_cycle), all with the same business event.
            models.UniqueConstraint(
                "entity_type", "entity_id", "business_event",
                Coalesce(KeyTextTransform("task_scope", "json_ext"), Value("")),
                condition=models.Q(status__in=["RECEIVED", "ACCEPTED"], is_deleted=False,
                                   emission_key__isnull=True, entity_id__isnull=False),
                name="tasks_management_one_pending_task_per_entity_event",
                violation_error_message=_("Another task is pending for this entity and business event"),
            ),
            # task_rules.md §12: at most one non-terminal rule task per emission key (terminal rows accumulate
            # as the history of past occurrences until purged)
            models.UniqueConstraint(
                "emission_key", condition=models.Q(rule_state__in=["Draft", "Ready"], is_deleted=False),
                name="tasks_management_one_live_task_per_emission",
                violation_error_message=_("Another live rule task exists for this emission"),
            ),
        ]

    def __str__(self):
        return f"Task {self.id} ({self.source}, {self.status})"

    @property
    def is_terminal(self):
        return self.status in self.TERMINAL_STATUSES

    @classmethod
    def get_queryset(cls, queryset, user):
        """Row security (spec §8.1): admins, triage and 191005 see every live task, executors the tasks of
        their groups once assigned (not RECEIVED)."""
        from tasks_management.utils import visible_tasks

        return visible_tasks(user, queryset)


class TaskRuleContactState(models.Model):
    """CHT's per-contact freshness record (task_rules.md §7.4, §14); headless subjects (a ticket reported by a
    user) have one too, keyed by the report model."""

    contact_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    contact_id = models.CharField(max_length=255)
    calculated_at = models.DateTimeField(null=True, blank=True)
    expire_at = models.DateTimeField(null=True, blank=True)
    is_dirty = models.BooleanField(default=True)
    marked_at = models.DateTimeField(null=True, blank=True, help_text="when it was last marked dirty")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact_type", "contact_id"],
                                               name="tasks_management_rule_contact_state_unique")]
        # the dirty scan reads the whole (narrow) table: no index but the unique one, so refreshes write fast

    def __str__(self):
        return f"{self.contact_type_id}:{self.contact_id} ({'dirty' if self.is_dirty else 'fresh'})"


class TaskRuleEngineState(models.Model):
    """Singleton rows of the rules engine: ``rules_hash`` (the last evaluated rules configuration) and the
    ``refresh`` lease (one refresh at a time across web processes and workers, task_rules.md §14)."""

    key = models.CharField(max_length=64, unique=True)
    value = models.TextField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    date_updated = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.key


class TaskMutation(UUIDModel, ObjectMutation):
    task = models.ForeignKey(Task, on_delete=models.DO_NOTHING, related_name="mutations")
    mutation = models.ForeignKey(MutationLog, on_delete=models.DO_NOTHING, related_name="tasks")
