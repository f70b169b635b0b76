import json

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


def post_import(user, upload, workflow="Python Import Individuals", group="individual", url=None, **fields):
    return api(user).post(url or "/api/individual/import_individuals/",
                          {"file": upload, "workflow_name": workflow, "workflow_group": group, **fields},
                          format="multipart")
