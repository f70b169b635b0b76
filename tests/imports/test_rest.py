"""The import endpoints as a client sees them: refusals with the spec's messages (individual.md §8.1,
social_protection.md §5, workflow.md §9.3), nothing written and nothing stored on a refusal, rights."""
import io
import os
import uuid

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from individual.models import Individual, IndividualDataSource, IndividualDataSourceUpload, IndividualDataUploadRecords

from .conftest import HEADER, api, approve, csv_file, post_import, upload_of

ROW = "Ann,One,1990-01-02,ann@example.org,N1,2,true,primary,H1,HEAD,1"
BENEFICIARIES = "/api/social_protection/import_beneficiaries/"


def stored_files():
    root = default_storage.location
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files) \
        if os.path.isdir(root) else []


def assert_refused(response, status, message):
    assert response.status_code == status, response.content
    assert response.json() == {"success": False, "error": message}


def assert_nothing_written():
    assert not IndividualDataSourceUpload.objects.exists()
    assert not IndividualDataUploadRecords.objects.exists()
    assert not IndividualDataSource.objects.exists()
    assert stored_files() == []


def png():
    return SimpleUploadedFile("people.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
                                            b"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8"
                                            b"\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND"
                                            b"\xaeB`\x82", content_type="image/png")


def pdf():
    return SimpleUploadedFile("people.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
                                            b"trailer\n<< /Root 1 0 R >>\n%%EOF\n", content_type="application/pdf")


@pytest.mark.django_db
@pytest.mark.parametrize("fields, message", [
    ({"file": None}, "Import file not provided"),
    ({"workflow_name": ""}, "Workflow name not provided"),
    ({"workflow_group": ""}, "Workflow group not provided"),
    ({"workflow_name": "Nope"}, "Workflow not found: group=individual name=Nope"),
    ({"workflow_group": "nowhere"}, "Workflow not found: group=nowhere name=Python Import Individuals"),
])
def test_individual_import_refusals(clerk, schema, fields, message):
    data = {"file": csv_file([ROW]), "workflow_name": "Python Import Individuals", "workflow_group": "individual",
            **fields}
    data = {k: v for k, v in data.items() if v is not None}
    response = api(clerk).post("/api/individual/import_individuals/", data, format="multipart")
    assert_refused(response, 400, message)
    assert_nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize("make_file, message", [
    (png, "Unsupported content type: image/png. "),
    (pdf, "Unsupported content type: application/pdf. "),
    (lambda: SimpleUploadedFile("people.csv", b"", content_type="text/csv"), "Import file is empty"),
    (lambda: SimpleUploadedFile("people.csv", b"\n\n", content_type="text/csv"), "Import file is empty"),
    (lambda: SimpleUploadedFile("people.csv", (HEADER + "\n").encode(), content_type="text/csv"),
     "Import file is empty"),
    (lambda: SimpleUploadedFile("people.csv", (HEADER + "\n,,,\n").encode(), content_type="text/csv"),
     "Import file is empty"),
])
def test_unreadable_files_are_refused_and_not_kept(clerk, schema, make_file, message):
    response = post_import(clerk, make_file())
    assert response.status_code == 400, response.content
    assert response.json()["success"] is False
    assert response.json()["error"].startswith(message)
    assert_nothing_written()


@pytest.mark.django_db
def test_a_zip_that_is_no_spreadsheet_is_unsupported(clerk, schema):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    response = post_import(clerk, SimpleUploadedFile("people.zip", buffer.getvalue(), content_type="application/zip"))
    assert response.status_code == 400
    assert response.json()["error"].startswith("Unsupported content type: application/zip")
    assert_nothing_written()


@pytest.mark.django_db
def test_second_upload_of_a_running_file_is_a_conflict(clerk, schema):
    first = upload_of(post_import(clerk, csv_file([ROW]), run=False))
    assert first.status == "PENDING"  # its workflow runs after commit, which never comes in this test
    response = post_import(clerk, csv_file([ROW]))
    assert_refused(response, 409, "File people.csv has already been uploaded")
    empty = SimpleUploadedFile("people.csv", b"", content_type="text/csv")
    assert_refused(post_import(clerk, empty), 400, "Import file is empty")  # the running upload's file stays
    assert IndividualDataSourceUpload.objects.count() == 1
    assert stored_files() == ["individual_upload/people.csv"]
    with default_storage.open("individual_upload/people.csv") as kept:
        assert kept.read().decode().splitlines()[1] == ROW


