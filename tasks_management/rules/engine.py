"""The rules engine (task_rules.md §2, §7, §13): emissions, refresh, temporal decay, purge.

Set-based: a chunk of ``task_rules_batch_size`` subjects costs a constant number of SQL statements — the
contacts, each report source, the existing rule tasks (locked), one bulk insert, one bulk update (both with
their history rows, ``core.bulk``) and the freshness records — whatever the number of emissions.
"""
import datetime
import json
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Optional

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core import bulk
from tasks_management.apps import TasksManagementConfig
from tasks_management.models import RuleState, Task, TaskGroup, TaskRuleContactState, TaskRuleEngineState
from tasks_management.rules import states as st
from tasks_management.rules import sql as _sql  # noqa: F401  (registers __in_array)
from tasks_management.rules import utils
from tasks_management.rules.registry import active_rules, rules_hash
from tasks_management.rules.sources import candidate_ids, load_bundles, subject_labels
from tasks_management.utils import serialize_value

logger = logging.getLogger(__name__)

EXECUTOR_ACTION_EVENT = "task_rules"
SOURCE_PREFIX = "task_rules."
RULES_HASH_KEY = "rules_hash"
LOCK_KEY = "refresh"
LOCK_SECONDS = 600
TASK_FIELDS = ("id", "emission_key", "rule_name", "rule_state", "status", "due_date", "start_date", "end_date",
               "assignee_id", "location_id", "data", "json_ext", "date_created", "task_group_id", "entity_id")
UPDATE_FIELDS = ["rule_state", "status", "due_date", "start_date", "end_date", "assignee", "location", "data",
                 "json_ext"]


def config(key):
    return getattr(TasksManagementConfig, key)


# --- emissions (§2) ---------------------------------------------------------------------------------------------
@dataclass
class Emission:
    key: str
    rule: Any
    event_id: str
    due: Any
    due_date: Optional[datetime.date]
    start_date: Optional[datetime.date]
    end_date: Optional[datetime.date]
    resolved: bool
    deleted: bool
    data: dict
    assignee_id: Any = None
    location_id: Any = None
    state: Any = None


def _priority(rule, bundle, report, event, due):
    value = rule.priority(rule, bundle, report, event, due) if callable(rule.priority) else rule.priority
    if value is None:
        return None, None, None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value, None, float(value)
    if isinstance(value, dict):
        return value.get("level") or "medium", value.get("label"), None
    return None, None, None


def _user_id(value):
    if value is None:
        return None
    return getattr(value, "pk", value)


def emit_rule(rule, bundle):
    """Emissions of one rule for one bundle (CHT's task emitter)."""
    contact = bundle.contact
    if rule.applies_to == "reports":
        targets = list(bundle.reports)
    elif rule.applies_to == "contacts":
        targets = [None] if contact is not None else []
    else:
        raise ValueError(f"Unrecognised task.appliesTo: {rule.applies_to}")
    emissions = []
    for report in targets:
        if rule.applies_to_type:
            kind = report.form if report is not None else (contact.type if contact is not None else None)
            if kind is None or kind not in rule.applies_to_type:
                continue
        if rule.applies_if is not None and not rule.applies_if(rule, bundle, report):
            continue
        for index, event in enumerate(rule.events):
            if event.due_date is not None:
                due = event.due_date(rule, event, bundle, report)
            elif report is not None:
                due = utils.add_date(report.reported_date, event.days)
            else:
                due = utils.add_date(contact.reported_date if contact else None, event.days)
            if not utils.is_timely(due, event):
                continue
            emissions.append(_emission(rule, bundle, report, event, index, due))
    return emissions


