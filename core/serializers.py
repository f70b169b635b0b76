"""Batch serializers: a page of records made readable with one query per kind of lookup, not per record.

Shaped like Sentry's serializers: ``get_attrs(items)`` looks up, for the whole page at once, whatever the
items refer to; ``serialize(item, attrs)`` then builds each one from what was looked up. Used for task
``businessData`` (tasks_management) and any other "ids → readable names" view.
"""


class BatchSerializer:
    def __init__(self, user):
        self.user = user

    def get_attrs(self, items):
        """Whatever ``serialize`` needs for these items, fetched together."""
        return {}

    def serialize(self, item, attrs):
        return item

    def serialize_many(self, items):
        items = list(items)
        attrs = self.get_attrs(items)
        return [self.serialize(item, attrs) for item in items]


class IdLabelSerializer(BatchSerializer):
    """Replaces ids by labels in dict items, section by section (CRUD task data: ``incoming_data`` and
    ``current_data``), or at the top level (``sections = None``).

    ``labels``: ``{payload key: lookup}`` where ``lookup(ids) -> {id string: label}`` runs one query for the
    ids of that key across the page. An id without a label stays as it is.
    """

    labels: dict = {}
    sections = ("incoming_data", "current_data")

    def _parts(self, item):
        if not isinstance(item, dict):
            return []
        if self.sections is None:
            return [item]
        return [value for key, value in item.items() if key in self.sections and isinstance(value, dict)]

    def collect(self, part, ids):
        """Add the ids of one section to ``ids`` (``{key: set}``); override for nested payloads."""
        for key in self.labels:
            value = part.get(key)
            if value not in (None, "") and not isinstance(value, (dict, list)):
                ids.setdefault(key, set()).add(str(value))

    def get_attrs(self, items):
        ids = {}
        for item in items:
            for part in self._parts(item):
                self.collect(part, ids)
        return {key: self.labels[key](sorted(values)) if values else {} for key, values in ids.items()}

    def label(self, attrs, key, value):
        return attrs.get(key, {}).get(str(value), value) if value not in (None, "") else value

    def serialize_part(self, part, attrs):
        return {key: self.label(attrs, key, value) if key in self.labels else value for key, value in part.items()}

    def serialize(self, item, attrs):
        if not isinstance(item, dict):
            return item
        if self.sections is None:
            return self.serialize_part(item, attrs)
        return {key: self.serialize_part(value, attrs) if key in self.sections and isinstance(value, dict) else value
                for key, value in item.items()}


def labels_from(queryset, label, key="pk"):
    """A lookup for :class:`IdLabelSerializer`: ``ids → {str(id): label(obj)}`` in one query on ``queryset``."""

    def lookup(ids):
        valid = []
        field = queryset.model._meta.get_field(key) if key != "pk" else queryset.model._meta.pk
        for value in ids:
            try:
                valid.append(field.to_python(value))
            except Exception:  # not an id of this model: no label
                continue
        return {str(getattr(obj, key if key != "pk" else "pk")): label(obj)
                for obj in queryset.filter(**{f"{key}__in": valid})}

    return lookup
