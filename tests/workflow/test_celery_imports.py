"""End to end: an upload staged, approved and imported by a real celery worker on Redis (run by .ci/run, which
starts the worker; the stored file is shared through MEDIA_ROOT as between a web server and its worker)."""
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from individual.models import Group, GroupIndividual, Individual, IndividualDataSourceUpload

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROWS = ["first_name,last_name,dob,group_code,individual_role,recipient_info",
        "Wanjiru,Kamau,1984-02-03,E2E-H1,HEAD,1", "Otieno,Kamau,2010-07-08,E2E-H1,SON,0",
        "Bad,Date,03/02/1984,E2E-H1,,"]


def wait_for(upload, statuses, seconds=60):
    deadline = time.time() + seconds
    while upload.status not in statuses and time.time() < deadline:
        time.sleep(0.5)
        upload.refresh_from_db()
    assert upload.status in statuses, (upload.status, upload.error)
    return upload


def approve(checker, source):
    from tasks_management.models import Task
    from tasks_management.services import TaskService

    deadline = time.time() + 60
    while not Task.objects.filter(source=source, status="ACCEPTED").exists() and time.time() < deadline:
        time.sleep(0.5)
    task = Task.objects.get(source=source, status="ACCEPTED")
    result = TaskService(checker).resolve_task({"id": str(task.id), "business_status": {str(checker.id): "APPROVED"}})
    assert result["success"], result


def test_an_upload_goes_through_the_worker(admin_user, make_user):
    from openimis_be.celery import app
    from tasks_management.services import TaskGroupService

    app.conf.task_always_eager = False
    checker = make_user("e2e-checker", rights=[191001, 159001])
    assert TaskGroupService(admin_user).create({
        "code": "e2e-upload-checkers", "completion_policy": "ANY", "user_ids": [str(checker.id)],
        "task_sources": ["import_valid_items", "import_group_valid_items"]})["success"]
    client = APIClient()
    client.force_authenticate(admin_user)
    upload_file = SimpleUploadedFile(f"e2e-{time.time_ns()}.csv", ("\n".join(ROWS) + "\n").encode(),
                                     content_type="text/csv")
    response = client.post("/api/individual/import_individuals/", {
        "file": upload_file, "workflow_name": "Python Import Individuals", "workflow_group": "individual"},
        format="multipart")
    assert response.status_code == 200, response.content
    upload = IndividualDataSourceUpload.objects.get(id=response.json()["data"]["upload_uuid"])
    wait_for(upload, ["WAITING_FOR_VERIFICATION", "FAIL"])
    assert upload.status == "WAITING_FOR_VERIFICATION", upload.error
    assert upload.json_ext["progress"]["rows_invalid"] == 1
    approve(checker, "import_valid_items")
    approve(checker, "import_group_valid_items")
    wait_for(upload, ["PARTIAL_SUCCESS", "FAIL"])
    assert upload.status == "PARTIAL_SUCCESS", upload.error
    household = Group.objects.get(code="E2E-H1")
    assert {(m.individual.first_name, m.role) for m in GroupIndividual.objects.filter(group=household)} == {
        ("Wanjiru", "HEAD"), ("Otieno", "SON")}
    assert Individual.objects.get(first_name="Otieno").history.count() == 1
