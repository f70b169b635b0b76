"""The Python system: register_workflow (name first), the decorator, handler outcomes (spec workflow.md §5)."""
import logging

import pytest
from django.db import transaction

from workflow.apps import WorkflowConfig
from workflow.services import (
    PythonWorkflowAdaptor,
    PythonWorkflowHandlerException,
    WorkflowService,
    python_workflow,
    register_pending_workflows,
    register_workflow,
)


def handlers(name=None, group=None):
    answer = WorkflowService.get_workflows(name=name, group=group)
    assert answer["success"], answer
    return answer["data"]["workflows"]


def only_handler(name, group):
    found = handlers(name, group)
    assert len(found) == 1, found
    return found[0]


def test_register_workflow_takes_name_then_group():
    register_workflow("Python Import Individuals", "individual", lambda **kw: kw)
    handler = only_handler("Python Import Individuals", "individual")
    assert (handler.system, handler.group, handler.name) == ("python", "individual", "Python Import Individuals")
    assert "individual" in WorkflowService.get_groups()["data"]["groups"]


def test_reregistering_warns_and_replaces(caplog):
    PythonWorkflowAdaptor.register_workflow("w", "grp", lambda: "old")
    with caplog.at_level(logging.INFO, logger="workflow.systems.python"):
        PythonWorkflowAdaptor.register_workflow("w", "grp", lambda: "new")
    assert any(r.levelno == logging.WARNING and "grp/w is already registered" in r.getMessage()
               for r in caplog.records)
    assert any(r.levelno == logging.INFO and "group=grp name=w" in r.getMessage() for r in caplog.records)
    assert only_handler("w", "grp").run({}) == {"success": True, "data": "new"}


def test_filters_are_exact():
    register_workflow("Import", "grp", lambda: 1)
    register_workflow("Import", "other", lambda: 2)
    register_workflow("Update", "grp", lambda: 3)
    assert sorted(h.name for h in handlers(group="grp")) == ["Import", "Update"]
    assert sorted(h.group for h in handlers(name="Import")) == ["grp", "other"]
    assert handlers(name="import", group="grp") == [] and handlers(group="gr") == []


def test_run_passes_the_payload_as_keywords():
    register_workflow("sum", "grp", lambda user_uuid, upload_uuid, accepted=None: {
        "user": user_uuid, "upload": upload_uuid, "accepted": accepted})
    outcome = only_handler("sum", "grp").run({"user_uuid": "u", "upload_uuid": "x", "accepted": ["a", "b"]})
    assert outcome == {"success": True, "data": {"user": "u", "upload": "x", "accepted": ["a", "b"]}}


def test_a_falsy_return_gives_no_data_key():
    register_workflow("quiet", "grp", lambda **kw: None)
    assert only_handler("quiet", "grp").run({"a": 1}) == {"success": True}


def test_the_workflow_exception_carries_a_formatted_message(caplog):
    def refuse(columns):
        raise PythonWorkflowHandlerException("Invalid headers:\n{}\n{missing}", columns, missing="dob")

    register_workflow("refuse", "grp", refuse)
    with caplog.at_level(logging.ERROR, logger="workflow.systems.python"):
        outcome = only_handler("refuse", "grp").run({"columns": "nme"})
    assert outcome == {"success": False, "message": "Invalid headers:\nnme\ndob",
                       "details": "PythonWorkflowHandlerException: Invalid headers:\nnme\ndob"}
    assert any("refused" in r.getMessage() for r in caplog.records)
    assert str(PythonWorkflowHandlerException("plain {not formatted}")) == (
        "PythonWorkflowHandlerException: plain {not formatted}")


def test_any_other_exception_is_the_generic_failure(caplog):
    def broken():
        raise KeyError("first_name")

    register_workflow("broken", "grp", broken)
    with caplog.at_level(logging.ERROR, logger="workflow.systems.python"):
        outcome = only_handler("broken", "grp").run({})
    assert outcome == {"success": False, "message": "Error while executing workflow", "details": "'first_name'"}
    assert any(r.exc_info for r in caplog.records)  # logged with its stack trace


def test_an_unexpected_payload_key_is_a_failure_not_an_exception():
    register_workflow("strict", "grp", lambda user_uuid: user_uuid)
    outcome = only_handler("strict", "grp").run({"user_uuid": "u", "benefit_plan_uuid": "p"})
    assert outcome["success"] is False and outcome["message"] == "Error while executing workflow"
    assert "benefit_plan_uuid" in outcome["details"]


def test_an_unreadable_store_answers_a_failure(monkeypatch):
    monkeypatch.setattr(PythonWorkflowAdaptor, "_workflows", {"grp": None})
    outcome = PythonWorkflowAdaptor.get_workflows()
    assert outcome["success"] is False and outcome["message"] == "Failed to read the python workflow adaptor"
    assert outcome["details"]
    assert WorkflowService.get_workflows() == outcome


@pytest.mark.django_db
def test_the_workflow_runs_in_the_callers_transaction():
    from core.models import Role

    def rename(role_id):
        Role.objects.filter(pk=role_id).update(name="renamed by workflow")

    register_workflow("rename", "grp", rename)
    role = Role.objects.create(name="before", is_system=0)
    with transaction.atomic():
        assert only_handler("rename", "grp").run({"role_id": role.pk}) == {"success": True}
        transaction.set_rollback(True)
    role.refresh_from_db()
    assert role.name == "before"  # rolled back with the caller


def test_the_decorator_registers_at_the_next_flush():
    @python_workflow(group="individual", name="Decorated Import")
    def decorated(user_uuid, upload_uuid):
        return {"task_id": f"{user_uuid}/{upload_uuid}"}

    assert decorated(1, 2) == {"task_id": "1/2"}  # the function itself is unchanged
    assert handlers(name="Decorated Import") == []  # recorded, not registered yet
    assert register_pending_workflows() == 1
    assert only_handler("Decorated Import", "individual").run({"user_uuid": "u", "upload_uuid": "x"}) == {
        "success": True, "data": {"task_id": "u/x"}}
    assert register_pending_workflows() == 0  # flushed once


def test_the_workflow_app_ready_flushes_the_decorated_functions():
    python_workflow(group="socialProtection", name="Decorated Upload")(lambda **kw: kw)
    WorkflowConfig.set_up_workflows()
    assert "Decorated Upload" in [h.name for h in handlers(group="socialProtection")]


def test_the_example_workflow_answers_its_payload(caplog):
    with caplog.at_level(logging.INFO, logger="workflow.systems.python"):
        outcome = only_handler("example_workflow", "example_group").run({"hello": "world", "items": [1, 2]})
    assert outcome == {"success": True, "data": {"hello": "world", "items": [1, 2]}}
    assert any("EXAMPLE WORKFLOW" in r.getMessage() and "world" in r.getMessage() for r in caplog.records)


def test_python_systems_follow_the_configuration(monkeypatch):
    monkeypatch.setattr(PythonWorkflowAdaptor, "_workflows", {})
    WorkflowConfig.python_example_workflow_enabled = False
    WorkflowConfig.set_up_workflows()
    assert handlers(group="example_group") == []
    WorkflowConfig.python_example_workflow_enabled = True
    WorkflowConfig.set_up_workflows()
    assert [h.name for h in handlers(group="example_group")] == ["example_workflow"]
    WorkflowConfig.python_enabled = False
    WorkflowConfig.set_up_workflows()
    assert WorkflowService.get_systems()["data"]["systems"] == []
    assert handlers() == []
