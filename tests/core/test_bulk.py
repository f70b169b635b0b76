"""core.bulk writes the same live and history rows as per-row saves, in a constant number of statements."""
import uuid

import pytest
from django.db import IntegrityError, connection
from django.db.models import F, Value
from django.test.utils import CaptureQueriesContext

from core import bulk
from core.test_helpers import create_test_village
from tests.core.test_app.models import Contract, Widget

pytestmark = pytest.mark.django_db

# what differs between two rows of the same content: identity and the instants they were written
VOLATILE = {"id", "uuid", "history_id", "history_date", "date_created", "date_updated", "date_valid_from"}


def history_of(model, obj_id):
    return [{k: v for k, v in row.items() if k not in VOLATILE}
            for row in model.history.filter(id=obj_id).order_by("history_date", "history_id").values()]


def live(model, obj_id):
    return {k: v for k, v in model.objects.filter(id=obj_id).values()[0].items() if k not in VOLATILE}


@pytest.fixture
def village(db):
    return create_test_village("BLK")


def test_insert_rows_writes_what_a_save_writes(admin_user, village):
    saved = Widget(name="same", location=village, json_ext={"a": 1})
    saved.save(user=admin_user)
    [bulk_id] = bulk.insert_rows(Widget, [{"name": "same", "location": village.id, "json_ext": {"a": 1}}],
                                 user=admin_user, returning=True)
    assert live(Widget, bulk_id) == live(Widget, saved.id)
    assert history_of(Widget, bulk_id) == history_of(Widget, saved.id)
    row = Widget.history.get(id=bulk_id)
    assert (row.history_type, row.history_user_id, row.version) == ("+", admin_user.id, 1)


def test_insert_rows_of_a_business_model_sets_validity(admin_user):
    saved = Contract(code="C-1")
    saved.save(user=admin_user)
    [bulk_id] = bulk.insert_rows(Contract, [{"code": "C-1"}], user=admin_user, returning=True)
    assert live(Contract, bulk_id) == live(Contract, saved.id)
    assert Contract.objects.get(id=bulk_id).date_valid_from is not None
    assert history_of(Contract, bulk_id) == history_of(Contract, saved.id)


def test_update_and_soft_delete_write_what_save_and_delete_write(admin_user, village):
    one, two = Widget(name="one", location=village), Widget(name="one", location=village)
    one.save(user=admin_user)
    two.save(user=admin_user)
    one.name = "renamed"
    one.save(user=admin_user)
    assert bulk.update_with_history(Widget.objects.filter(id=two.id), {"name": "renamed"}, user=admin_user) == 1
    assert live(Widget, two.id) == live(Widget, one.id)
    assert history_of(Widget, two.id) == history_of(Widget, one.id)

    Widget.objects.get(id=one.id).delete(user=admin_user)
    assert bulk.soft_delete_with_history(Widget.objects.filter(id=two.id), user=admin_user) == 1
    assert live(Widget, two.id) == live(Widget, one.id)
    assert live(Widget, two.id)["version"] == 3 and live(Widget, two.id)["is_deleted"] is True
    assert history_of(Widget, two.id) == history_of(Widget, one.id)
    # deleting again changes nothing and writes no history
    assert bulk.soft_delete_with_history(Widget.objects.filter(id=two.id), user=admin_user) == 0
    assert Widget.history.filter(id=two.id).count() == 3


def test_insert_from_select_with_history_and_returning(admin_user, village):
    for name in ("a", "b", "c"):
        Widget(name=name, location=village).save(user=admin_user)
    ids = bulk.insert_from_select(
        Widget, Widget.objects.filter(name__in=["a", "b"]),
        {"name": F("name"), "location": F("location_id"), "json_ext": Value({"copied": True}, output_field=Widget._meta.get_field("json_ext"))},
        user=admin_user, returning=True)
    copies = Widget.objects.filter(id__in=ids)
    assert sorted(copies.values_list("name", flat=True)) == ["a", "b"]
    assert all(c.json_ext == {"copied": True} and c.version == 1 and c.user_created_id == admin_user.id
               for c in copies)
    assert Widget.history.filter(id__in=ids, history_type="+", history_user_id=admin_user.id).count() == 2


