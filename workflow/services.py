"""The broker other apps use (their only way in, with ``selectors``/``signals``): look up a named workflow and run
it with a payload, whatever engine runs it (spec workflow.md §2). Nothing here raises to callers: every answer is
a result dict (``workflow.util.result``).

Apps register Python workflows with ``PythonWorkflowAdaptor.register_workflow(name, group, fn)`` or the
``@python_workflow(group=…, name=…)`` decorator followed by ``register_pending_workflows()`` in their ``ready()``.
"""
import logging

from workflow.exceptions import PythonWorkflowHandlerException
from workflow.systems.base import WorkflowAdaptor, WorkflowHandler
from workflow.systems.python import PythonWorkflowAdaptor, python_workflow, register_pending_workflows
from workflow.util import result

logger = logging.getLogger(__name__)

__all__ = ["WorkflowService", "WorkflowAdaptor", "WorkflowHandler", "PythonWorkflowAdaptor",
           "PythonWorkflowHandlerException", "python_workflow", "register_pending_workflows", "register_workflow",
           "result", "set_up_python_workflows"]


class WorkflowService:
    """Class-level registry of engine adaptors (process-local: every process registers the same in ready())."""

    _adaptors = {}

    @classmethod
    def register_system_adaptor(cls, adaptor_cls):
        if adaptor_cls.system in cls._adaptors:
            logger.warning("Workflow system %s is already registered: replaced by %s", adaptor_cls.system,
                           adaptor_cls.__name__)
        cls._adaptors[adaptor_cls.system] = adaptor_cls
        logger.info("Workflow system registered: %s (%s)", adaptor_cls.system, adaptor_cls.__name__)

    @classmethod
    def unregister_system_adaptor(cls, system):
        """Remove an engine (configuration reload, tests); answers whether it was registered."""
        return cls._adaptors.pop(system, None) is not None

    @classmethod
    def get_systems(cls):
        return result(success=True, data={"systems": list(cls._adaptors)})

    @classmethod
    def get_groups(cls):
        groups = []
        for adaptor in list(cls._adaptors.values()):
            answer = adaptor.get_groups()
            if not answer.get("success"):
                return answer
            groups.extend(answer.get("data", {}).get("groups", []))
        return result(success=True, data={"groups": list(dict.fromkeys(groups))})

    @classmethod
    def get_workflows(cls, name=None, group=None):
        """**name first, then group** (upstream callers pass them positionally); None = no filter, exact match."""
        workflows = []
        for adaptor in list(cls._adaptors.values()):
            answer = adaptor.get_workflows(name=name, group=group)
            if not answer.get("success"):
                return answer
            workflows.extend(answer.get("data", {}).get("workflows", []))
        return result(success=True, data={"workflows": workflows})

    @classmethod
    def get_workflow(cls, name, group):
        """The one workflow a caller named (an import's chosen or configured workflow, spec §9.2):
        ``data = {"workflow": handler}``; none → ``Workflow not found: group=<g> name=<n>``, several →
        ``Multiple workflows found: group=<g> name=<n>`` (callers turn these into HTTP 400)."""
        answer = cls.get_workflows(name=name, group=group)
        if not answer.get("success"):
            return answer
        found = answer["data"]["workflows"]
        if len(found) == 1:
            return result(success=True, data={"workflow": found[0]})
        problem = "Workflow not found" if not found else "Multiple workflows found"
        return result(success=False, message=f"{problem}: group={group} name={name}")


def set_up_python_workflows(config_class, defaults, valid_items, workflows_module):
    """What an app with Python import workflows does in ``ready()`` (workflow.md §9.2): each "valid items" key of
    ``valid_items`` (config key → ``"<group>.<name>"``) still at its default (a Lightning project) names the
    Python workflow instead; then the app's ``@python_workflow`` module is imported and registered."""
    import importlib

    for key, python in valid_items.items():
        if getattr(config_class, key) == defaults[key]:
            setattr(config_class, key, python)
    importlib.import_module(workflows_module)
    return register_pending_workflows()


def register_workflow(name, group, function):
    """Upstream-compatible registration of a Python workflow (**name first, group second**)."""
    PythonWorkflowAdaptor.register_workflow(name, group, function)
