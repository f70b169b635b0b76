"""Files that reach the workflow: header problems fail the upload (workflow.md §9.4 step 5), readable encodings
and formats, each invalid row reported with every reason, the invalid-items download, progress."""
import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from individual.models import Individual, IndividualDataSource

from .conftest import HEADER, api, csv_file, post_import, upload_of

GOOD = "Ann,One,1990-01-02,ann@example.org,N1,2,true,primary,H1,HEAD,1"
BENEFICIARIES = "/api/social_protection/import_beneficiaries/"


def failed_with(response, message):
    upload = upload_of(response)
    upload.refresh_from_db()
    assert upload.status == "FAIL", upload.error
    assert upload.error == {"workflow": message}
    assert not IndividualDataSource.objects.filter(upload=upload, is_deleted=False).exists()
    assert not Individual.objects.exists()
    return upload


def errors_by_name(upload):
    return {s.json_ext.get("first_name"): sorted((e["field_name"], e["note"]) for e in s.validations["validation_errors"])
            for s in IndividualDataSource.objects.filter(upload=upload)}


@pytest.mark.django_db
def test_header_problems_fail_the_upload(clerk, checker, schema, plan_factory):
    failed_with(post_import(clerk, csv_file(["Ann,One,x"], name="a.csv", header="first_name,last_name,email")),
                "Uploaded individuals missing essential header: dob")
    failed_with(post_import(clerk, csv_file(["Ann,One,1990-01-02,1,2"], name="b.csv",
                                            header="first_name,last_name,dob,shoe_size,hat")),
                "Uploaded individuals contains invalid columns: {'shoe_size', 'hat'}"
                .replace("{'shoe_size', 'hat'}", str({"shoe_size", "hat"})))
    failed_with(post_import(clerk, csv_file(["Ann,One,1990-01-02,a,b"], name="c.csv",
                                            header="first_name,last_name,dob,email,email")),
                "Column 'email' appears more than once in the header.")
    failed_with(post_import(clerk, csv_file(["Ann,One,1990-01-02,a,b"], name="c2.csv",
                                            header="first_name,last_name,dob,,email")),
                "Column 4 of the header has no name.")
    failed_with(post_import(clerk, csv_file(["Ann,One,1990-01-02"], name="d.csv", header="first_name,last_name,dob"),
                            workflow="Python Update Individuals"),
                "Uploaded individuals missing essential header: ID")
    plan = plan_factory()
    failed_with(post_import(clerk, csv_file(["Ann,1990-01-02,1"], name="e.csv", header="first_name,dob,shoe_size"),
                            workflow="Python Beneficiaries Upload", group="socialProtection", url=BENEFICIARIES,
                            benefit_plan=str(plan.id)),
                "Uploaded beneficiaries contains invalid columns: {'shoe_size'}\n"
                "Uploaded beneficiaries missing essential header: last_name")


@pytest.mark.django_db
def test_too_many_rows_fail_and_leave_nothing(clerk, checker, schema, settings):
    settings.UPLOAD_MAX_ROWS = 3
    rows = [f"P{i},One,1990-01-02,p{i}@example.org,N{i},1,true,none,H{i},HEAD,1" for i in range(4)]
    upload = upload_of(post_import(clerk, csv_file(rows)))
    upload.refresh_from_db()
    assert upload.status == "FAIL"
    assert upload.error == {"workflow": "The file has more than 3 data rows, the limit."}
    assert not IndividualDataSource.objects.filter(is_deleted=False).exists()
    assert not Individual.objects.exists()
    assert upload.json_ext["progress"]["rows_written"] <= 3


@pytest.mark.django_db
@pytest.mark.parametrize("encoding, delimiter", [("cp1252", ","), ("utf-8-sig", ","), ("utf-8", ";")])
def test_encodings_and_delimiters(clerk, checker, schema, encoding, delimiter):
    lines = [HEADER.replace(",", delimiter),
             delimiter.join(["Zoë", "Müller-Ångström", "1990-01-02", "z@example.org", "N1", "2", "true", "primary",
                             "H1", "HEAD", "1"]),
             delimiter.join(["José", "Núñez", "1991-02-03", "j@example.org", "N2", "", "", "", "H1", "", ""])]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    upload = upload_of(post_import(clerk, SimpleUploadedFile("people.csv", data, content_type="text/csv")))
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    rows = {s.json_ext["first_name"]: s for s in IndividualDataSource.objects.filter(upload=upload)}
    assert set(rows) == {"Zoë", "José"}
    assert rows["Zoë"].json_ext["last_name"] == "Müller-Ångström"
    assert rows["Zoë"].json_ext["number_of_children"] == 2
    assert rows["José"].json_ext == {"first_name": "José", "last_name": "Núñez", "dob": "1991-02-03",
                                     "email": "j@example.org", "national_id": "N2", "group_code": "H1"}
    assert all(s.validations["validation_errors"] == [] for s in rows.values())


