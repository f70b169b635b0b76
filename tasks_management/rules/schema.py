"""The rule schema (task_rules.md §1, §10): ``TaskRule``, ``TaskEvent``, ``TaskAction`` and their validation.

Callables receive CHT's arguments with the rule injected first (CHT binds them to ``this``), so a custom
``resolved_if`` can call ``rule.default_resolved_if(bundle, report, event, due)``.
"""
import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

APPLIES_TO = ("contacts", "reports")
PRIORITY_LEVELS = ("high", "medium")
NAME_MAX = 100
EVENT_ID_MAX = 64


@dataclass(frozen=True)
class TaskEvent:
    """Timing of one emission: due = reference date + ``days`` (or ``due_date(rule, event, bundle, report)``);
    shown ``start`` days before and ``end`` days after."""

    id: Optional[str] = None
    days: Optional[int] = None
    due_date: Optional[Callable] = None
    start: Optional[int] = None
    end: Optional[int] = None


@dataclass(frozen=True)
class TaskAction:
    """``type='report'`` opens ``form`` (the first report action's form resolves the task by default);
    ``type='contact'`` opens the contact's profile."""

    type: str = "report"
    form: Optional[str] = None
    label: str = "Follow up"
    modify_content: Optional[Callable] = None


@dataclass(frozen=True)
class TaskRule:
    name: str
    title: str
    events: tuple = ()
    actions: tuple = ()
    applies_to: str = "reports"
    icon: Optional[str] = None
    applies_if: Optional[Callable] = None
    applies_to_type: Optional[tuple] = None
    contact_label: Any = None
    resolved_if: Optional[Callable] = None
    priority: Any = None
    # our extensions (§10)
    assignee: Optional[Callable] = None
    task_group_code: Optional[str] = None
    # on/off: a bool, a callable, or "<app label>.<config key>" read at each refresh (None = on)
    enabled: Any = None
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        # lists are accepted and frozen into tuples (the rule is hashable and cannot be changed once registered)
        for name in ("events", "actions", "applies_to_type"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))

    # --- CHT's shared context -----------------------------------------------------------------------------
    @property
    def definition(self):
        """A deep copy of the rule (CHT's ``this.definition``)."""
        return copy.deepcopy(self)

    def resolving_form(self):
        for action in self.actions:
            if (action.type or "report") == "report":
                return action.form
        raise ValueError(f"rule {self.name}: could not find the default resolving form")

    def default_resolved_if(self, bundle, report, event, due_date):
        """§3: a resolving-form report inside the window; for report tasks only reports newer than the trigger."""
        from tasks_management.rules import utils

        form = self.resolving_form()
        end = utils.add_date(due_date, (event.end or 0) + 1)
        start = utils.add_date(due_date, -(event.start or 0))
        if report is not None:
            start = max(start, report.reported_date + utils.ONE_MS)
        return utils.is_form_submitted_in_window(bundle.reports, form, start, end)

    def is_resolved(self, bundle, report, event, due_date):
        if callable(self.resolved_if):
            return bool(self.resolved_if(self, bundle, report, event, due_date))
        return bool(self.default_resolved_if(bundle, report, event, due_date))

    def is_enabled(self):
        from core.module_config import config_value

        if self.enabled is None:
            return True
        try:
            return bool(config_value(self.enabled))
        except (LookupError, AttributeError):
            return False


def _non_empty_string(value):
    return isinstance(value, str) and value.strip() != ""


