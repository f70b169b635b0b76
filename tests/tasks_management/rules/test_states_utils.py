"""CHT states, windows, state history (task_rules.md §5, §6, §8) and Utils (§4), on a fixed clock."""
import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from tasks_management.models import RuleState
from tasks_management.rules import states as st
from tasks_management.rules import utils

D = datetime.date
AT = timezone.make_aware(datetime.datetime(2026, 3, 10, 12, 0))
TODAY = D(2026, 3, 10)


def state(resolved=False, deleted=False, due=TODAY, start=0, end=0):
    due_date, start_date, end_date = st.display_window(due, start, end) if due else (None, None, None)
    return st.calculate_state(resolved, deleted, due_date, start_date, end_date, TODAY)


def test_exactly_five_states_and_terminals():
    assert [s.value for s in RuleState] == ["Draft", "Ready", "Cancelled", "Completed", "Failed"]
    assert st.TERMINAL == {RuleState.CANCELLED, RuleState.COMPLETED, RuleState.FAILED}
    assert st.is_terminal(RuleState.CANCELLED) and not st.is_terminal(RuleState.READY)


def test_calculate_state():
    assert state(resolved=True) == RuleState.COMPLETED
    assert state(deleted=True) == RuleState.CANCELLED
    assert state(due=None) is None  # missing dates: invalid
    assert st.calculate_state(False, False, TODAY, TODAY, TODAY - datetime.timedelta(days=1), TODAY) is None
    assert state(due=TODAY + datetime.timedelta(days=1)) == RuleState.DRAFT  # due tomorrow
    tomorrow_plus = AT + datetime.timedelta(days=1, milliseconds=1)
    assert state(due=tomorrow_plus) == RuleState.DRAFT
    assert state(due=TODAY - datetime.timedelta(days=1)) == RuleState.FAILED  # window ended yesterday
    assert state(due=TODAY, start=3, end=3) == RuleState.READY


def test_display_window():
    assert st.display_window(AT, 2, 3) == (TODAY, D(2026, 3, 8), D(2026, 3, 13))
    assert st.display_window(None, 2, 3) == (None, None, None)
    assert st.display_window("not a date", 2, 3) == (None, None, None)


@pytest.mark.parametrize("start,end,timely", [
    (TODAY - datetime.timedelta(days=61), TODAY - datetime.timedelta(days=61), False),
    (TODAY + datetime.timedelta(days=181), TODAY + datetime.timedelta(days=181), False),
    (TODAY - datetime.timedelta(days=59), TODAY - datetime.timedelta(days=59), True),
    (TODAY + datetime.timedelta(days=179), TODAY + datetime.timedelta(days=179), True),
    (None, None, False),
    # custom windows: endDate against the past bound, startDate against the future bound
    (TODAY - datetime.timedelta(days=100), TODAY - datetime.timedelta(days=59), True),
    (TODAY + datetime.timedelta(days=179), TODAY + datetime.timedelta(days=400), True),
])
def test_is_timely(start, end, timely):
    assert st.is_timely(start, end, AT) is timely


def test_state_history():
    ext = {}
    assert st.set_state(ext, RuleState.DRAFT, AT) == RuleState.DRAFT
    assert [h["state"] for h in ext["state_history"]] == ["Draft"]
    st.set_state(ext, RuleState.DRAFT, AT)
    assert len(ext["state_history"]) == 1  # not appended when unchanged
    st.set_state(ext, RuleState.READY, AT)
    st.set_state(ext, RuleState.DRAFT, AT)  # may return to an earlier state
    assert [h["state"] for h in ext["state_history"]] == ["Draft", "Ready", "Draft"]
    st.set_state(ext, RuleState.CANCELLED, AT, "duplicate")
    assert ext["state_reason"] == "duplicate"
    other = {}
    assert st.set_state(other, None, AT) == RuleState.CANCELLED and other["state_reason"] == "invalid"


def test_window_state_decay():
    assert st.window_state(D(2026, 3, 11), D(2026, 3, 12), TODAY) == RuleState.DRAFT
    assert st.window_state(D(2026, 3, 9), D(2026, 3, 12), TODAY) == RuleState.READY
    assert st.window_state(D(2026, 3, 1), D(2026, 3, 9), TODAY) == RuleState.FAILED