def _emission(rule, bundle, report, event, index, due):
    contact = bundle.contact
    subject_ref = report.ref if report is not None else contact.ref
    event_id = event.id if event.id is not None else str(index)
    key = f"{subject_ref}~{event_id}~{rule.name}"
    deleted = bool((contact is not None and contact.deleted) or (report is not None and report.deleted))
    label = rule.contact_label
    if callable(label):
        label = label(rule, bundle, report)
    contact_label = label or (contact.name if contact is not None else None)
    level, priority_label, score = _priority(rule, bundle, report, event, due)
    resolved = rule.is_resolved(bundle, report, event, due)
    actions, for_id = [], None
    for action in rule.actions:
        content = {"source": "task", "source_id": report.id if report is not None else contact.id}
        if contact is not None:
            content["contact"] = {"_id": contact.id, "name": contact.name, "type": contact.type}
        if action.modify_content is not None:
            action.modify_content(rule, content, bundle, report, event)
        person = content.pop("contact", None)
        if for_id is None and isinstance(person, dict):
            for_id = person.get("_id")
        actions.append({"type": action.type or "report", "form": action.form, "label": action.label or "Follow up",
                        "content": serialize_value(content)})
    due_date, start_date, end_date = st.display_window(due, event.start, event.end)
    data = {
        "title": rule.title, "icon": rule.icon, "priority": level, "priority_label": priority_label,
        "priority_score": score, "contact_label": contact_label, "actions": actions, "for_id": for_id,
        "event_id": event_id, "report_ref": report.ref if report is not None else None,
        "requester_ref": bundle.subject_ref, "resolved": resolved, "deleted": deleted,
    }
    assignee = rule.assignee(rule, bundle, report) if rule.assignee is not None else None
    emission = Emission(key=key, rule=rule, event_id=event_id, due=due, due_date=due_date, start_date=start_date,
                        end_date=end_date, resolved=resolved, deleted=deleted, data=data,
                        assignee_id=_user_id(assignee),
                        location_id=contact.location_id if contact is not None else None)
    return emission


def emit(bundle, rules, failed=None):
    """Emissions of every rule for ``bundle``; a rule raising is logged, skipped and recorded in ``failed``."""
    out = []
    for rule in rules:
        try:
            out.extend(emit_rule(rule, bundle))
        except Exception:
            logger.exception("task rule %s failed on %s", rule.name, bundle.subject_ref)
            if failed is not None:
                failed.add(rule.name)
    return out