@pytest.mark.django_db
def test_same_name_after_success_is_a_conflict_after_failure_replaces_the_file(clerk, checker, schema):
    broken = SimpleUploadedFile("people.csv", b"first_name,last_name\nAnn,One\n", content_type="text/csv")
    failed = upload_of(post_import(clerk, broken))
    failed.refresh_from_db()
    assert failed.status == "FAIL"
    assert failed.error == {"workflow": "Uploaded individuals missing essential header: dob"}

    replaced = upload_of(post_import(clerk, csv_file([ROW])))
    with default_storage.open("individual_upload/people.csv") as kept:
        assert kept.read().decode().splitlines()[1] == ROW
    replaced.refresh_from_db()
    assert replaced.status == "WAITING_FOR_VERIFICATION", replaced.error
    # waiting for the checker: still running
    assert_refused(post_import(clerk, csv_file([ROW])), 409, "File people.csv has already been uploaded")
    approve(checker)
    approve(checker, "import_group_valid_items")
    replaced.refresh_from_db()
    assert replaced.status == "SUCCESS", replaced.error
    assert_refused(post_import(clerk, csv_file([ROW])), 409, "File people.csv has already been uploaded")
    assert IndividualDataSourceUpload.objects.count() == 2
    assert Individual.objects.count() == 1


@pytest.mark.django_db
def test_rights(client, make_user, schema, no_rights_user):
    reader = make_user("reader", rights=[159001])
    anonymous = api(None).post("/api/individual/import_individuals/",
                               {"file": csv_file([ROW]), "workflow_name": "Python Import Individuals",
                                "workflow_group": "individual"}, format="multipart")
    assert anonymous.status_code in (401, 403)
    assert_refused(post_import(reader, csv_file([ROW])), 403, "Unauthorized")
    assert_refused(post_import(no_rights_user, csv_file([ROW]), url=BENEFICIARIES,
                               benefit_plan=str(uuid.uuid4())), 403, "Unauthorized")
    assert_nothing_written()
    for url in ("/api/individual/download_invalid_items/?upload_id=" + str(uuid.uuid4()),
                "/api/individual/download_individual_upload_file/?filename=people.csv",
                "/api/social_protection/download_invalid_items/?upload_id=" + str(uuid.uuid4()),
                "/api/social_protection/download_beneficiary_upload_file/?benefit_plan_id=x&filename=a.csv"):
        assert api(None).get(url).status_code in (401, 403), url
        assert_refused(api(no_rights_user).get(url), 403, "Unauthorized")
        assert api(reader).get(url).status_code == 404, url
    assert api(None).get("/api/individual/download_template_file/").status_code in (401, 403)
    assert_refused(api(reader).get("/api/individual/download_template_file/"), 403, "Unauthorized")


@pytest.mark.django_db
def test_beneficiary_import_refusals(clerk, schema, plan_factory):
    plan = plan_factory()
    base = {"file": csv_file([ROW]), "benefit_plan": str(plan.id), "workflow_name": "Python Beneficiaries Upload",
            "workflow_group": "socialProtection"}
    unknown = str(uuid.uuid4())
    cases = [
        ({"file": None}, "Import file not provided"),
        ({"benefit_plan": None}, "Benefit plan UUID not provided"),
        ({"benefit_plan": unknown}, f"Benefit Plan not found: {unknown}"),
        ({"benefit_plan": "not-a-uuid"}, "Benefit Plan not found: not-a-uuid"),
        ({"workflow_name": None}, "Workflow name not provided"),
        ({"workflow_group": None}, "Workflow group not provided"),
        ({"workflow_name": "Python Import Individuals"},
         "Workflow not found: group=socialProtection name=Python Import Individuals"),
        ({"group_aggregation_column": "household"}, "Group aggregation only for group type benefit plans"),
    ]
    for fields, message in cases:
        data = {**base, "file": csv_file([ROW]), **fields}
        data = {k: v for k, v in data.items() if v is not None}
        assert_refused(api(clerk).post(BENEFICIARIES, data, format="multipart"), 400, message)
        assert_nothing_written()
    deleted = plan_factory(code="BP2")
    deleted.is_deleted = True
    deleted.save(user=clerk)
    data = {**base, "file": csv_file([ROW]), "benefit_plan": str(deleted.id)}
    assert_refused(api(clerk).post(BENEFICIARIES, data, format="multipart"), 400,
                   f"Benefit Plan not found: {deleted.id}")
    assert_nothing_written()


