"""The Lightning (OpenFn) adaptor against a real HTTP server on loopback (tests/workflow/lightning_server.py):
projects, provision, webhook selection, JSON runs, non-2xx answers, transport errors and timeouts (§6)."""
import logging
import socket
import time

import pytest

from tests.workflow.lightning_server import API_KEY
from workflow.apps import WorkflowConfig
from workflow.services import WorkflowService
from workflow.systems.lightning import LightningClient, LightningWorkflowAdaptor, LightningWorkflowHandler

FAILED_503 = {"success": False, "message": "openFN/Lightning request failed", "details": "503"}


@pytest.fixture
def engine(lightning):
    lightning.add_project("individual", [
        {"name": "Import Individuals", "triggers": [{"type": "cron", "id": "cron-1"},
                                                    {"type": "webhook", "id": "hook-import"},
                                                    {"type": "webhook", "id": "hook-second"}]},
        {"name": "Scheduled only", "triggers": [{"type": "cron", "id": "cron-2"}]},
    ], project_id="p-individual")
    lightning.add_project("socialProtection", [
        {"name": "Import Individuals", "triggers": [{"type": "webhook", "id": "hook-sp"}]},
    ], project_id="p-sp")
    return lightning


def names(answer):
    assert answer["success"], answer
    return sorted((h.group, h.name, h.webhook_id) for h in answer["data"]["workflows"])


def test_groups_are_the_project_names(engine):
    assert LightningWorkflowAdaptor.get_groups() == {"success": True, "data": {"groups": ["individual",
                                                                                            "socialProtection"]}}
    method, path, authorization, body, _ = engine.requests[0]
    assert (method, path, authorization, body) == ("GET", "/api/projects/", f"Bearer {API_KEY}", None)


def test_workflows_take_the_first_webhook_trigger_and_skip_the_others(engine, caplog):
    with caplog.at_level(logging.ERROR, logger="workflow.systems.lightning"):
        found = names(LightningWorkflowAdaptor.get_workflows())
    assert found == [("individual", "Import Individuals", "hook-import"),
                     ("socialProtection", "Import Individuals", "hook-sp")]
    assert any("Scheduled only has no webhook trigger" in r.getMessage() for r in caplog.records)
    handler = LightningWorkflowAdaptor.get_workflows()["data"]["workflows"][0]
    assert isinstance(handler, LightningWorkflowHandler) and handler.system == "lightning"


def test_filters_by_project_and_by_name(engine):
    engine.requests.clear()
    assert names(LightningWorkflowAdaptor.get_workflows(group="socialProtection")) == [
        ("socialProtection", "Import Individuals", "hook-sp")]
    assert [p for _, p, *_ in engine.requests] == ["/api/projects/", "/api/provision/p-sp"]  # one provision read
    assert names(LightningWorkflowAdaptor.get_workflows("Import Individuals", "individual")) == [
        ("individual", "Import Individuals", "hook-import")]
    assert names(LightningWorkflowAdaptor.get_workflows(name="Scheduled only")) == []
    assert names(LightningWorkflowAdaptor.get_workflows(group="Individual")) == []


def test_a_run_posts_json_with_nested_values_intact(engine):
    handler = next(h for h in LightningWorkflowAdaptor.get_workflows(group="individual")["data"]["workflows"])
    payload = {"user_uuid": "u-1", "upload_uuid": "x-1", "accepted": ["a", "b"], "meta": {"rows": 3}}
    outcome = handler.run(payload)
    assert outcome["success"] is True and outcome["data"]["received"] == payload
    assert outcome["data"]["work_order_id"]
    method, path, authorization, body, content_type = engine.requests[-1]
    assert (method, path, authorization, body) == ("POST", "/i/hook-import", f"Bearer {API_KEY}", payload)
    assert content_type == "application/json"


@pytest.mark.parametrize("path", ["/api/projects/", "/api/provision/p-sp"])
def test_a_non_2xx_answer_is_the_spec_failure(engine, path):
    engine.behaviour[path] = ("status", 503)
    assert LightningWorkflowAdaptor.get_workflows(group="socialProtection") == FAILED_503


def test_a_non_2xx_answer_to_a_run_and_to_groups(engine):
    engine.behaviour["/i/hook-sp"] = ("status", 500)
    handler = LightningWorkflowAdaptor.get_workflows(group="socialProtection")["data"]["workflows"][0]
    assert handler.run({"a": 1}) == {"success": False, "message": "openFN/Lightning request failed", "details": "500"}
    engine.behaviour["/api/projects/"] = ("status", 503)
    assert LightningWorkflowAdaptor.get_groups() == FAILED_503