# --- one refresh (§7.2) -------------------------------------------------------------------------------------------
@dataclass
class RefreshStats:
    subjects: int = 0
    emissions: int = 0
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    errors: int = 0
    changes: list = field(default_factory=list)  # (task id, old state, new state, reason)

    def add(self, other):
        for name in ("subjects", "emissions", "created", "updated", "cancelled", "errors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.changes.extend(other.changes)

    def as_dict(self):
        return {k: getattr(self, k) for k in ("subjects", "emissions", "created", "updated", "cancelled", "errors")}


class _Doc:
    """An existing rule task, as plain values (changes are compared on these)."""

    __slots__ = TASK_FIELDS + ("touched",)

    def __init__(self, row):
        for name in TASK_FIELDS:
            setattr(self, name, row[name])
        self.json_ext = dict(row["json_ext"] or {})
        self.touched = False

    @property
    def rule_ext(self):
        return self.json_ext.setdefault("task_rules", {})

    def serialized(self):
        return (self.rule_state, self.due_date, self.start_date, self.end_date, self.assignee_id, self.location_id,
                self.data, self.json_ext.get("task_rules", {}).get("state_reason"))

    def as_update(self):
        return {"id": self.id, "rule_state": self.rule_state, "status": st.STATUS_OF_STATE[self.rule_state],
                "due_date": self.due_date, "start_date": self.start_date, "end_date": self.end_date,
                "assignee": self.assignee_id, "location": self.location_id, "data": self.data,
                "json_ext": self.json_ext}


def _most_ready(docs):
    return max(docs, key=lambda d: (st.readiness(d.rule_state), d.date_created))


class _Context:
    """What a refresh resolves once: the rules, the time, the acting user, task groups per rule."""

    def __init__(self, at, rules, user):
        self.at = at
        self.today = utils.local_date(at)
        self.rules = rules
        self.rule_names = {r.name for r in rules}
        self.user = user
        self.past = int(config("task_rules_past_window_days"))
        self.future = int(config("task_rules_future_window_days"))
        self.groups = {}
        for rule in rules:
            self.groups[rule.name] = _task_group_id(rule)


def _task_group_id(rule):
    if rule.task_group_code:
        return TaskGroup.objects.filter(code=rule.task_group_code, is_deleted=False).values_list(
            "id", flat=True).first()
    source = f"{SOURCE_PREFIX}{rule.name}"
    for group in TaskGroup.objects.filter(is_deleted=False, json_ext__isnull=False).order_by("date_created", "id"):
        if source in group.task_sources:
            return group.id
    return None


def _set(doc, state, ctx, stats, reason=None):
    old = doc.rule_state
    new = st.set_state(doc.rule_ext, state, ctx.at, reason)
    doc.rule_state = new
    if old != new:
        stats.changes.append((doc.id, old, new, doc.rule_ext.get("state_reason")))
    return new


def _reconcile(bundle, emissions, docs, ctx, entity_type_id, failed, stats, inserts, updates):
    """§7.2 for one bundle: ``inserts`` gets new rows, ``updates`` changed existing docs."""
    current = [d for d in docs if d.date_created <= ctx.at]
    future = [d for d in docs if d.date_created > ctx.at]
    by_key = defaultdict(list)
    for doc in current:
        by_key[doc.emission_key].append(doc)
    winners, duplicates = {}, []
    for key, group in by_key.items():
        winner = _most_ready(group)
        winners[key] = winner
        duplicates.extend(d for d in group if d is not winner)
    # timely emissions only, one per key (the most ready)
    kept = {}
    for emission in emissions:
        emission.state = st.calculate_state(emission.resolved, emission.deleted, emission.due_date,
                                            emission.start_date, emission.end_date, ctx.today)
        if not st.is_timely(emission.start_date, emission.end_date, ctx.at, ctx.past, ctx.future):
            continue
        other = kept.get(emission.key)
        if other is None or st.readiness(emission.state) > st.readiness(other.state):
            kept[emission.key] = emission
    stats.emissions += len(kept)
    for key, emission in kept.items():
        winner = winners.get(key)
        state = emission.state or None
        if winner is not None and (not st.is_terminal(winner.rule_state) or winner.rule_state == state):
            if st.is_terminal(winner.rule_state):
                continue  # a terminal doc is never rewritten
            before = winner.serialized()
            _apply(winner, emission, ctx)
            _set(winner, state, ctx, stats, st.INVALID if state is None else None)
            if winner.serialized() != before:
                winner.touched = True
            continue
        if not state or state == RuleState.CANCELLED:
            continue  # never create a document born cancelled
        inserts.append(_new_row(bundle, emission, ctx, entity_type_id))
        stats.changes.append((inserts[-1]["id"], None, state, None))
    for doc in current:
        if st.is_terminal(doc.rule_state) or doc.rule_name in failed:
            continue
        if doc.emission_key not in kept:
            _set(doc, RuleState.CANCELLED, ctx, stats)
            doc.touched = True
    for doc in duplicates:
        if not st.is_terminal(doc.rule_state) and doc.rule_name not in failed:
            _set(doc, RuleState.CANCELLED, ctx, stats, st.DUPLICATE)
            doc.touched = True
    for doc in future:
        if not st.is_terminal(doc.rule_state):
            _set(doc, RuleState.CANCELLED, ctx, stats)
            doc.touched = True
    for doc in docs:
        if doc.touched:
            doc.json_ext["task_rules"]["calculated_at"] = ctx.at.isoformat()
            updates.append(doc)


def _apply(doc, emission, ctx):
    doc.due_date, doc.start_date, doc.end_date = emission.due_date, emission.start_date, emission.end_date
    doc.assignee_id, doc.location_id, doc.data = emission.assignee_id, emission.location_id, emission.data


def _new_row(bundle, emission, ctx, entity_type_id):
    rule_ext = {"state_history": [], "state_reason": None, "calculated_at": ctx.at.isoformat()}
    state = st.set_state(rule_ext, emission.state, ctx.at)
    rule = emission.rule
    return {
        "id": uuid.uuid4(), "emission_key": emission.key, "rule_name": rule.name, "rule_state": state.value,
        "status": st.STATUS_OF_STATE[state], "source": f"{SOURCE_PREFIX}{rule.name}",
        "business_event": f"{SOURCE_PREFIX}{rule.name}", "executor_action_event": EXECUTOR_ACTION_EVENT,
        "entity_type": entity_type_id, "entity_id": bundle.subject[1], "task_group": ctx.groups.get(rule.name),
        "due_date": emission.due_date, "start_date": emission.start_date, "end_date": emission.end_date,
        "assignee": emission.assignee_id, "location": emission.location_id, "data": emission.data,
        "business_status": {}, "json_ext": {"task_rules": rule_ext},
    }


def refresh_chunk(label, ids, ctx, stats=None):
    """Refresh the subjects ``ids`` of model ``label`` in one transaction (constant statement count)."""
    stats = stats or RefreshStats()
    chunk = RefreshStats()
    app_label, model = label.split(".", 1)
    entity_type = ContentType.objects.get_by_natural_key(app_label, model)
    with transaction.atomic():
        existing = (Task.objects.select_for_update()
                    .filter(entity_type_id=entity_type.id, entity_id__in_array=ids, rule_name__isnull=False,
                            is_deleted=False))
        if ctx.rule_names is not None:
            existing = existing.filter(rule_name__in=ctx.rule_names)
        docs_by_subject = defaultdict(list)
        for row in existing.values(*TASK_FIELDS):
            docs_by_subject[row["entity_id"]].append(_Doc(row))
        bundles = load_bundles(label, ids)
        inserts, updates = [], []
        with utils.evaluating_at(ctx.at):
            for bundle in bundles:
                failed = set()
                docs = docs_by_subject.get(bundle.subject[1], [])
                bundle.tasks = docs
                emissions = emit(bundle, ctx.rules, failed)
                chunk.errors += len(failed)
                _reconcile(bundle, emissions, docs, ctx, entity_type.id, failed, chunk, inserts, updates)
        chunk.subjects += len(bundles)
        if updates:
            # cancellations first: a new row may take the emission key a cancelled one frees
            bulk.update_rows(Task, [d.as_update() for d in updates], fields=UPDATE_FIELDS, user=ctx.user,
                             now=ctx.at)
        if inserts:
            bulk.insert_rows(Task, inserts, user=ctx.user, now=ctx.at)
        chunk.created += len(inserts)
        chunk.cancelled += sum(1 for d in updates if d.rule_state == RuleState.CANCELLED)
        chunk.updated += len(updates)
        mark_fresh(entity_type.id, ids, ctx.at)
    stats.add(chunk)
    return stats


# --- freshness (§7.4, §14) ----------------------------------------------------------------------------------------
def reporting_interval_end(at, start_day=1):
    """End (exclusive, aware) of the reporting interval containing ``at``: month start day 1–31."""
    today = utils.local_date(at)
    start_day = start_day if isinstance(start_day, int) and 1 <= start_day <= 31 else 1

    def month_start(year, month, day):
        import calendar

        return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))

    def next_month(year, month):
        return (year + 1, 1) if month == 12 else (year, month + 1)

    if start_day == 1:
        year, month = next_month(today.year, today.month)
        return utils.local_midnight(datetime.date(year, month, 1))
    this_start = month_start(today.year, today.month, start_day)
    if today >= this_start:
        year, month = next_month(today.year, today.month)
        return utils.local_midnight(month_start(year, month, start_day))
    return utils.local_midnight(this_start)