@pytest.mark.django_db
def test_beneficiary_conflict_is_per_plan(clerk, schema, plan_factory):
    one, two = plan_factory(code="BP1"), plan_factory(code="BP2")

    def post(plan):
        return post_import(clerk, csv_file([ROW]), workflow="Python Beneficiaries Upload", group="socialProtection",
                           url=BENEFICIARIES, benefit_plan=str(plan.id), run=False)

    upload_of(post(one))
    assert_refused(post(one), 409, "File people.csv has already been uploaded")
    upload_of(post(two))
    assert stored_files() == sorted([f"beneficiary_upload/benefit_plan_{one.id}/people.csv",
                              f"beneficiary_upload/benefit_plan_{two.id}/people.csv"])


@pytest.mark.django_db
def test_download_of_the_stored_original(clerk, schema, plan_factory):
    plan = plan_factory()
    upload_of(post_import(clerk, csv_file([ROW]), run=False))
    upload_of(post_import(clerk, csv_file([ROW], name="plan.csv"), workflow="Python Beneficiaries Upload",
                          group="socialProtection", url=BENEFICIARIES, benefit_plan=str(plan.id), run=False))
    response = api(clerk).get("/api/individual/download_individual_upload_file/?filename=people.csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode().splitlines() == [HEADER, ROW]
    response = api(clerk).get(f"/api/social_protection/download_beneficiary_upload_file/?benefit_plan_id={plan.id}"
                              "&filename=plan.csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode().splitlines() == [HEADER, ROW]
    assert api(clerk).get("/api/individual/download_individual_upload_file/?filename=other.csv").status_code == 404
    for name in ("../individual_upload/people.csv", "..", "a/../../people.csv", "..%2Fsettings.py", "a\\b.csv"):
        response = api(clerk).get("/api/individual/download_individual_upload_file/", {"filename": name})
        assert response.status_code in (400, 404), name
        response = api(clerk).get("/api/social_protection/download_beneficiary_upload_file/",
                                  {"benefit_plan_id": str(plan.id), "filename": "../../individual_upload/people.csv"})
        assert response.status_code in (400, 404)
    assert api(clerk).get("/api/individual/download_individual_upload_file/").status_code == 400


@pytest.mark.django_db
def test_templates(clerk, schema, plan_factory, make_user):
    response = api(clerk).get("/api/individual/download_template_file/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="individual_upload_template.csv"'
    assert b"".join(response.streaming_content).decode().splitlines() == [
        "first_name,last_name,dob,id,email,national_id,number_of_children,able_bodied,educated_level,"
        "recipient_info,individual_role,group_code"]
    plan = plan_factory(schema={"type": "object", "properties": {"income": {"type": "number"},
                                                                "village": {"type": "string"}}})
    response = api(clerk).get(f"/api/social_protection/download_template_benefit_plan_file/?benefit_plan_uuid={plan.id}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="beneficiary_upload_template.csv"'
    assert b"".join(response.streaming_content).decode().splitlines() == [
        "first_name,last_name,dob,id,income,village,recipient_info,group_code"]
    bare = plan_factory(code="BP9", schema={})
    response = api(clerk).get(f"/api/social_protection/download_template_benefit_plan_file/?benefit_plan_uuid={bare.id}")
    assert b"".join(response.streaming_content).decode().splitlines() == [
        "first_name,last_name,dob,id,email,national_id,number_of_children,able_bodied,educated_level,"
        "recipient_info,group_code"]
    unknown = uuid.uuid4()
    assert_refused(api(clerk).get(f"/api/social_protection/download_template_benefit_plan_file/"
                                  f"?benefit_plan_uuid={unknown}"), 400, f"Benefit Plan not found: {unknown}")
    without = make_user("no-plan-rights", rights=[159001, 159002])
    assert api(without).get(f"/api/social_protection/download_template_benefit_plan_file/"
                            f"?benefit_plan_uuid={plan.id}").status_code == 403


@pytest.mark.django_db
def test_an_unexpected_failure_is_a_500_without_detail_and_leaves_nothing(clerk, schema, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(IndividualDataUploadRecords, "save", broken)
    response = post_import(clerk, csv_file([ROW]))
    assert_refused(response, 500, "Unexpected error while receiving the upload")
    assert "secret" not in response.content.decode()
    assert_nothing_written()


@pytest.mark.django_db
def test_a_workflow_of_the_other_endpoint_is_refused(clerk, schema):
    response = post_import(clerk, csv_file(["Ann,One,1990-01-02,,,,,,,,"]), workflow="Python Beneficiaries Upload",
                           group="socialProtection")
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": "Workflow group socialProtection does not import "
                                                          "individuals: choose a workflow of the group individual"}
    assert not IndividualDataSourceUpload.objects.exists()
