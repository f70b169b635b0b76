"""Registries of the rules engine: rules, contact adapters, report sources (task_rules.md §10, §11).

Modules register from a ``task_rules`` module (imported at start-up by ``autodiscover``) through the public
names re-exported by ``tasks_management.services``.
"""
import hashlib
import importlib
import inspect
import logging
from dataclasses import dataclass, fields as dataclass_fields
from typing import Any, Callable, Optional

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from tasks_management.rules import sql as _sql  # noqa: F401  (registers __in_array)
from tasks_management.rules.schema import TaskAction, TaskEvent, TaskRule, validate_rule

logger = logging.getLogger(__name__)

RULES = {}
CONTACT_ADAPTERS = {}
REPORT_SOURCES = {}


# --- rules ----------------------------------------------------------------------------------------------------
def register_rule(rule=None, *, replace=False):
    """Register a ``TaskRule`` (or use as a decorator on a function answering one). Raises
    ``ImproperlyConfigured`` listing every problem of the rule. ``replace`` re-registers a name (tests)."""
    if rule is None:
        return lambda r: register_rule(r, replace=replace)
    if callable(rule) and not isinstance(rule, TaskRule):
        register_rule(rule(), replace=replace)
        return rule
    taken = () if replace else tuple(RULES)
    problems = validate_rule(rule, taken)
    if problems:
        raise ImproperlyConfigured("Invalid task rule:\n- " + "\n- ".join(problems))
    RULES[rule.name] = rule
    return rule


def unregister_rule(name):
    RULES.pop(name, None)


def registered_rules():
    return list(RULES.values())


def active_rules(names=None):
    """Registered rules that are enabled (and among ``names`` when given), in registration order."""
    return [rule for rule in RULES.values() if rule.is_enabled() and (names is None or rule.name in names)]


def _callable_source(value):
    try:
        return inspect.getsource(value)
    except (OSError, TypeError):
        return getattr(value, "__qualname__", repr(value))


def _describe(value):
    if callable(value) and not isinstance(value, type):
        return _callable_source(value)
    if isinstance(value, (TaskEvent, TaskAction)):
        return [(f.name, _describe(getattr(value, f.name))) for f in dataclass_fields(value)]
    if isinstance(value, (list, tuple)):
        return [_describe(v) for v in value]
    if isinstance(value, dict):
        return sorted((str(k), _describe(v)) for k, v in value.items())
    return repr(value)


def rules_hash(rules=None):
    """Stable hash of the active rules: names, declared attributes and the source of their callables (CHT's
    rules-configuration hash): a change marks every contact dirty."""
    digest = hashlib.sha256()
    for rule in sorted(active_rules() if rules is None else rules, key=lambda r: r.name):
        for f in dataclass_fields(rule):
            if f.name == "extra":
                continue
            digest.update(f"{rule.name}.{f.name}={_describe(getattr(rule, f.name))}\n".encode())
    return digest.hexdigest()


# --- contacts -------------------------------------------------------------------------------------------------
@dataclass
class ContactAdapter:
    """How one contact type reads (§11): Individual ("first last"), Group (code)…"""

    type: str
    model: str
    label: Callable = str
    reported_date: Callable = lambda obj: obj.date_created  # noqa: E731
    deleted: Callable = lambda obj: bool(obj.is_deleted)  # noqa: E731
    fields: Callable = lambda obj: obj.json_ext or {}  # noqa: E731
    location_id: Callable = lambda obj: getattr(obj, "location_id", None)  # noqa: E731
    candidates: Optional[Callable] = None  # () -> queryset of the contacts a full refresh covers
    only: tuple = ()  # columns (attnames) the callables read: loaded as light rows (empty: model instances)

    @property
    def model_class(self):
        return apps.get_model(self.model)

    def candidate_queryset(self):
        if self.candidates is not None:
            return self.candidates()
        return self.model_class.objects.filter(is_deleted=False)


def register_contact_type(adapter):
    if not isinstance(adapter, ContactAdapter):
        raise ImproperlyConfigured(f"{adapter!r} is not a ContactAdapter")
    CONTACT_ADAPTERS[adapter.type] = adapter
    return adapter


