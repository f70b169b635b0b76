"""Programme reports: the registry the owning modules fill, the caller's scope (rights, row security, filters)
and running a report.

A module declares its reports in ``<module>/reports.py`` (found by :func:`autodiscover` when the reports app is
ready)::

    from reports.services import ReportDefinition, register

    def households_by_district(scope):                 # set-based: GROUP BY in the database
        rows = scope.restrict(Group.objects.filter(is_deleted=False), "location")
        ...
        return [{"location": ..., "households": ...}]

    register(ReportDefinition(name="registry_by_location", app="individual", title="...",
                              rights="individual.gql_individual_search_perms", query=households_by_district,
                              columns=[("location", "Location"), ("households", "Households")],
                              filters=("location", "period"), chart={"kind": "bar", "label": "location",
                                                                     "values": ["households"]}))

A query function answers the rows the caller may see, exact: ``scope`` carries the caller's row security
(core.location: their districts and everything below, plus rows without location) intersected with the
location filter, the benefit plan and the period. Every report costs a constant number of statements.
"""
import datetime
import importlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone

from core.location import is_unrestricted, location_manager, row_security_enabled
from core.rights import has_rights, require
from reports.locations import LEVELS, LocationTree

logger = logging.getLogger(__name__)

FILTERS = ("location", "benefit_plan", "period")


@dataclass(frozen=True)
class ReportDefinition:
    name: str
    app: str
    title: str
    rights: str  # a rights spec: "<app>.<config key>" (the owning module's search right)
    query: Callable
    columns: list
    filters: tuple = FILTERS
    chart: dict = field(default_factory=dict)  # {"kind": "bar"|"line", "label": column, "values": [columns]}
    description: str = ""
    order: int = 100

    @property
    def column_keys(self):
        return [key for key, _label in self.columns]


_REGISTRY = {}


def register(definition):
    existing = _REGISTRY.get(definition.name)
    if existing is not None and existing.query is not definition.query:
        raise ValueError(f"Report {definition.name} is registered twice ({existing.app}, {definition.app})")
    _REGISTRY[definition.name] = definition
    return definition


def definitions():
    return sorted(_REGISTRY.values(), key=lambda d: (d.order, d.name))


def definition(name):
    found = _REGISTRY.get(name)
    if found is None or found.app not in settings.OPENIMIS_MODULES:
        raise ValidationError(f"Unknown report: {name}")
    return found


def available(user):
    """The reports ``user`` may run (their owning module installed, its right held)."""
    return [d for d in definitions() if d.app in settings.OPENIMIS_MODULES and has_rights(user, d.rights)]


def autodiscover(modules=None):
    """Import ``<module>.reports`` of every installed module: each registers its reports."""
    for module in settings.OPENIMIS_MODULES if modules is None else modules:
        if importlib.util.find_spec(module) is None or importlib.util.find_spec(f"{module}.reports") is None:
            continue
        importlib.import_module(f"{module}.reports")