def expire_at(at):
    by_interval = reporting_interval_end(at, config("task_rules_month_start_day"))
    return min(by_interval, at + datetime.timedelta(days=int(config("task_rules_expire_after_days"))))


def mark_fresh(content_type_id, ids, at):
    """Records of ``ids`` fresh as of ``at``, in one upsert (the ids as one array parameter): created when
    missing; a subject marked dirty after ``at`` (a save during this refresh) stays dirty."""
    if not ids:
        return
    from tasks_management.rules.sql import upsert_fresh_sql

    dt = TaskRuleContactState._meta.get_field("calculated_at")
    at_db = dt.get_db_prep_value(at, connection)
    expire_db = dt.get_db_prep_value(expire_at(at), connection)
    ids = [str(i) for i in ids]
    id_param = ids if connection.vendor == "postgresql" else json.dumps(ids)
    with connection.cursor() as cursor:
        cursor.execute(upsert_fresh_sql(connection, TaskRuleContactState._meta.db_table),
                       [content_type_id, at_db, expire_db, id_param, at_db])


def mark_dirty(subjects, at=None):
    """Mark ``[(model label or class, id)]`` dirty (one upsert per content type)."""
    at = at or timezone.now()
    by_type = defaultdict(set)
    for label, pk in subjects:
        if pk is None:
            continue
        model = label if not isinstance(label, str) else None
        if model is None:
            app_label, name = label.split(".", 1)
            ct = ContentType.objects.get_by_natural_key(app_label, name.lower())
        else:
            ct = ContentType.objects.get_for_model(model)
        by_type[ct.id].add(str(pk))
    for ct_id, ids in by_type.items():
        TaskRuleContactState.objects.bulk_create(
            [TaskRuleContactState(contact_type_id=ct_id, contact_id=i, is_dirty=True, marked_at=at) for i in ids],
            update_conflicts=True, unique_fields=["contact_type", "contact_id"],
            update_fields=["is_dirty", "marked_at"])
    return sum(len(v) for v in by_type.values())