def test_a_wrong_key_is_refused_by_the_engine(engine, settings):
    settings.LIGHTNING_API_KEY = "not-the-key"
    assert LightningWorkflowAdaptor.get_groups() == {
        "success": False, "message": "openFN/Lightning request failed", "details": "401"}


def test_an_engine_that_hangs_past_the_timeout(engine):
    engine.behaviour["/api/projects/"] = ("hang", 10)
    started = time.monotonic()
    outcome = LightningWorkflowAdaptor.get_workflows()
    assert time.monotonic() - started < 5  # the 1 s timeout, not the 10 s hang
    assert outcome["success"] is False and outcome["message"] == "Error during openFN/Lightning request"
    assert "no answer within 1 s" in outcome["details"] and "/api/projects/" in outcome["details"]


def test_a_run_that_hangs_past_the_timeout(engine):
    handler = LightningWorkflowHandler("Import Individuals", "individual", "lightning", "hook-import")
    engine.behaviour["/i/hook-import"] = ("hang", 10)
    outcome = handler.run({"a": 1})
    assert outcome["success"] is False and "no answer within 1 s" in outcome["details"]


def test_a_dropped_connection_is_a_failure_with_the_error_text(engine):
    engine.behaviour["/api/provision/p-individual"] = ("drop",)
    outcome = LightningWorkflowAdaptor.get_workflows(group="individual")
    assert outcome["success"] is False and outcome["message"] == "Error during openFN/Lightning request"
    assert "/api/provision/p-individual" in outcome["details"] and "Connection" in outcome["details"]


def test_nobody_listening_is_a_failure(lightning):
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        WorkflowConfig.lightning_port = str(probe.getsockname()[1])
    outcome = LightningWorkflowAdaptor.get_groups()
    assert outcome["success"] is False and outcome["message"] == "Error during openFN/Lightning request"
    assert "Connection refused" in outcome["details"]


def test_an_answer_that_is_not_json(engine):
    engine.behaviour["/api/projects/"] = ("text", "<html>maintenance</html>")
    outcome = LightningWorkflowAdaptor.get_groups()
    assert outcome == {"success": False, "message": "Error during openFN/Lightning request",
                       "details": f"GET {engine.url}:{engine.port}/api/projects/: the answer is not JSON"}


def test_a_malformed_provision_is_an_adaptor_failure(engine, monkeypatch):
    monkeypatch.setattr(type(engine), "answer", lambda self, method, path, body: (200, {"data": {"oops": 1}}))
    outcome = LightningWorkflowAdaptor.get_workflows()
    assert outcome["success"] is False
    assert outcome["message"] == "Error during retrieving openFN/Lightning workflows" and outcome["details"]
    assert LightningWorkflowAdaptor.get_groups()["message"] == "Error during retrieving openFN/Lightning groups"


def test_without_a_key_nothing_is_sent(engine, settings):
    settings.LIGHTNING_API_KEY = ""
    outcome = LightningWorkflowAdaptor.get_groups()
    assert outcome == {"success": False, "message": "openFN/Lightning is not configured",
                       "details": "LIGHTNING_API_KEY is not set"}
    assert engine.requests == []


def test_a_key_in_the_module_configuration_is_not_used(engine, settings, caplog):
    settings.LIGHTNING_API_KEY = ""
    WorkflowConfig.lightning_api_key = API_KEY
    with caplog.at_level(logging.WARNING, logger="workflow.apps"):
        WorkflowConfig.set_up_workflows()
    assert any("set LIGHTNING_API_KEY in the environment" in r.getMessage() for r in caplog.records)
    assert LightningWorkflowAdaptor.get_groups()["message"] == "openFN/Lightning is not configured"


def test_the_client_builds_urls_from_url_and_port(lightning):
    WorkflowConfig.lightning_url = f"{lightning.url}/"
    with LightningClient() as client:
        assert client.get_projects() == {"success": True, "data": {"data": []}}
    assert lightning.requests[-1][1] == "/api/projects/"


def test_the_configuration_switches_lightning_on_and_off(lightning):
    WorkflowConfig.lightning_enabled = True
    WorkflowConfig.set_up_workflows()
    assert WorkflowService.get_systems()["data"]["systems"] == ["python", "lightning"]
    WorkflowConfig.lightning_enabled = False
    WorkflowConfig.set_up_workflows()
    assert WorkflowService.get_systems()["data"]["systems"] == ["python"]


def test_a_failing_engine_fails_the_whole_lookup(engine):
    WorkflowConfig.lightning_enabled = True
    WorkflowConfig.set_up_workflows()
    assert len(WorkflowService.get_workflows(name="Import Individuals")["data"]["workflows"]) == 2
    engine.behaviour["/api/projects/"] = ("status", 503)
    assert WorkflowService.get_workflows(group="example_group") == FAILED_503
