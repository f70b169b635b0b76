"""Cursors of list pages: a row's position, and where the list's order allows it, the row's sort key.

A page read after (or before) a cursor that carries the sort key continues with ``WHERE (sort columns) > (key)``
instead of ``OFFSET``: the database seeks in the index, so the thousandth page costs what the first does. The
key is signed (a client cannot forge one to probe values it never saw) and bound to the order it was made for;
a cursor without a key, with another order or with a bad signature pages by its position, as relay's plain
``arrayconnection:<n>`` cursors (which the openIMIS frontend also sends) always do.

A key is possible when every sort term is a non-null column of the listed table itself, all in one direction
(the primary key closes every order, see ``apply_order``); otherwise pages go by position.
"""
import base64

from django.core import signing
from django.db import models
from django.db.models.lookups import GreaterThan, LessThan

PREFIX = "arrayconnection:"
_SALT = "core.gql.cursor"
# No timestamp in the signature: a cursor names a row's place, not a moment, so the same page read twice (with or
# without totalCount, a second apart) answers the same cursors.
_SIGNER = signing.Signer(salt=_SALT)


class _Row(models.Func):
    """``(a, b, …)``: a row value, compared as a whole (lexicographically) by ``>`` and ``<``."""

    template = "(%(expressions)s)"

    def __init__(self, *expressions):
        super().__init__(*expressions, output_field=models.Field())


class KeysetOrder:
    """The sort of a queryset when pages may seek by key: its columns and direction."""

    def __init__(self, fields, descending):
        self.fields, self.descending = fields, descending
        self.signature = ",".join(("-" if descending else "") + field.attname for field in fields)

    @classmethod
    def of(cls, queryset):
        """The queryset's keyset order, or None when its order cannot be sought by key."""
        query = queryset.query
        terms = list(query.order_by) if query.order_by else []
        if not terms or query.distinct or query.combinator or query.extra_order_by:
            return None
        model, fields, directions = queryset.model, [], set()
        for term in terms:
            if not isinstance(term, str) or term == "?":
                return None
            name = term.lstrip("-")
            directions.add(term.startswith("-"))
            if "__" in name or name in query.annotations:
                return None
            try:
                field = model._meta.get_field("id" if name == "pk" else name)
            except Exception:
                return None
            if not getattr(field, "concrete", False) or field.null or field.many_to_many:
                return None
            fields.append(field)
        if len(directions) != 1 or not fields[-1].primary_key:
            return None
        return cls(fields, directions.pop())

    def key_of(self, row):
        return [field.value_to_string(row) for field in self.fields]

    def seek(self, queryset, key, forward=True):
        """``queryset`` restricted to the rows after (``forward``) or before ``key`` in this order."""
        columns = _Row(*(models.F(field.attname) for field in self.fields))
        values = _Row(*(models.Value(_typed(field, value), output_field=_value_field(field))
                        for field, value in zip(self.fields, key)))
        after = forward != self.descending
        return queryset.filter(GreaterThan(columns, values) if after else LessThan(columns, values))


def _value_field(field):
    return field.target_field if field.is_relation else field


def _typed(field, text):
    return _value_field(field).to_python(text)


def encode(offset, order=None, row=None):
    """The cursor of the row at ``offset`` (with its key when ``order`` allows one)."""
    text = f"{PREFIX}{offset}"
    if order is not None and row is not None:
        text += "|" + _SIGNER.sign_object([order.signature, order.key_of(row)], compress=True)
    return base64.b64encode(text.encode()).decode()


def decode(cursor, order=None):
    """``(offset, key)`` of a cursor: key None unless it was signed for ``order``; offset None when the cursor
    is not one of ours (the caller treats it as absent, as relay does)."""
    if not cursor:
        return None, None
    try:
        text = base64.b64decode(str(cursor).encode(), validate=False).decode()
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not text.startswith(PREFIX):
        return None, None
    position, _, signed = text[len(PREFIX):].partition("|")
    try:
        offset = int(position)
    except ValueError:
        return None, None
    key = None
    if signed and order is not None:
        try:
            signature, values = _SIGNER.unsign_object(signed)
        except signing.BadSignature:
            values = None
        else:
            if signature == order.signature and isinstance(values, list) and len(values) == len(order.fields):
                try:
                    [_typed(field, value) for field, value in zip(order.fields, values)]
                    key = values
                except Exception:
                    key = None
    return offset, key


def positional(cursor):
    """``cursor`` as relay's plain position cursor (for the pages relay slices itself)."""
    offset, _key = decode(cursor)
    return None if offset is None else encode(offset)
