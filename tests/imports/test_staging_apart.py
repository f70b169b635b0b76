"""A file of many batches, staged as the celery task does it (outside a transaction, PostgreSQL): each batch after
the first is written by core.bulk's helper process while the next is checked; the rows, their history, the
verdicts and the progress counters are those of a serial staging."""
import pytest
from django.db import connection

from individual import imports
from individual.models import IndividualDataSource

from .conftest import csv_file, post_import, upload_of

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_file_of_many_batches_is_staged_apart_with_its_counters(clerk, checker, schema, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the helper process writes on PostgreSQL")
    monkeypatch.setattr(imports, "BATCH_ROWS", 4)
    lines = [f"P{i},Q,1990-01-0{1 + i % 9},p{i}@example.org,NID{i},1,true,primary,H{i // 3},," for i in range(17)]
    lines.insert(9, "Bad,Date,31/12/1990,bad@example.org,NID-BAD,1,true,primary,H-BAD,,")
    upload = upload_of(post_import(clerk, csv_file(lines)))
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    progress = upload.json_ext["progress"]
    assert (progress["rows_read"], progress["rows_written"], progress["rows_invalid"]) == (18, 18, 1)
    sources = IndividualDataSource.objects.filter(upload=upload, is_deleted=False)
    assert sorted(s.validations["row"] for s in sources) == list(range(2, 20))  # file rows after the header
    [bad] = [s for s in sources if s.validations["validation_errors"]]
    assert bad.validations["row"] == 11 and bad.validations["validation_errors"][0]["field_name"] == "dob"
    assert IndividualDataSource.history.filter(upload_id=upload.id, history_type="+").count() == 18
