"""``core.bulk.BackgroundInserts``: a long stream of batches written and committed by a helper process (PostgreSQL,
outside a transaction) while the caller prepares the next batch; the rows and history rows are those
``insert_rows`` writes, a failed batch leaves nothing of itself, and inside a transaction nothing runs apart."""
import pytest
from django.db import DatabaseError, connection, transaction

from core import bulk
from tests.core.test_app.models import Widget
from tests.core.test_bulk import history_of, live


def rows(batch, count=40):
    return [{"name": f"b{batch}-{i}", "json_ext": {"i": i, "text": "tab\there \\N"}} for i in range(count)]


class Heard:
    def __init__(self):
        self.counts = []

    def __call__(self, sender, count, **kwargs):
        self.counts.append((sender, count))

    def __enter__(self):
        bulk.bulk_written.connect(self)
        return self

    def __exit__(self, *exc):
        bulk.bulk_written.disconnect(self)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_batches_written_apart_are_what_insert_rows_writes(admin_user):
    if connection.vendor != "postgresql":
        pytest.skip("the helper process writes on PostgreSQL")
    with Heard() as heard, bulk.BackgroundInserts(Widget, user=admin_user) as inserts:
        for batch in range(3):
            inserts.write(rows(batch))
        assert inserts.process is not None  # the first batch went in the caller's connection, the others apart
    assert inserts.process.returncode == 0
    assert inserts.committed == inserts.written == 120
    assert heard.counts == [(Widget, 120)]
    [reference] = bulk.insert_rows(Widget, rows(2)[:1], user=admin_user, returning=True)
    for name in ("b0-0", "b2-0"):  # the first batch (here) and the third (apart) alike
        written = Widget.objects.filter(name=name).exclude(id=reference).get()
        assert live(Widget, written.id) == {**live(Widget, reference), "name": name}
        assert history_of(Widget, written.id) == [{**row, "name": name} for row in history_of(Widget, reference)]
    assert Widget.objects.count() == Widget.history.count() == 121


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_batch_apart_leaves_nothing_of_itself_and_is_raised(admin_user):
    if connection.vendor != "postgresql":
        pytest.skip("the helper process writes on PostgreSQL")
    broken = rows(2)
    broken[5]["name"] = "nul\x00inside"  # PostgreSQL refuses it in the COPY text
    with pytest.raises(DatabaseError) as caught:
        with bulk.BackgroundInserts(Widget, user=admin_user) as inserts:
            for batch in (rows(0), rows(1), broken, rows(3)):
                inserts.write(batch)
    assert "0x00" in str(caught.value)
    assert inserts.committed == 80  # the batches before it
    assert sorted({name[:2] for name in Widget.objects.values_list("name", flat=True)}) == ["b0", "b1"]
    assert Widget.objects.count() == Widget.history.count() == 80
    assert inserts.process.returncode not in (None, 0)


@pytest.mark.django_db
def test_inside_a_transaction_every_batch_is_written_in_it(admin_user):
    with pytest.raises(RuntimeError), transaction.atomic():
        with bulk.BackgroundInserts(Widget, user=admin_user) as inserts:
            for batch in range(3):
                inserts.write(rows(batch))
            assert inserts.process is None and inserts.committed == 120
        assert Widget.objects.count() == Widget.history.count() == 120
        raise RuntimeError("rolled back")
    assert not Widget.objects.exists() and not Widget.history.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_a_helper_process_the_batches_go_one_after_the_other(admin_user, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no processes left")

    monkeypatch.setattr(bulk.subprocess, "Popen", refuse)
    with bulk.BackgroundInserts(Widget, user=admin_user) as inserts:
        for batch in range(3):
            inserts.write(rows(batch))
    assert inserts.process is None and inserts.committed == 120
    assert Widget.objects.count() == Widget.history.count() == 120


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_helper_that_dies_is_an_error_not_a_hang(admin_user):
    if connection.vendor != "postgresql":
        pytest.skip("the helper process writes on PostgreSQL")
    with pytest.raises(DatabaseError, match="bulk writer process stopped"):
        with bulk.BackgroundInserts(Widget, user=admin_user) as inserts:
            inserts.write(rows(0))
            inserts.write(rows(1))
            inserts.process.kill()  # e.g. the kernel's out-of-memory killer, while batch 1 may be in flight
            inserts.process.wait()
            inserts.write(rows(2))
            inserts.write(rows(3))
    assert not Widget.objects.filter(name__startswith="b2").exists()
    assert not Widget.objects.filter(name__startswith="b3").exists()
    assert Widget.objects.count() == Widget.history.count()  # whatever was written came with its history