def dirty_subjects(at, include_stale=True):
    """``{label: [ids]}`` to refresh: flagged dirty; with ``include_stale`` also expired, calculated in the
    future (clock rewound), or without a record (new contacts)."""
    found = defaultdict(list)
    cts = {}
    for label in subject_labels():
        app_label, model = label.split(".", 1)
        cts[ContentType.objects.get_by_natural_key(app_label, model).id] = label
    flagged = Q(is_dirty=True)
    if include_stale:
        flagged |= Q(expire_at__lte=at) | Q(calculated_at__gt=at) | Q(expire_at__isnull=True)
    seen = defaultdict(set)
    for ct_id, contact_id in (TaskRuleContactState.objects.filter(contact_type_id__in=list(cts)).filter(flagged)
                              .values_list("contact_type_id", "contact_id").iterator(chunk_size=5000)):
        found[cts[ct_id]].append(contact_id)
        seen[cts[ct_id]].add(contact_id)
    if include_stale:
        for ct_id, label in cts.items():
            known = set(TaskRuleContactState.objects.filter(contact_type_id=ct_id)
                        .values_list("contact_id", flat=True).iterator(chunk_size=5000))
            found[label].extend(i for i in candidate_ids(label) if i not in known and i not in seen[label])
    return {label: ids for label, ids in found.items() if ids}


def all_subjects():
    return {label: ids for label in subject_labels() if (ids := candidate_ids(label))}