def test_on_conflict_do_nothing_makes_reruns_idempotent(admin_user, village):
    rows = [{"id": uuid.uuid4(), "name": f"w{i}"} for i in range(3)]
    assert bulk.insert_rows(Widget, rows, user=admin_user, ignore_conflicts=True) == 3
    again = rows + [{"id": uuid.uuid4(), "name": "new"}]
    assert bulk.insert_rows(Widget, again, user=admin_user, ignore_conflicts=True, returning=True) == [again[-1]["id"]]
    assert Widget.objects.count() == 4 and Widget.history.count() == 4  # no history for skipped rows
    copy_of_existing = {"id": F("id"), "name": F("name")}
    assert bulk.insert_from_select(Widget, Widget.objects.all(), copy_of_existing, user=admin_user,
                                   ignore_conflicts=True) == 0
    assert Widget.history.count() == 4


@pytest.mark.parametrize("writer", ["insert_rows", "insert_from_select", "update", "soft_delete"])
def test_statements_do_not_grow_with_the_rows(admin_user, writer):
    def run(count):
        Widget.objects.all().delete()
        Widget.history.all().delete()
        bulk.insert_rows(Widget, [{"name": f"seed{i}"} for i in range(count)], user=admin_user)
        with CaptureQueriesContext(connection) as queries:
            if writer == "insert_rows":
                bulk.insert_rows(Widget, [{"name": f"n{i}"} for i in range(count)], user=admin_user)
            elif writer == "insert_from_select":
                bulk.insert_from_select(Widget, Widget.objects.all(), {"name": F("name")}, user=admin_user)
            elif writer == "update":
                bulk.update_with_history(Widget.objects.all(), {"name": "same"}, user=admin_user)
            else:
                bulk.soft_delete_with_history(Widget.objects.all(), user=admin_user)
        assert Widget.history.count() == 2 * count
        return len(queries)

    assert run(3) == run(40)


def test_a_failed_bulk_write_leaves_nothing(admin_user):
    same_id = uuid.uuid4()
    rows = [{"id": uuid.uuid4(), "name": "fine"}, {"id": same_id, "name": "a"}, {"id": same_id, "name": "b"}]
    with pytest.raises(IntegrityError):
        bulk.insert_rows(Widget, rows, user=admin_user)
    assert not Widget.objects.exists() and not Widget.history.exists()


def test_insert_from_select_fills_the_defaults_a_save_fills(admin_user, village):
    saved = Widget(name="plain", location=village)
    saved.save(user=admin_user)
    [copy_id] = bulk.insert_from_select(Widget, Widget.objects.filter(id=saved.id),
                                        {"name": F("name"), "location": F("location_id")}, user=admin_user,
                                        returning=True)
    assert live(Widget, copy_id) == live(Widget, saved.id)
    assert history_of(Widget, copy_id) == history_of(Widget, saved.id)


def test_every_write_is_announced_once_with_its_count(admin_user, village):
    heard = []

    def listener(sender, count, **kwargs):
        heard.append((sender, count))

    bulk.bulk_written.connect(listener)
    try:
        ids = bulk.insert_rows(Widget, [{"name": "a"}, {"name": "b"}], user=admin_user, returning=True)
        bulk.insert_from_select(Widget, Widget.objects.filter(id=ids[0]), {"name": F("name")}, user=admin_user)
        bulk.update_with_history(Widget.objects.filter(id__in=ids), {"name": "c"}, user=admin_user)
        bulk.update_rows(Widget, [{"id": ids[0], "name": "d"}], fields=["name"], user=admin_user)
        bulk.soft_delete_with_history(Widget.objects.filter(id=ids[1]), user=admin_user)
        bulk.soft_delete_with_history(Widget.objects.filter(id=ids[1]), user=admin_user)  # nothing left: silent
    finally:
        bulk.bulk_written.disconnect(listener)
    assert heard == [(Widget, 2), (Widget, 1), (Widget, 2), (Widget, 1), (Widget, 1)]


