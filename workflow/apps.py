import logging

from core.module_config import ModuleAppConfig

logger = logging.getLogger(__name__)

MODULE_NAME = "workflow"

DEFAULT_CONFIG = {
    "python_enabled": True,
    "python_example_workflow_enabled": True,
    "lightning_enabled": False,
    "lightning_url": "http://localhost",
    "lightning_port": "4000",
    # the bearer token is read from the environment (LIGHTNING_API_KEY) only; a value stored here is ignored
    "lightning_api_key": "",
    "lightning_timeout": 10,  # seconds per HTTP request to Lightning (connect and read)
    # who may list workflows: the rights of users who can import (individual search/create, beneficiary create)
    "gql_workflow_search_perms": ["159001", "159002", "170002"],
}


class WorkflowConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Workflows"
    DEFAULT_CONFIG = DEFAULT_CONFIG

    def ready(self):
        super().ready()
        self.set_up_workflows()

    @classmethod
    def set_up_workflows(cls):
        """Register the engines the configuration enables (and unregister the others), then the decorated
        Python workflows already imported."""
        from workflow.services import PythonWorkflowAdaptor, WorkflowService, register_pending_workflows
        from workflow.systems.lightning import LightningWorkflowAdaptor
        from workflow.systems.python import example_workflow

        if cls.lightning_api_key:
            logger.warning("workflow.lightning_api_key in the module configuration is ignored: "
                           "set LIGHTNING_API_KEY in the environment")
        if cls.python_enabled:
            if cls.python_example_workflow_enabled:
                PythonWorkflowAdaptor.register_workflow("example_workflow", "example_group", example_workflow)
            WorkflowService.register_system_adaptor(PythonWorkflowAdaptor)
        else:
            WorkflowService.unregister_system_adaptor(PythonWorkflowAdaptor.system)
        if cls.lightning_enabled:
            WorkflowService.register_system_adaptor(LightningWorkflowAdaptor)
        else:
            WorkflowService.unregister_system_adaptor(LightningWorkflowAdaptor.system)
        register_pending_workflows()
