"""CHT's ``Utils`` (cht-nootils 4.x, task_rules.md §4) in snake_case, on aware datetimes in the project time zone.

``now()`` is the engine's evaluation time while a refresh runs (so rules and tests see one frozen clock), else
the wall clock. Reports are the engine's report views (``form``, ``reported_date``, ``fields``, ``deleted``).
"""
import contextlib
import contextvars
import datetime

from django.utils import timezone

MS_IN_DAY = 24 * 60 * 60 * 1000
ONE_MS = datetime.timedelta(milliseconds=1)

_evaluation_time = contextvars.ContextVar("task_rules_now", default=None)
_zone = contextvars.ContextVar("task_rules_zone", default=None)


@contextlib.contextmanager
def evaluating_at(at):
    """Evaluate rules as of ``at`` (``now()``), in the project time zone read once (not per date)."""
    token, zone_token = _evaluation_time.set(at), _zone.set(timezone.get_default_timezone())
    try:
        yield at
    finally:
        _evaluation_time.reset(token)
        _zone.reset(zone_token)


def _tz():
    return _zone.get() or timezone.get_default_timezone()


def now():
    return _evaluation_time.get() or timezone.now()


def local_midnight(day):
    """Aware local midnight of the calendar date ``day``."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=_tz())


def local_date(value):
    """The local calendar date of a datetime (a date stays as it is)."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.date()
        return value.astimezone(_tz()).date()
    return value


def add_date(date, days):
    """``date`` (or now when falsy) plus ``days`` calendar days, at local midnight."""
    base = local_date(date) if date else local_date(now())
    return local_midnight(base + datetime.timedelta(days=days))


def get_lmp_date(doc):
    weeks = get_field(doc, "last_menstrual_period") or 4
    return add_date(doc.reported_date, -7 * weeks)


def _forms(forms):
    return {forms} if isinstance(forms, str) else set(forms or ())


def get_field(report, path):
    """The value at dotted ``path`` under the report's ``fields`` (None when missing)."""
    value = getattr(report, "fields", None) if not isinstance(report, dict) else report.get("fields")
    for part in str(path).split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def fields_match(report, fields):
    return all(get_field(report, path) == value for path, value in (fields or {}).items())


def get_most_recent_report(reports, forms, fields=None):
    """Non-deleted report of ``forms`` with the strictly greatest reported date (ties: the earlier in the list)."""
    wanted = _forms(forms)
    result = None
    for report in reports or ():
        if report.deleted or report.form not in wanted:
            continue
        if fields and not fields_match(report, fields):
            continue
        if result is None or report.reported_date > result.reported_date:
            result = report
    return result


def get_most_recent_timestamp(reports, forms, fields=None):
    report = get_most_recent_report(reports, forms, fields)
    return report.reported_date if report is not None else None


def is_form_submitted_in_window(reports, forms, start, end, count=None):
    """A report of ``forms`` with ``start <= reported_date <= end`` (deleted reports count, as in CHT)."""
    wanted = _forms(forms)
    for report in reports or ():
        if report.form not in wanted or not (start <= report.reported_date <= end):
            continue
        if count is None:
            return True
        follow_ups = get_field(report, "follow_up_count")
        try:
            if follow_ups is not None and float(follow_ups) > count:
                return True
        except (TypeError, ValueError):
            continue
    return False


def is_first_report_newer(first, second):
    """None without ``first`` (or its date); True without ``second`` (or its date); else first is later."""
    if first is None or getattr(first, "reported_date", None) is None:
        return None
    if second is None or getattr(second, "reported_date", None) is None:
        return True
    return first.reported_date > second.reported_date


def is_date_valid(date):
    return isinstance(date, (datetime.date, datetime.datetime))


def is_timely(date, event):
    """Always true since CHT 3.8: the engine's generation window replaced it (§4, §6)."""
    return True