@pytest.mark.django_db
def test_xlsx(clerk, checker, schema):
    import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["Zoë", "One", datetime.date(1990, 1, 2), "z@example.org", "N1", 2, True, "primary", "H1", "HEAD", 1])
    sheet.append(["Eve", "Two", "1991-02-03", "e@example.org", "N2", "=1+2", False, "none", "H1", "", 2])
    buffer = io.BytesIO()
    book.save(buffer)
    upload = upload_of(post_import(clerk, SimpleUploadedFile(
        "people.xlsx", buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    rows = {s.json_ext["first_name"]: s for s in IndividualDataSource.objects.filter(upload=upload)}
    assert rows["Zoë"].json_ext == {"first_name": "Zoë", "last_name": "One", "dob": "1990-01-02",
                                    "email": "z@example.org", "national_id": "N1", "number_of_children": 2,
                                    "able_bodied": True, "educated_level": "primary", "group_code": "H1",
                                    "individual_role": "HEAD", "recipient_info": 1}
    assert rows["Zoë"].validations["validation_errors"] == []
    assert [e["field_name"] for e in rows["Eve"].validations["validation_errors"]] == ["number_of_children"]


INVALID_ROWS = [
    "Ann,One,1990-01-02,ann@example.org,N1,2,true,primary,H1,HEAD,1",
    "Bad,Date,06/05/1980,bad@example.org,N2,1,no,none,H2,,",
    ",Blank,1980-05-06,blank@example.org,N3,1,no,none,H2,,",
    "Typed,Wrong,1980-05-06,typed@example.org,N4,many,perhaps,phd,H2,,",
    "Mail,Bad,1980-05-06,not-an-email,N5,1,no,none,H2,,",
    "Form,Ula,1980-05-06,f@example.org,=1+2,1,no,none,H2,,",
    "Twin,A,1980-05-06,t1@example.org,N7,1,no,none,H3,,",
    "Twin,B,1980-05-06,t2@example.org,N7,1,no,none,H3,,",
    "Old,Id,1980-05-06,o@example.org,N0,1,no,none,H3,,",
    "Neg,Kids,1980-05-06,n@example.org,N9,-1,no,none,H3,KING,",
]


@pytest.mark.django_db
def test_every_invalid_row_and_reason(clerk, checker, schema, admin_user):
    from tests.individual.factories import IndividualFactory

    IndividualFactory(first_name="Reg", last_name="Istered", json_ext={"national_id": "N0"}, acting_user=admin_user)
    upload = upload_of(post_import(clerk, csv_file(INVALID_ROWS)))
    upload.refresh_from_db()
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    found = errors_by_name(upload)
    assert found["Ann"] == []
    assert found["Bad"] == [("dob", "'06/05/1980' is not a date in the format YYYY-MM-DD")]
    blank = [s for s in IndividualDataSource.objects.filter(upload=upload) if s.json_ext["last_name"] == "Blank"][0]
    assert [e["field_name"] for e in blank.validations["validation_errors"]] == ["first_name"]
    assert [name for name, _ in found["Typed"]] == ["able_bodied", "educated_level", "number_of_children"]
    assert found["Mail"] == [("email", "invalid email")]
    assert [name for name, _ in found["Form"]] == ["national_id"]
    assert "formula" in found["Form"][0][1]
    assert found["Twin"] is not None
    twins = IndividualDataSource.objects.filter(upload=upload, json_ext__first_name="Twin")
    for twin in twins:
        assert twin.validations["validation_errors"] == [
            {"field_name": "national_id", "note": "national_id 'N7' appears more than once in the file"}]
    assert found["Old"] == [("national_id", "national_id 'N0' is already registered")]
    assert [name for name, _ in found["Neg"]] == ["individual_role", "number_of_children"]
    assert upload.json_ext["progress"]["rows_read"] == 10
    assert upload.json_ext["progress"]["rows_invalid"] == 9
    assert upload.json_ext["progress"]["rows_valid"] == 1
    assert upload.json_ext["progress"]["rows_written"] == 10

    response = api(clerk).get(f"/api/individual/download_invalid_items/?upload_id={upload.id}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="individuals_invalid_items.csv"'
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0] == [*HEADER.split(","), "id", "error"]
    assert len(table) == 10
    assert "Ann" not in [r[0] for r in table[1:]]
    by_name = {r[1]: r for r in table[1:]}
    ids = {str(s.id) for s in IndividualDataSource.objects.filter(upload=upload) if s.json_ext.get("first_name") != "Ann"}
    assert {r[-2] for r in table[1:]} == ids
    assert by_name["Ula"][4] == "'=1+2"
    assert by_name["Date"][2] == "06/05/1980"
    assert by_name["Date"][-1] == "dob: '06/05/1980' is not a date in the format YYYY-MM-DD"
    assert by_name["Kids"][5] == "'-1"


@pytest.mark.django_db
def test_a_file_without_a_valid_row_fails(clerk, checker, schema):
    upload = upload_of(post_import(clerk, csv_file(["Bad,Date,06/05/1980,bad@example.org,N2,1,no,none,H2,,"])))
    upload.refresh_from_db()
    assert upload.status == "FAIL"
    assert list(upload.error) == ["errors"]
    from tasks_management.models import Task

    assert not Task.objects.exists()


@pytest.mark.django_db
def test_progress_through_graphql(clerk, checker, schema, gql):
    upload = upload_of(post_import(clerk, csv_file([GOOD, "Bad,Date,06/05/1980,bad@example.org,N2,1,no,none,H2,,"])))
    content = gql(clerk).data("{ individualDataSourceUpload { edges { node { id status error jsonExt sourceName } } } }")
    node = content["individualDataSourceUpload"]["edges"][0]["node"]
    assert node["status"] == "WAITING_FOR_VERIFICATION"
    assert node["sourceName"] == "people.csv"
    json_ext = json.loads(node["jsonExt"]) if isinstance(node["jsonExt"], str) else node["jsonExt"]
    progress = json_ext["progress"]
    assert {k: progress[k] for k in ("rows_read", "rows_invalid", "rows_written", "rows_valid")} == {
        "rows_read": 2, "rows_invalid": 1, "rows_written": 2, "rows_valid": 1}
    assert upload.id