# --- Utils -------------------------------------------------------------------------------------------------
def report(form, when, deleted=False, **fields):
    return SimpleNamespace(form=form, reported_date=when, deleted=deleted, fields=fields)


def test_add_date():
    assert utils.add_date(AT, 2) == timezone.make_aware(datetime.datetime(2026, 3, 12))
    assert utils.add_date(AT, 0) == timezone.make_aware(datetime.datetime(2026, 3, 10))  # start of day
    with utils.evaluating_at(AT):
        assert utils.add_date(None, 1) == timezone.make_aware(datetime.datetime(2026, 3, 11))  # defaults to now
        assert utils.now() == AT


def test_get_lmp_date():
    doc = SimpleNamespace(reported_date=AT, fields={"last_menstrual_period": 2})
    assert utils.get_lmp_date(doc) == utils.add_date(AT, -14)
    assert utils.get_lmp_date(SimpleNamespace(reported_date=AT, fields={})) == utils.add_date(AT, -28)


def test_get_most_recent_report():
    assert utils.get_most_recent_report([], "a") is None
    older, newer = report("a", AT), report("a", AT + datetime.timedelta(hours=1), x={"y": 1})
    assert utils.get_most_recent_report([older], "a") is older
    assert utils.get_most_recent_report([report("b", AT)], "a") is None
    assert utils.get_most_recent_report([older, newer], "a") is newer
    other = report("b", AT + datetime.timedelta(hours=2))
    assert utils.get_most_recent_report([older, newer, other], ["a", "b"]) is other
    deleted = report("a", AT + datetime.timedelta(hours=3), deleted=True)
    assert utils.get_most_recent_report([older, deleted], "a") is older
    tie = report("a", AT)
    assert utils.get_most_recent_report([older, tie], "a") is older  # ties keep the earlier one
    assert utils.get_most_recent_report([older, newer], "a", {"x.y": 1}) is newer
    assert utils.get_most_recent_report([older, newer], "a", {"x.y": 1, "z": 2}) is None
    assert utils.get_most_recent_report([older, newer], "a", {"x.y": 2}) is None
    assert utils.get_most_recent_timestamp([older, newer], "a") == newer.reported_date
    assert utils.get_most_recent_timestamp([], "a") is None


def test_get_field_and_fields_match():
    r = report("a", AT, a={"b": {"c": 3}})
    assert utils.get_field(r, "a.b.c") == 3
    assert utils.get_field(r, "a.x.c") is None
    assert utils.fields_match(r, {"a.b.c": 3}) and not utils.fields_match(r, {"a.b.c": 4})


def test_is_form_submitted_in_window():
    start, end = AT, AT + datetime.timedelta(days=2)
    inside = report("a", AT + datetime.timedelta(days=1), follow_up_count=2)
    assert utils.is_form_submitted_in_window([inside], "a", start, end)
    assert utils.is_form_submitted_in_window([inside], ["b", "a"], start, end)
    assert not utils.is_form_submitted_in_window([inside], "b", start, end)
    assert utils.is_form_submitted_in_window([report("a", start)], "a", start, end)  # inclusive bounds
    assert not utils.is_form_submitted_in_window([report("a", end + utils.ONE_MS)], "a", start, end)
    assert utils.is_form_submitted_in_window([inside], "a", start, end, count=1)
    assert not utils.is_form_submitted_in_window([inside], "a", start, end, count=2)
    assert utils.is_form_submitted_in_window([report("a", AT, deleted=True)], "a", start, end)  # deleted count


def test_is_first_report_newer_and_misc():
    a, b = report("a", AT + datetime.timedelta(hours=1)), report("a", AT)
    assert utils.is_first_report_newer(a, b) is True
    assert utils.is_first_report_newer(b, a) is False
    assert utils.is_first_report_newer(None, a) is None
    assert utils.is_first_report_newer(a, None) is True
    assert utils.is_date_valid(AT) and not utils.is_date_valid("x")
    assert utils.is_timely(None, None) is True
    assert utils.MS_IN_DAY == 86_400_000
