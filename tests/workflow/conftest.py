import pytest

from tests.workflow.lightning_server import API_KEY, LightningServer
from workflow.apps import WorkflowConfig
from workflow.services import PythonWorkflowAdaptor, WorkflowService
from workflow.systems import python as python_system


@pytest.fixture(autouse=True)
def workflow_registry():
    """Each test starts from the registry the start-up built and leaves it as it found it."""
    adaptors = dict(WorkflowService._adaptors)
    workflows = {group: dict(names) for group, names in PythonWorkflowAdaptor._workflows.items()}
    pending = list(python_system._pending)
    config = {key: getattr(WorkflowConfig, key) for key in WorkflowConfig.DEFAULT_CONFIG}
    yield
    WorkflowService._adaptors.clear()
    WorkflowService._adaptors.update(adaptors)
    PythonWorkflowAdaptor._workflows.clear()
    PythonWorkflowAdaptor._workflows.update(workflows)
    python_system._pending[:] = pending
    for key, value in config.items():
        setattr(WorkflowConfig, key, value)


@pytest.fixture
def lightning(settings):
    """A Lightning stand-in on loopback, with the workflow configuration pointing at it (timeout 1 s)."""
    server = LightningServer().start()
    settings.LIGHTNING_API_KEY = API_KEY
    WorkflowConfig.lightning_url = server.url
    WorkflowConfig.lightning_port = str(server.port)
    WorkflowConfig.lightning_timeout = 1
    yield server
    server.stop()


@pytest.fixture
def lightning_enabled(lightning):
    WorkflowConfig.lightning_enabled = True
    WorkflowConfig.set_up_workflows()
    return lightning