def validate_rule(rule, taken_names=()):
    """Every problem of ``rule`` (an empty list when it is valid), as CHT's build-time schema check lists them."""
    problems = []
    prefix = f"rule {getattr(rule, 'name', None)!r}"
    if not isinstance(rule, TaskRule):
        return [f"{rule!r} is not a TaskRule"]
    if not _non_empty_string(rule.name):
        problems.append(f"{prefix}: name must be a non-empty string")
    elif len(rule.name) > NAME_MAX:
        problems.append(f"{prefix}: name is longer than {NAME_MAX} characters")
    elif rule.name in taken_names:
        problems.append(f"{prefix}: name is not unique")
    elif "~" in rule.name:
        problems.append(f"{prefix}: name must not contain '~'")
    if not _non_empty_string(rule.title):
        problems.append(f"{prefix}: title must be a non-empty string")
    if rule.applies_to == "scheduled_tasks":
        problems.append(f"{prefix}: applies_to 'scheduled_tasks' is not supported")
    elif rule.applies_to not in APPLIES_TO:
        problems.append(f"{prefix}: applies_to must be one of {', '.join(APPLIES_TO)}")
    if rule.applies_if is not None and not callable(rule.applies_if):
        problems.append(f"{prefix}: applies_if must be callable")
    if rule.applies_to_type is not None:
        if (not isinstance(rule.applies_to_type, (tuple, list)) or not rule.applies_to_type
                or not all(_non_empty_string(t) for t in rule.applies_to_type)):
            problems.append(f"{prefix}: applies_to_type must be a non-empty list of strings")
    if rule.contact_label is not None and not callable(rule.contact_label) and not _non_empty_string(
            rule.contact_label):
        problems.append(f"{prefix}: contact_label must be a non-empty string or a callable")
    if rule.resolved_if is not None and not callable(rule.resolved_if):
        problems.append(f"{prefix}: resolved_if must be callable")
    if rule.assignee is not None and not callable(rule.assignee):
        problems.append(f"{prefix}: assignee must be callable")
    problems += _event_problems(prefix, rule.events)
    problems += _action_problems(prefix, rule)
    if rule.priority is not None and not callable(rule.priority):
        problems += _priority_problems(prefix, rule.priority)
    return problems


def _event_problems(prefix, events):
    problems = []
    if not isinstance(events, (tuple, list)) or not events:
        return [f"{prefix}: events must be a non-empty list"]
    ids = []
    for index, event in enumerate(events):
        where = f"{prefix}: events[{index}]"
        if not isinstance(event, TaskEvent):
            problems.append(f"{where} is not a TaskEvent")
            continue
        if len(events) > 1 and not _non_empty_string(event.id):
            problems.append(f"{where}: id is required when a rule has several events")
        if event.id is not None:
            if not _non_empty_string(event.id):
                problems.append(f"{where}: id must be a non-empty string")
            elif len(event.id) > EVENT_ID_MAX:
                problems.append(f"{where}: id is longer than {EVENT_ID_MAX} characters")
            elif "~" in event.id:
                problems.append(f"{where}: id must not contain '~'")
            ids.append(event.id)
        if (event.days is None) == (event.due_date is None):
            problems.append(f"{where}: exactly one of days / due_date is required")
        if event.days is not None and (isinstance(event.days, bool) or not isinstance(event.days, (int, float))):
            problems.append(f"{where}: days must be a number")
        if event.due_date is not None and not callable(event.due_date):
            problems.append(f"{where}: due_date must be callable")
        for bound in ("start", "end"):
            value = getattr(event, bound)
            if value is None:
                problems.append(f"{where}: {bound} is required")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                problems.append(f"{where}: {bound} must be a number >= 0")
    if len(ids) != len(set(ids)):
        problems.append(f"{prefix}: event ids must be unique")
    return problems


def _action_problems(prefix, rule):
    problems = []
    actions = rule.actions
    if not isinstance(actions, (tuple, list)) or not actions:
        return [f"{prefix}: actions must hold at least one action"]
    has_report_action = False
    for index, action in enumerate(actions):
        where = f"{prefix}: actions[{index}]"
        if not isinstance(action, TaskAction):
            problems.append(f"{where} is not a TaskAction")
            continue
        kind = action.type or "report"
        if kind not in ("report", "contact"):
            problems.append(f"{where}: type must be 'report' or 'contact'")
        elif kind == "report":
            has_report_action = True
            if not _non_empty_string(action.form):
                problems.append(f"{where}: form is required for a report action")
        elif action.form is not None:
            problems.append(f"{where}: form is not allowed on a contact action")
        if action.modify_content is not None and not callable(action.modify_content):
            problems.append(f"{where}: modify_content must be callable")
    if not has_report_action and rule.resolved_if is None:
        problems.append(f"{prefix}: resolved_if is required when no action is a report action")
    return problems


def _priority_problems(prefix, priority):
    if isinstance(priority, (int, float)) and not isinstance(priority, bool):
        return []
    if not isinstance(priority, dict):
        return [f"{prefix}: priority must be {{level, label}}, a number or a callable"]
    if priority.get("level", "medium") not in PRIORITY_LEVELS:
        return [f"{prefix}: priority level must be one of {', '.join(PRIORITY_LEVELS)}"]
    return []