def contact_adapters():
    """The active adapters: registered types listed in ``task_rules_contact_types`` (model from there)."""
    from tasks_management.apps import TasksManagementConfig

    configured = getattr(TasksManagementConfig, "task_rules_contact_types", None) or {}
    active = {}
    for type_name, model in configured.items():
        adapter = CONTACT_ADAPTERS.get(type_name)
        if adapter is None:
            continue
        if model and model.lower() != adapter.model.lower():
            adapter = ContactAdapter(**{**{f.name: getattr(adapter, f.name) for f in dataclass_fields(adapter)},
                                        "model": model})
        active[type_name] = adapter
    return active


def adapter_for_model(model):
    for adapter in contact_adapters().values():
        if adapter.model_class is model:
            return adapter
    return None


# --- reports --------------------------------------------------------------------------------------------------
@dataclass
class ReportSource:
    """A model whose rows are CHT reports (§11). Simple sources name their subject's foreign key
    (``subject_type`` + ``subject_field``); others give set-based ``fetch(contact_type, ids) -> [(subject id,
    obj)]`` and ``subjects(obj) -> [(model label, id)]``. Reports without a contact are *headless*: they are
    grouped under ``headless_model`` rows (``fetch_headless(ids)``, ``headless_candidates()``)."""

    name: str
    model: str
    form: Any
    reported_date: Callable = lambda obj: obj.date_created  # noqa: E731
    fields: Callable = lambda obj: obj.json_ext or {}  # noqa: E731
    deleted: Callable = lambda obj: bool(obj.is_deleted)  # noqa: E731
    subject_type: Optional[str] = None
    subject_field: Optional[str] = None
    fetch: Optional[Callable] = None
    subjects: Optional[Callable] = None
    headless_model: Optional[str] = None
    fetch_headless: Optional[Callable] = None
    headless_candidates: Optional[Callable] = None
    queryset: Optional[Callable] = None  # () -> base queryset (select_related, filters)
    only: tuple = ()  # columns (attnames) the callables read: loaded as light rows (empty: model instances)

    @property
    def model_class(self):
        return apps.get_model(self.model)

    def base_queryset(self):
        return self.queryset() if self.queryset is not None else self.model_class.objects.all()

    def form_of(self, obj):
        return self.form(obj) if callable(self.form) else self.form

    def load(self, contact_type, ids):
        """``[(subject id, obj)]`` of this source's rows about the contacts ``ids`` of ``contact_type``."""
        if self.fetch is not None:
            return list(self.fetch(contact_type, ids) or ())
        if self.subject_type != contact_type or not self.subject_field:
            return []
        from tasks_management.rules.sources import rows

        attname = f"{self.subject_field}_id"
        queryset = self.base_queryset().filter(**{f"{attname}__in_array": ids})
        found = rows(queryset, self.only) if self.only else queryset
        return [(str(getattr(obj, attname)), obj) for obj in found]

    def load_headless(self, ids):
        if self.fetch_headless is None:
            return []
        return list(self.fetch_headless(ids) or ())

    def subjects_of(self, obj):
        """``[(model label, id)]`` whose bundles hold ``obj`` (contacts, or the headless subject)."""
        if self.subjects is not None:
            return list(self.subjects(obj) or ())
        if self.subject_type and self.subject_field:
            adapter = contact_adapters().get(self.subject_type)
            value = getattr(obj, f"{self.subject_field}_id", None)
            if adapter is not None and value is not None:
                return [(adapter.model, str(value))]
        return []


def register_report_source(source):
    if not isinstance(source, ReportSource):
        raise ImproperlyConfigured(f"{source!r} is not a ReportSource")
    REPORT_SOURCES[source.name] = source
    return source


def report_sources():
    return list(REPORT_SOURCES.values())


# --- discovery ------------------------------------------------------------------------------------------------
def autodiscover():
    """Import every installed app's ``task_rules`` module, then the dotted paths of ``task_rules_modules``."""
    from django.utils.module_loading import autodiscover_modules

    from tasks_management.apps import TasksManagementConfig

    autodiscover_modules("task_rules")
    for path in getattr(TasksManagementConfig, "task_rules_modules", None) or ():
        importlib.import_module(path)