def check_rules_hash(rules=None):
    """When the active rules differ from the stored hash, store the new one and mark every record dirty."""
    current = rules_hash(rules)
    row, _ = TaskRuleEngineState.objects.get_or_create(key=RULES_HASH_KEY)
    if row.value == current:
        return False
    TaskRuleContactState.objects.filter(is_dirty=False).update(is_dirty=True, marked_at=timezone.now())
    TaskRuleEngineState.objects.filter(key=RULES_HASH_KEY).update(value=current, date_updated=timezone.now())
    return True


# --- the lock: one refresh at a time (a lease row; works on PostgreSQL and SQLite, across processes) ------------
class RefreshBusy(Exception):
    pass


class refresh_lock:
    """Context manager taking the ``refresh`` lease (a conditional UPDATE of one row). ``wait`` seconds to wait
    for a running refresh; raises ``RefreshBusy`` after that. ``renew()`` extends it between chunks."""

    def __init__(self, wait=0, seconds=LOCK_SECONDS):
        self.token = uuid.uuid4().hex
        self.wait = wait
        self.seconds = seconds

    def _try(self):
        now = timezone.now()
        TaskRuleEngineState.objects.bulk_create([TaskRuleEngineState(key=LOCK_KEY)], ignore_conflicts=True)
        return TaskRuleEngineState.objects.filter(key=LOCK_KEY).filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=self.token)
        ).update(lease_owner=self.token, lease_until=now + datetime.timedelta(seconds=self.seconds)) == 1

    def renew(self):
        return self._try()

    def __enter__(self):
        import time

        deadline = time.monotonic() + self.wait
        while not self._try():
            if time.monotonic() >= deadline:
                raise RefreshBusy("another rule-task refresh is running")
            time.sleep(0.5)
        return self

    def __exit__(self, *exc):
        TaskRuleEngineState.objects.filter(key=LOCK_KEY, lease_owner=self.token).update(lease_until=None,
                                                                                        lease_owner=None)
        return False


# --- entry points -----------------------------------------------------------------------------------------------
def acting_user(user=None):
    from core.services import default_acting_user

    if user is not None:
        return user
    username = getattr(TasksManagementConfig, "task_rules_run_as_username", "") or None
    return default_acting_user(username)


def _chunks(ids, size):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def refresh(subjects=None, at=None, rule_names=None, user=None, everything=False, include_stale=True,
            progress=None, wait=0):
    """Refresh rule tasks. ``subjects``: ``{label: [ids]}`` or ``[(label, id)]`` (default: the dirty ones;
    ``everything``: every candidate and headless subject). ``rule_names`` limits the rules evaluated (and the
    tasks touched). ``progress(n)`` is called after each chunk. Answers ``RefreshStats``."""
    stats = RefreshStats()
    if not config("task_rules_enabled"):
        return stats
    at = at or timezone.now()
    user = acting_user(user)
    if user is None:
        logger.warning("task rules: no acting user (no active superuser or administrator); refresh skipped")
        return stats
    rules = active_rules(rule_names)
    with refresh_lock(wait=wait) as lock, bulk.fewer_collections():
        if rule_names is None:
            check_rules_hash()
        if subjects is None:
            subjects = all_subjects() if everything else dirty_subjects(at, include_stale)
        else:
            subjects = _canonical(subjects)
        ctx = _Context(at, rules, user)
        ctx.rule_names = None if rule_names is None else set(rule_names)
        size = int(config("task_rules_batch_size"))
        for label, ids in subjects.items():
            ids = list(dict.fromkeys(str(i) for i in ids))
            for chunk in _chunks(ids, size):
                refresh_chunk(label, chunk, ctx, stats)
                lock.renew()
                if progress is not None:
                    progress(len(chunk))
    send_state_changes(stats.changes)
    return stats


