import json
from contextlib import nullcontext

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

SCHEMA = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "validationCalculation": {"name": "EmailValidationStrategy"}},
        "national_id": {"type": "string", "uniqueness": True},
        "number_of_children": {"type": "integer", "minimum": 0},
        "able_bodied": {"type": "boolean"},
        "educated_level": {"type": "string", "enum": ["none", "primary", "secondary", "tertiary"]},
    },
}
HEADER = "first_name,last_name,dob,email,national_id,number_of_children,able_bodied,educated_level,group_code," \
         "individual_role,recipient_info"


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings.MEDIA_ROOT


@pytest.fixture
def schema(monkeypatch):
    from individual.apps import IndividualConfig

    monkeypatch.setattr(IndividualConfig, "individual_schema", json.dumps(SCHEMA))
    return SCHEMA


@pytest.fixture
def clerk(make_user):
    return make_user("clerk", rights=[159001, 159002, 170001, 170002, 160001])


@pytest.fixture
def checker(make_user, admin_user):
    from tasks_management.services import TaskGroupService

    user = make_user("upload-checker", rights=[191001, 159001])
    result = TaskGroupService(admin_user).create({
        "code": "upload-checkers", "completion_policy": "ANY", "user_ids": [str(user.id)],
        "task_sources": ["import_valid_items", "import_group_valid_items"]})
    assert result["success"], result
    return user


def api(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def csv_file(lines, name="people.csv", header=HEADER):
    return SimpleUploadedFile(name, ("\n".join([header, *lines]) + "\n").encode(), content_type="text/csv")


def committed():
    """Runs, at its end, the on-commit callbacks (celery dispatches) registered inside, as a commit would, in
    a test wrapped in a transaction (transactional tests flush the reference data the user fixtures need)."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def post_import(user, upload, workflow="Python Import Individuals", group="individual", url=None, run=True, **fields):
    """The upload POST; with ``run`` its workflow and celery work run as after the request's commit."""
    with committed() if run else nullcontext():
        return api(user).post(url or "/api/individual/import_individuals/",
                              {"file": upload, "workflow_name": workflow, "workflow_group": group, **fields},
                              format="multipart")


def upload_of(response):
    from individual.models import IndividualDataSourceUpload

    assert response.status_code == 200, response.content
    return IndividualDataSourceUpload.objects.get(id=response.json()["data"]["upload_uuid"])


def approve(checker, source="import_valid_items"):
    """The checker approves the pending task of ``source`` (TaskService, as the resolveTask mutation does)."""
    from tasks_management.models import Task
    from tasks_management.services import TaskService

    task = Task.objects.get(source=source, status="ACCEPTED")
    with committed():
        result = TaskService(checker).resolve_task({"id": str(task.id),
                                                    "business_status": {str(checker.id): "APPROVED"}})
    assert result["success"], result
    return task


@pytest.fixture
def plan_factory(admin_user):
    from tests.social_protection.factories import BenefitPlanFactory

    def factory(code="BP1", type="INDIVIDUAL", schema=None):
        return BenefitPlanFactory(code=code, name=f"Plan {code}", type=type,
                                  beneficiary_data_schema=schema if schema is not None else SCHEMA,
                                  acting_user=admin_user)

    return factory
