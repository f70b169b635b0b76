"""Reads of rule-generated tasks (task_rules.md §15): a user's due tasks and the per-state breakdown."""
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, FloatField, IntegerField, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from core.location import location_manager
from tasks_management.models import RuleState, Task, TaskGroup
from tasks_management.utils import can_see_all_tasks, visible_tasks


def target_user_id(caller, user_id=None):
    """The user whose due tasks are read: the caller, or (IMIS admin, triage, 191005) anyone."""
    if user_id is None or str(user_id) == str(caller.id):
        return caller.id
    if not can_see_all_tasks(caller):
        raise PermissionDenied("unauthorized")
    return user_id


def rule_tasks_visible_to(caller, queryset=None):
    """Rule tasks the caller may read: task row security plus the subject's location (row security)."""
    queryset = Task.objects.filter(emission_key__isnull=False) if queryset is None else queryset
    return location_manager.build_user_location_filter_query(caller, prefix="location",
                                                             queryset=visible_tasks(caller, queryset))


def assigned_to(user_id):
    """Rule tasks of ``user_id``: assigned to them, or of a live group they execute."""
    groups = TaskGroup.objects.filter(is_deleted=False, taskexecutor__user_id=user_id,
                                      taskexecutor__is_deleted=False).values("id")
    return Q(assignee_id=user_id) | Q(task_group__in=groups)


def ordered_by_priority(queryset):
    """Priority (high, then numeric score descending, then none) → due date → creation."""
    score = Cast(KeyTextTransform("priority_score", "data"), FloatField())
    return queryset.annotate(priority_score_value=score).annotate(
        priority_rank=Case(When(data__priority="high", then=Value(0)),
                           When(priority_score_value__isnull=False, then=Value(1)),
                           default=Value(2), output_field=IntegerField()),
    ).order_by("priority_rank", "-priority_score_value", "due_date", "date_created", "id")


def due_tasks(caller, user_id=None, include_draft=False, overdue_only=False, rule_names=None, contact_ids=None,
              due_date__gte=None, due_date__lte=None, decay=True):
    target = target_user_id(caller, user_id)
    base = Task.objects.filter(emission_key__isnull=False, is_deleted=False).filter(assigned_to(target))
    if decay:
        from tasks_management.rules.engine import update_temporal_states

        update_temporal_states(queryset=base)
    states = [RuleState.READY, RuleState.DRAFT] if include_draft else [RuleState.READY]
    queryset = base.filter(rule_state__in=states)
    if overdue_only:
        queryset = queryset.filter(rule_state=RuleState.READY, due_date__lt=timezone.localdate())
    if rule_names:
        queryset = queryset.filter(rule_name__in=list(rule_names))
    if contact_ids:
        queryset = queryset.filter(entity_id__in=[str(c) for c in contact_ids])
    if due_date__gte:
        queryset = queryset.filter(due_date__gte=due_date__gte)
    if due_date__lte:
        queryset = queryset.filter(due_date__lte=due_date__lte)
    return ordered_by_priority(rule_tasks_visible_to(caller, queryset))


def breakdown(caller, contact_ids=None, rule_names=None):
    """``[{state, count}]`` of the rule tasks the caller may read (every state, zeros included)."""
    queryset = rule_tasks_visible_to(caller, Task.objects.filter(emission_key__isnull=False))
    if contact_ids:
        queryset = queryset.filter(entity_id__in=[str(c) for c in contact_ids])
    if rule_names:
        queryset = queryset.filter(rule_name__in=list(rule_names))
    counts = {row["rule_state"]: row["n"] for row in queryset.order_by().values("rule_state").annotate(n=Count("id"))}
    return [{"state": state.value, "count": counts.get(state.value, 0)} for state in RuleState]
