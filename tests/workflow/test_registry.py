"""WorkflowService: the class-level registry of engines (spec workflow.md §1–§4)."""
import logging

import pytest

from workflow.services import PythonWorkflowAdaptor, WorkflowAdaptor, WorkflowHandler, WorkflowService, result


class _Handler(WorkflowHandler):
    def run(self, data):
        return result(success=True, data=data)


def adaptor(system, groups=("g",), names=("n",), failure=None):
    """A registered-style adaptor class answering fixed handlers (or a failure result)."""

    class Adaptor(WorkflowAdaptor):
        calls = []

        @classmethod
        def get_groups(cls):
            return failure or result(success=True, data={"groups": list(groups)})

        @classmethod
        def get_workflows(cls, name=None, group=None):
            cls.calls.append((name, group))
            if failure:
                return failure
            return result(success=True, data={"workflows": [
                _Handler(n, g, system) for g in groups if group in (None, g) for n in names if name in (None, n)]})

    Adaptor.system = system
    Adaptor.__name__ = f"{system.title()}Adaptor"
    return Adaptor


@pytest.fixture
def only(monkeypatch):
    """An empty registry for the test."""
    monkeypatch.setattr(WorkflowService, "_adaptors", {})


def test_result_has_only_truthy_keys():
    assert result(True) == {"success": True}
    assert result(True, data=None, message="", details=None) == {"success": True}
    assert result(False, data={"x": 1}, message="m", details="d") == {
        "success": False, "data": {"x": 1}, "message": "m", "details": "d"}
    assert result(True, data=0) == {"success": True}


def test_the_start_up_registers_the_python_system_and_the_example():
    assert WorkflowService.get_systems() == {"success": True, "data": {"systems": ["python"]}}
    found = WorkflowService.get_workflows(group="example_group")["data"]["workflows"]
    assert [(w.system, w.group, w.name) for w in found] == [("python", "example_group", "example_workflow")]


def test_register_logs_and_replacing_a_system_warns(only, caplog):
    first, second = adaptor("alpha"), adaptor("alpha", groups=("other",))
    with caplog.at_level(logging.INFO, logger="workflow.services"):
        WorkflowService.register_system_adaptor(first)
        assert not [r for r in caplog.records if r.levelno == logging.WARNING]
        WorkflowService.register_system_adaptor(second)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["Workflow system alpha is already registered: replaced by AlphaAdaptor"]
    assert sum("Workflow system registered: alpha" in r.getMessage() for r in caplog.records) == 2
    assert WorkflowService.get_groups() == {"success": True, "data": {"groups": ["other"]}}


def test_systems_and_groups_across_adaptors_without_duplicates(only):
    WorkflowService.register_system_adaptor(adaptor("alpha", groups=("a", "shared")))
    WorkflowService.register_system_adaptor(adaptor("beta", groups=("shared", "b")))
    assert WorkflowService.get_systems() == {"success": True, "data": {"systems": ["alpha", "beta"]}}
    groups = WorkflowService.get_groups()
    assert groups["success"] is True and sorted(groups["data"]["groups"]) == ["a", "b", "shared"]


def test_workflows_are_concatenated_and_filtered_name_first(only):
    alpha = adaptor("alpha", groups=("g1", "g2"), names=("n1", "n2"))
    beta = adaptor("beta", groups=("g1",), names=("n1",))
    WorkflowService.register_system_adaptor(alpha)
    WorkflowService.register_system_adaptor(beta)

    def listed(*args, **kwargs):
        return [(w.system, w.group, w.name) for w in WorkflowService.get_workflows(*args, **kwargs)["data"]["workflows"]]

    assert len(listed()) == 5
    assert listed("n1", "g1") == [("alpha", "g1", "n1"), ("beta", "g1", "n1")]  # positional: name, then group
    assert listed(group="g2") == [("alpha", "g2", "n1"), ("alpha", "g2", "n2")]
    assert listed(name="n2") == [("alpha", "g1", "n2"), ("alpha", "g2", "n2")]
    assert listed("g1") == []  # a group given as the name matches no name
    assert listed(name="N1") == []  # exact and case-sensitive
    assert alpha.calls[1] == ("n1", "g1")  # each adaptor gets the same filters


def test_first_failing_adaptor_result_is_answered_unchanged(only):
    failure = {"success": False, "message": "engine down", "details": "503"}
    WorkflowService.register_system_adaptor(adaptor("alpha"))
    WorkflowService.register_system_adaptor(adaptor("beta", failure=failure))
    WorkflowService.register_system_adaptor(adaptor("gamma", failure={"success": False, "message": "other"}))
    assert WorkflowService.get_workflows() == failure
    assert WorkflowService.get_groups() == failure


def test_handler_repr_and_attributes():
    handler = _Handler("Python Import Individuals", "individual", "python")
    assert (handler.name, handler.group, handler.system) == ("Python Import Individuals", "individual", "python")
    assert repr(handler) == "<_Handler system='python' group='individual' name='Python Import Individuals'>"


def test_contracts_are_abstract():
    with pytest.raises(TypeError):
        WorkflowHandler("n", "g", "s")
    assert PythonWorkflowAdaptor.system == "python"


def test_get_workflow_needs_exactly_one_match(only):
    WorkflowService.register_system_adaptor(adaptor("alpha", groups=("g",), names=("n", "m")))
    WorkflowService.register_system_adaptor(adaptor("beta", groups=("g",), names=("m",)))
    found = WorkflowService.get_workflow("n", "g")
    assert found["success"] is True and (found["data"]["workflow"].system, found["data"]["workflow"].name) == (
        "alpha", "n")
    assert WorkflowService.get_workflow("x", "g") == {"success": False, "message": "Workflow not found: group=g name=x"}
    assert WorkflowService.get_workflow("m", "g") == {
        "success": False, "message": "Multiple workflows found: group=g name=m"}
    failure = {"success": False, "message": "engine down"}
    WorkflowService.register_system_adaptor(adaptor("gamma", failure=failure))
    assert WorkflowService.get_workflow("n", "g") == failure
