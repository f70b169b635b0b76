"""The in-process engine: Python functions registered under (group, name), run in the caller's thread and
transaction (spec workflow.md §5)."""
import logging
import threading

from workflow.exceptions import PythonWorkflowHandlerException
from workflow.systems.base import WorkflowAdaptor, WorkflowHandler
from workflow.util import result

logger = logging.getLogger(__name__)


class PythonWorkflowHandler(WorkflowHandler):
    def __init__(self, name, group, system, function):
        super().__init__(name, group, system)
        self._function = function

    def run(self, data):
        try:
            # the payload keys are the function's keyword arguments: an unexpected key is an error (TypeError)
            return result(success=True, data=self._function(**(data or {})))
        except PythonWorkflowHandlerException as exc:
            logger.error("Workflow %s/%s/%s refused: %s", self.system, self.group, self.name, exc)
            return result(success=False, message=exc.message, details=str(exc))
        except Exception as exc:
            logger.exception("Error while executing workflow %s/%s/%s", self.system, self.group, self.name)
            return result(success=False, message="Error while executing workflow", details=str(exc))


class PythonWorkflowAdaptor(WorkflowAdaptor):
    system = "python"
    _workflows = {}  # {group: {name: callable}}, process-local: every process registers in ready()

    @classmethod
    def register_workflow(cls, name, group, function):
        """Upstream's signature: **name first, group second**."""
        functions = cls._workflows.setdefault(group, {})
        if name in functions:
            logger.warning("Python workflow %s/%s is already registered: replaced by %r", group, name, function)
        functions[name] = function
        logger.info("Python workflow registered: group=%s name=%s", group, name)

    @classmethod
    def get_groups(cls):
        return result(success=True, data={"groups": list(cls._workflows)})

    @classmethod
    def get_workflows(cls, name=None, group=None):
        try:
            workflows = [
                PythonWorkflowHandler(workflow_name, workflow_group, cls.system, function)
                for workflow_group, functions in cls._workflows.items() if group is None or workflow_group == group
                for workflow_name, function in functions.items() if name is None or workflow_name == name
            ]
            return result(success=True, data={"workflows": workflows})
        except Exception as exc:
            logger.exception("Failed to read the python workflow adaptor")
            return result(success=False, message="Failed to read the python workflow adaptor", details=str(exc))


_pending = []
_pending_lock = threading.Lock()


def python_workflow(group, name):
    """``@python_workflow(group="individual", name="Python Import Individuals")``: records the function; the
    workflow app's ``ready()`` and each app's ``ready()`` (after importing its workflow modules, under its
    ``enable_python_workflows`` flag) flush the records into the adaptor with :func:`register_pending_workflows`.
    The function itself is returned unchanged."""

    def decorator(function):
        with _pending_lock:
            _pending.append((name, group, function))
        return function

    return decorator


def register_pending_workflows():
    """Register every decorated function not registered yet; answers how many were registered."""
    with _pending_lock:
        pending = list(_pending)
        _pending.clear()
    for name, group, function in pending:
        PythonWorkflowAdaptor.register_workflow(name, group, function)
    return len(pending)


def example_workflow(**payload):
    """``example_group`` / ``example_workflow``: logs its payload and answers it, the simplest end-to-end check."""
    logger.info("EXAMPLE WORKFLOW %s", payload)
    return payload