# --- filters and scope ----------------------------------------------------------------------------------------
@dataclass
class ReportFilters:
    location_uuid: object = None
    level: str = "D"
    benefit_plan_id: object = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    @classmethod
    def from_params(cls, params):
        """From request parameters (``location``, ``level``, ``benefitPlan``, ``dateFrom``, ``dateTo``)."""
        def text(*names):
            for name in names:
                value = params.get(name)
                if value not in (None, ""):
                    return str(value).strip()
            return None

        def as_uuid(value, name):
            if value is None:
                return None
            try:
                return uuid.UUID(value)
            except ValueError:
                raise ValidationError(f"{name}: not a uuid: {value}")

        def as_date(value, name):
            if value is None:
                return None
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                raise ValidationError(f"{name}: not a date (YYYY-MM-DD): {value}")

        return cls(location_uuid=as_uuid(text("location", "locationUuid"), "location"),
                   level=text("level") or "D",
                   benefit_plan_id=as_uuid(text("benefitPlan", "benefitPlanUuid"), "benefitPlan"),
                   date_from=as_date(text("dateFrom"), "dateFrom"), date_to=as_date(text("dateTo"), "dateTo"))

    def check(self):
        if self.level not in LEVELS:
            raise ValidationError(f"level must be one of {', '.join(LEVELS)}, not {self.level!r}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValidationError("dateFrom is after dateTo")

    def as_dict(self):
        return {"location": str(self.location_uuid) if self.location_uuid else None, "level": self.level,
                "benefitPlan": str(self.benefit_plan_id) if self.benefit_plan_id else None,
                "dateFrom": self.date_from.isoformat() if self.date_from else None,
                "dateTo": self.date_to.isoformat() if self.date_to else None}


class ReportScope:
    """What a caller may see, for one request: built once, shared by every report the request runs.

    ``location_ids`` is ``None`` when nothing limits the locations (an unrestricted caller, no location filter),
    else the allowed location ids; ``include_unlocated`` whether rows without a location count (core's rule:
    they are visible to everyone; a location filter leaves them out)."""

    def __init__(self, user, filters=None):
        self.user = user
        self.filters = filters or ReportFilters()
        self.filters.check()
        self.tree = LocationTree()
        self.level = self.filters.level
        self.benefit_plan_id = self.filters.benefit_plan_id
        self.date_from, self.date_to = self.filters.date_from, self.filters.date_to
        self.today = timezone.localdate()
        self.as_of = None  # the oldest refresh time of the summaries the current report read
        self.location = None
        restricted = row_security_enabled() and not is_unrestricted(user)
        allowed = set(location_manager.get_allowed_ids(user)) if restricted else None
        if self.filters.location_uuid is not None:
            from core.models import Location

            self.location = Location.objects.filter(uuid=self.filters.location_uuid,
                                                    validity_to__isnull=True).first()
            if self.location is None:
                raise ValidationError(f"location: no current location with uuid {self.filters.location_uuid}")
            wanted = self.tree.descendants(self.location.id)
            if allowed is not None:
                wanted &= allowed
                if not wanted:
                    raise PermissionDenied("unauthorized.location")
            self.location_ids, self.include_unlocated = wanted, False
        else:
            self.location_ids, self.include_unlocated = allowed, True

    # row filters ---------------------------------------------------------------------------------------------
    def location_q(self, prefix):
        """Rows whose ``prefix`` location (a path to a core Location) the scope keeps."""
        if self.location_ids is None:
            return Q()
        q = Q(**{f"{prefix}_id__in": sorted(self.location_ids)})
        if self.include_unlocated:
            q |= Q(**{f"{prefix}__isnull": True})
        return q

    def restrict(self, queryset, prefix):
        return queryset.filter(self.location_q(prefix))

    def period_q(self, field_name, is_datetime=False):
        """Rows whose ``field_name`` falls in the period (both ends included); a datetime field is compared by
        its date in ``TIME_ZONE``."""
        lookup = f"{field_name}__date" if is_datetime else field_name
        q = Q()
        if self.date_from:
            q &= Q(**{f"{lookup}__gte": self.date_from})
        if self.date_to:
            q &= Q(**{f"{lookup}__lte": self.date_to})
        return q

    def plan_q(self, field_name="benefit_plan"):
        return Q(**{f"{field_name}_id": self.benefit_plan_id}) if self.benefit_plan_id else Q()

    # summary tables (PostgreSQL) ---------------------------------------------------------------------------
    def summary(self, name):
        """Whether to read summary ``name`` (refreshed, and summaries on); records its refresh time."""
        from reports import summaries

        refreshed = summaries.refreshed_at(name)
        if refreshed is not None:
            self.as_of = refreshed if self.as_of is None else min(self.as_of, refreshed)
        return refreshed is not None

    @staticmethod
    def summary_rows(name, columns, where="", params=(), group_by=None):
        """Rows of summary ``name`` as dicts (``reports.summaries.rows``)."""
        from reports import summaries

        return summaries.rows(name, columns, where, params, group_by)

    def summary_where(self, location_column="location_id", plan_column=None, period_column=None):
        """SQL condition and parameters of the scope's locations (and plan, and period: both ends included) on a
        summary's columns."""
        conditions, params = [], []
        if self.location_ids is not None:
            condition = f"{location_column} = ANY(%s)"
            if self.include_unlocated:
                condition = f"({condition} OR {location_column} IS NULL)"
            conditions.append(condition)
            params.append(sorted(self.location_ids))
        if plan_column and self.benefit_plan_id:
            conditions.append(f"{plan_column} = %s")
            params.append(self.benefit_plan_id)
        for bound, operator in ((self.date_from, ">="), (self.date_to, "<=")):
            if period_column and bound:
                conditions.append(f"{period_column} {operator} %s")
                params.append(bound)
        return " AND ".join(conditions), params

    # presentation --------------------------------------------------------------------------------------------
    def at_level(self, location_id):
        return self.tree.ancestor(location_id, self.level)

    def location_label(self, location_id):
        return self.tree.label(location_id)


def rollup(rows, keys, sums, label=None):
    """Rows summed by ``keys`` (the figures in ``sums``), in first-seen order; ``label(key tuple)`` → row fields."""
    merged = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        target = merged.setdefault(key, {**{k: row[k] for k in keys}, **{s: 0 for s in sums}})
        for s in sums:
            target[s] += row.get(s) or 0
    return list(merged.values())


def by_location(scope, rows, sums, keys=()):
    """``rows`` carrying ``location_id``, summed per location at the scope's level (then ``keys``), labelled
    ``location``, sorted by label; rows without location last."""
    leveled = [{**row, "location_id": scope.at_level(row["location_id"])} for row in rows]
    merged = rollup(leveled, ("location_id", *keys), sums)
    for row in merged:
        row["location"] = scope.location_label(row["location_id"])
    merged.sort(key=lambda r: (r["location_id"] is None, r["location"], *[str(r[k]) for k in keys]))
    return merged


# --- running a report -----------------------------------------------------------------------------------------
@dataclass
class ReportResult:
    definition: ReportDefinition
    rows: list
    filters: dict
    generated_at: datetime.datetime
    elapsed_ms: float = 0.0
    as_of: datetime.datetime | None = None  # figures read from summary tables refreshed at this time

    @property
    def name(self):
        return self.definition.name

    @property
    def totals(self):
        """Sum of every numeric column over the rows (figures only: medians and labels are not summed)."""
        totals = {}
        for key in self.definition.column_keys:
            values = [row.get(key) for row in self.rows]
            numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
                       or _is_decimal(v)]
            if numbers and len(numbers) == len(values) and not key.startswith("median"):
                totals[key] = sum(numbers)
        return totals

    def table(self):
        """Header and cells (the declared columns, in order)."""
        keys = self.definition.column_keys
        return [label for _key, label in self.definition.columns], [[row.get(k) for k in keys] for row in self.rows]

    def as_json(self):
        return {"name": self.name, "title": self.definition.title, "app": self.definition.app,
                "filters": self.filters, "generatedAt": self.generated_at.isoformat(),
                "asOf": self.as_of.isoformat() if self.as_of else None,
                "columns": [{"key": k, "label": label} for k, label in self.definition.columns],
                "rows": [{k: _json_value(row.get(k)) for k in self.definition.column_keys} for row in self.rows],
                "totals": {k: _json_value(v) for k, v in self.totals.items()}}


def _is_decimal(value):
    from decimal import Decimal

    return isinstance(value, Decimal)


def _json_value(value):
    if _is_decimal(value):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def run_report(name, user, filters=None, scope=None):
    """The report ``name`` as ``user`` may see it: ``PermissionDenied`` without the owning module's right (or
    for a location filter outside the caller's districts), ``ValidationError`` for an unknown report or filter."""
    import time

    found = definition(name)
    require(user, found.rights)
    scope = scope or ReportScope(user, filters)
    started = time.perf_counter()
    scope.as_of = None
    rows = found.query(scope)
    elapsed = (time.perf_counter() - started) * 1000
    return ReportResult(definition=found, rows=rows, filters=scope.filters.as_dict(), generated_at=timezone.now(),
                        elapsed_ms=elapsed, as_of=scope.as_of)


def run_available(user, filters=None):
    """Every report ``user`` may run, with one shared scope."""
    reports = available(user)
    if not reports:
        return []
    scope = ReportScope(user, filters)
    return [run_report(d.name, user, scope=scope) for d in reports]