def _canonical(subjects):
    """``{label: [canonical id strings]}`` of subjects given by a caller (``{label: ids}`` or ``[(label or
    model, id)]``): ids in the primary key's own spelling (``str(UUID)``), so they match stored entity ids;
    unknown models and malformed ids are skipped."""
    from django.apps import apps
    from django.core.exceptions import ValidationError

    pairs = subjects.items() if isinstance(subjects, dict) else [(label, [pk]) for label, pk in subjects]
    grouped = defaultdict(list)
    for label, ids in pairs:
        if not isinstance(label, str):
            label = f"{label._meta.app_label}.{label._meta.model_name}"
        label = label.lower()
        try:
            pk_field = apps.get_model(label)._meta.pk
        except (LookupError, ValueError):
            logger.warning("task rules: unknown subject model %s", label)
            continue
        for pk in ids:
            try:
                grouped[label].append(str(pk_field.to_python(pk)))
            except (ValidationError, ValueError, TypeError):
                logger.warning("task rules: malformed id %r of %s", pk, label)
    return grouped


def count_subjects(everything=False, at=None):
    at = at or timezone.now()
    subjects = all_subjects() if everything else dirty_subjects(at)
    return sum(len(v) for v in subjects.values())


def update_temporal_states(at=None, user=None, queryset=None):
    """§7.3 over every non-terminal rule task (or those of ``queryset``): Draft → Ready → Failed as days pass;
    authored in the future → Cancelled. No rule runs. One statement when nothing moves. Answers the number of
    tasks changed."""
    at = at or timezone.now()
    today = utils.local_date(at)
    queryset = Task.objects.all() if queryset is None else queryset
    moving = (queryset.filter(rule_state__in=list(st.NON_TERMINAL), is_deleted=False, emission_key__isnull=False)
              .filter(Q(rule_state=RuleState.DRAFT, start_date__lte=today) | Q(end_date__lt=today)
                      | Q(rule_state=RuleState.READY, start_date__gt=today) | Q(date_created__gt=at)
                      | Q(start_date__isnull=True) | Q(end_date__isnull=True)))
    stats = RefreshStats()
    ctx = _Context.__new__(_Context)
    ctx.at = at
    rows = []
    for row in moving.values(*TASK_FIELDS).iterator(chunk_size=2000):
        doc = _Doc(row)
        if doc.date_created > at:
            state, reason = RuleState.CANCELLED, None
        else:
            state = st.window_state(doc.start_date, doc.end_date, today)
            reason = st.INVALID if state is None else None
        if state == doc.rule_state:
            continue
        _set(doc, state, ctx, stats, reason)
        rows.append(doc.as_update())
    if rows:
        user = acting_user(user)
        if user is None:
            return 0
        with transaction.atomic():
            bulk.update_rows(Task, rows, fields=["rule_state", "status", "json_ext"], user=user, now=at)
    send_state_changes(stats.changes)
    return len(rows)


def purge(at=None):
    """Delete terminal rule tasks whose window ended more than ``task_rules_purge_after_days`` ago (§6: such an
    emission is not timely any more, so it is never recreated). Answers the number deleted."""
    at = at or timezone.now()
    limit = utils.local_date(at) - datetime.timedelta(days=int(config("task_rules_purge_after_days")))
    doomed = Task.objects.filter(rule_name__isnull=False, rule_state__in=list(st.TERMINAL), end_date__lt=limit)
    return doomed._raw_delete(doomed.db)


# --- the state_changed service signal ------------------------------------------------------------------------------
def send_state_changes(changes):
    """``task_rules.state_changed`` (after) for each change, with ``result = {task, old_state, new_state,
    reason}``; tasks are read in one query, only when someone listens."""
    from tasks_management.services import TaskRulesSignals, state_changed_has_listeners

    if not changes or not state_changed_has_listeners():
        return
    tasks = Task.objects.in_bulk([task_id for task_id, *_ in changes])
    sender = TaskRulesSignals()
    for task_id, old, new, reason in changes:
        sender.state_changed({"task": tasks.get(task_id), "old_state": old and str(old),
                              "new_state": new and str(new), "reason": reason})

