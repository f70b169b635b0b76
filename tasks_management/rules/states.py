"""States, display window, generation window and state history (task_rules.md §5, §6)."""
import datetime

from tasks_management.models import RuleState, Task

STATES = (RuleState.DRAFT, RuleState.READY, RuleState.CANCELLED, RuleState.COMPLETED, RuleState.FAILED)
TERMINAL = frozenset((RuleState.CANCELLED, RuleState.COMPLETED, RuleState.FAILED))
NON_TERMINAL = frozenset((RuleState.DRAFT, RuleState.READY))
# "readiness": Ready > Draft > Completed > Failed > Cancelled > unknown
READINESS = {RuleState.READY: 5, RuleState.DRAFT: 4, RuleState.COMPLETED: 3, RuleState.FAILED: 2,
             RuleState.CANCELLED: 1}
INVALID = "invalid"
DUPLICATE = "duplicate"
STATUS_OF_STATE = {
    RuleState.DRAFT: Task.Status.RECEIVED,
    RuleState.READY: Task.Status.ACCEPTED,
    RuleState.COMPLETED: Task.Status.COMPLETED,
    RuleState.FAILED: Task.Status.FAILED,
    RuleState.CANCELLED: Task.Status.FAILED,
}


def is_terminal(state):
    return state in TERMINAL


def readiness(state):
    return READINESS.get(state, 0)


def display_window(due, ready_start, ready_end):
    """``(due_date, start_date, end_date)`` as local dates from the due datetime; all None when it is invalid."""
    from tasks_management.rules.utils import local_date

    if not isinstance(due, (datetime.date, datetime.datetime)):
        return None, None, None
    day = local_date(due)
    try:
        return (day, day - datetime.timedelta(days=ready_start or 0), day + datetime.timedelta(days=ready_end or 0))
    except (OverflowError, TypeError):
        return None, None, None


def calculate_state(resolved, deleted, due_date, start_date, end_date, today):
    """§5: Completed, Cancelled, None (invalid), Draft, Failed or Ready on the calendar day ``today``."""
    if resolved:
        return RuleState.COMPLETED
    if deleted:
        return RuleState.CANCELLED
    if due_date is None:
        return None
    return window_state(start_date, end_date, today)


def window_state(start_date, end_date, today):
    """The state a stored, non-terminal task decays to (§7.3; no re-evaluation)."""
    if start_date is None or end_date is None or start_date > end_date:
        return None
    if start_date > today:
        return RuleState.DRAFT
    if end_date < today:
        return RuleState.FAILED
    return RuleState.READY


def is_timely(start_date, end_date, at, past_days=60, future_days=180):
    """§6: ``(at - past) < endDate`` and ``(at + future) > startDate``, the dates read as local midnight."""
    from tasks_management.rules.utils import local_midnight

    if start_date is None or end_date is None:
        return False
    return (at - datetime.timedelta(days=past_days) < local_midnight(end_date)
            and at + datetime.timedelta(days=future_days) > local_midnight(start_date))


def set_state(rule_ext, state, at, reason=None):
    """Apply ``state`` to the ``json_ext.task_rules`` dict ``rule_ext`` (changed in place and returned): a falsy
    state is Cancelled/invalid; a reason is stored when given; the history gets ``{state, at}`` only when the
    state differs from its last entry. Answers the stored state."""
    if not state:
        state, reason = RuleState.CANCELLED, INVALID
    state = RuleState(state)
    history = rule_ext.setdefault("state_history", [])
    rule_ext.setdefault("state_reason", None)
    if reason:
        rule_ext["state_reason"] = reason
    if not history or history[-1].get("state") != state.value:
        history.append({"state": state.value, "at": at.isoformat()})
    return state
