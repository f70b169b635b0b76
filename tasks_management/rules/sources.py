"""Bundles (task_rules.md §11): a contact (or a headless subject) with its reports, built set-wise per chunk.

A *subject* is ``(model label, id)``: a contact of a registered contact type, or — for reports without a
contact — the headless row the report source groups them under (a ticket reported by a user). Loading a
chunk costs one query for the contacts plus a constant number per report source, whatever its size.
"""
import contextvars
from dataclasses import dataclass, field
from typing import Any, Optional

from django.apps import apps

from tasks_management.rules.registry import contact_adapters, report_sources


_chunk_memo = contextvars.ContextVar("task_rules_chunk_memo", default=None)


def chunk_memo():
    """A dict living while one chunk's bundles load: report sources share lookups there (e.g. grievance's
    beneficiary → individual map, read once for tickets and comments)."""
    memo = _chunk_memo.get()
    return memo if memo is not None else {}


class RowView:
    """A row read with ``values()`` that reads like the model instance for the declared columns (``pk``,
    ``_meta``, attributes): contacts and reports of sources declaring ``only`` load this way, without the cost of
    building model instances."""

    __slots__ = ("__dict__",)

    def __init__(self, meta, values):
        self.__dict__.update(values)
        self.__dict__["_meta"] = meta
        self.__dict__["pk"] = values.get(meta.pk.attname)

    def __repr__(self):
        return f"<{self._meta.object_name} row {self.pk}>"


def rows(queryset, columns):
    """``RowView`` objects of ``queryset`` reading ``columns`` (attnames)."""
    meta = queryset.model._meta
    return [RowView(meta, values) for values in queryset.values(*columns)]


def model_label(model):
    """``app_label.modelname`` (ContentType's spelling) of a model class or instance."""
    meta = model._meta
    return f"{meta.app_label}.{meta.model_name}"


def ref_of(obj):
    return f"{model_label(obj)}:{obj.pk}"


@dataclass
class ContactView:
    id: str
    type: str
    name: Optional[str]
    reported_date: Any
    deleted: bool
    fields: dict
    obj: Any
    ref: str
    location_id: Optional[int] = None


@dataclass
class ReportView:
    id: str
    ref: str
    form: str
    reported_date: Any
    fields: dict
    deleted: bool
    obj: Any
    source: str


@dataclass
class RuleBundle:
    """CHT's ``{contact, reports, tasks}``; ``subject`` is the ``(model label, id)`` the tasks hang on."""

    subject: tuple
    contact: Optional[ContactView]
    reports: list = field(default_factory=list)
    tasks: list = field(default_factory=list)

    @property
    def subject_ref(self):
        return f"{self.subject[0]}:{self.subject[1]}"


def adapter_for_label(label):
    for adapter in contact_adapters().values():
        if model_label(adapter.model_class) == label.lower():
            return adapter
    return None


def contact_view(adapter, obj):
    return ContactView(id=str(obj.pk), type=adapter.type, name=adapter.label(obj),
                       reported_date=adapter.reported_date(obj), deleted=adapter.deleted(obj),
                       fields=adapter.fields(obj) or {}, obj=obj, ref=ref_of(obj),
                       location_id=adapter.location_id(obj))


def report_view(source, obj):
    return ReportView(id=str(obj.pk), ref=ref_of(obj), form=source.form_of(obj),
                      reported_date=source.reported_date(obj), fields=source.fields(obj) or {},
                      deleted=source.deleted(obj), obj=obj, source=source.name)


def load_bundles(label, ids):
    """Bundles of the subjects ``ids`` (strings) of the model ``label``, in the order of ``ids``."""
    ids = [str(i) for i in ids]
    token = _chunk_memo.set({})
    try:
        return _load_bundles(label, ids)
    finally:
        _chunk_memo.reset(token)


def _load_bundles(label, ids):
    adapter = adapter_for_label(label)
    bundles = {i: RuleBundle(subject=(label, i), contact=None) for i in ids}
    if adapter is not None:
        queryset = adapter.model_class.objects.filter(pk__in_array=ids)
        for obj in (rows(queryset, adapter.only) if adapter.only else queryset):
            bundle = bundles.get(str(obj.pk))
            if bundle is not None:
                bundle.contact = contact_view(adapter, obj)
        for source in report_sources():
            for subject_id, obj in source.load(adapter.type, ids):
                bundle = bundles.get(str(subject_id))
                if bundle is not None:
                    bundle.reports.append(report_view(source, obj))
    else:
        for source in report_sources():
            if source.headless_model and model_label(apps.get_model(source.headless_model)) == label:
                for key, obj in source.load_headless(ids):
                    bundle = bundles.get(str(key))
                    if bundle is not None:
                        bundle.reports.append(report_view(source, obj))
    for bundle in bundles.values():
        bundle.reports.sort(key=lambda r: r.reported_date)
    return [bundles[i] for i in ids]


def subject_labels():
    """Model labels of every subject kind: contact models, then headless models."""
    labels = [model_label(a.model_class) for a in contact_adapters().values()]
    for source in report_sources():
        if source.headless_model:
            label = model_label(apps.get_model(source.headless_model))
            if label not in labels:
                labels.append(label)
    return labels


def candidate_ids(label):
    """Ids (strings) of the subjects of ``label`` a full refresh covers."""
    adapter = adapter_for_label(label)
    if adapter is not None:
        return [str(pk) for pk in adapter.candidate_queryset().order_by().values_list("pk", flat=True)
                .iterator(chunk_size=5000)]
    found = []
    seen = set()
    for source in report_sources():
        if source.headless_model and model_label(apps.get_model(source.headless_model)) == label \
                and source.headless_candidates is not None:
            for pk in source.headless_candidates():
                key = str(pk)
                if key not in seen:
                    seen.add(key)
                    found.append(key)
    return found


def find_subjects(ids):
    """``[(label, id)]`` of the subjects (contacts first, then headless rows) having these ids."""
    ids = [str(i) for i in ids]
    found = []
    for label in subject_labels():
        app_label, model = label.split(".", 1)
        model_class = apps.get_model(app_label, model)
        found.extend((label, str(pk)) for pk in model_class.objects.filter(pk__in=ids).values_list("pk", flat=True))
    return found