@pytest.mark.parametrize("text", ["tab\there", "new\nline", "back\\slash \\N", "cr\r", "ünïcødé ✓", "\\.", " "])
def test_copy_text_keeps_every_character_a_save_keeps(admin_user, village, text):
    """Rows go through COPY as text written by core.bulk (PostgreSQL): escapes, NULL-like texts, JSON strings,
    booleans, dates and the history rows' suffix arrive as a save writes them (SQLite: the same through INSERT)."""
    attributes = {"note": text, "nested": {"list": [1, 2.5, None, True], "text": text}}
    saved = Widget(name=text, location=village, json_ext=attributes)
    saved.save(user=admin_user)
    [bulk_id] = bulk.insert_rows(Widget, [{"name": text, "location": village.id, "json_ext": attributes}],
                                 user=admin_user, returning=True)
    assert live(Widget, bulk_id) == live(Widget, saved.id)
    assert history_of(Widget, bulk_id) == history_of(Widget, saved.id)
    assert Widget.objects.get(id=bulk_id).name == text


def test_a_select_reading_the_target_table_is_chosen_before_the_insert(admin_user, village):
    """``INSERT … SELECT … WHERE NOT EXISTS (same table)``: PostgreSQL stages the chosen rows first (a per-row scan
    of a table the INSERT is growing reads every row added so far: quadratic); the result is the same."""
    from django.db.models import Exists, OuterRef
    from django.db.models.functions import Concat

    bulk.insert_rows(Widget, [{"name": f"w{i}", "location": village.id} for i in range(5)], user=admin_user)
    bulk.insert_rows(Widget, [{"name": "w0-copy"}], user=admin_user)
    missing = Widget.objects.filter(name__regex=r"^w\d$").filter(
        ~Exists(Widget.objects.filter(name=Concat(OuterRef("name"), Value("-copy")))))
    with CaptureQueriesContext(connection) as queries:
        written = bulk.insert_from_select(Widget, missing, {"name": Concat(F("name"), Value("-copy"))},
                                          user=admin_user)
    assert written == 4
    assert sorted(Widget.objects.filter(name__endswith="-copy").values_list("name", flat=True)) == [
        f"w{i}-copy" for i in range(5)]
    assert Widget.history.filter(name__endswith="-copy", history_type="+").count() == 5
    staged = [q["sql"] for q in queries.captured_queries if "bulk_src_" in q["sql"]]
    assert bool(staged) == (connection.vendor == "postgresql")


@pytest.mark.parametrize("text", ["tab\there", "new\nline", "back\\slash \\N", "cr\r", "\\."])
def test_update_rows_copy_text_keeps_every_character(admin_user, village, text):
    [bulk_id] = bulk.insert_rows(Widget, [{"name": "plain", "location": village.id}], user=admin_user,
                                 returning=True)
    attributes = {"note": text, "list": [text, None]}
    assert bulk.update_rows(Widget, [{"id": bulk_id, "name": text, "json_ext": attributes, "location": None}],
                            fields=["name", "json_ext", "location"], user=admin_user) == 1
    row = Widget.objects.get(id=bulk_id)
    assert (row.name, row.json_ext, row.location_id, row.version) == (text, attributes, None, 2)
    assert Widget.history.filter(id=bulk_id).order_by("history_date")[1].name == text


def test_insert_rows_writes_numbers_dates_and_given_ids_as_a_save_does(admin_user):
    import datetime
    import decimal

    given = uuid.uuid4()
    valid_from = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc)
    ids = bulk.insert_rows(Contract, [{"id": given, "code": "C-D", "date_valid_from": valid_from,
                                       "json_ext": {"amount": str(decimal.Decimal("12.50"))}},
                                      {"code": "C-E"}], user=admin_user, returning=True)
    assert ids[0] == given and isinstance(ids[1], uuid.UUID)
    row = Contract.objects.get(id=given)
    assert (row.code, row.date_valid_from, row.json_ext) == ("C-D", valid_from, {"amount": "12.50"})
    assert Contract.history.filter(id=given).count() == 1


def test_fewer_collections_raises_the_young_threshold_and_the_last_block_out_restores_it():
    import gc

    before = gc.get_threshold()
    with bulk.fewer_collections():
        with bulk.fewer_collections():
            assert gc.get_threshold() == (bulk.YOUNG_GENERATION_THRESHOLD, *before[1:])
        assert gc.get_threshold()[0] == bulk.YOUNG_GENERATION_THRESHOLD
    assert gc.get_threshold() == before
