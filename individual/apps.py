import json
import logging

from django.apps import apps

from core.module_config import CRUD, ModuleAppConfig, gql_rights

logger = logging.getLogger(__name__)

MODULE_NAME = "individual"

DEFAULT_CONFIG = {
    **gql_rights("individual", 159001, (*CRUD, "undo_delete")),  # gql_individual_search_perms … 159001-159005
    **gql_rights("group", 180001),  # gql_group_search/create/update/delete_perms: 180001-180004
    "check_individual_update": True,
    "check_individual_delete": True,
    "check_group_individual_update": True,
    "check_group_create": True,
    "individual_schema": "{}",
    "individual_accept_enrolment": "individual_service.create_accept_enrolment_task",
    "validation_calculation_uuid": "4362f958-5894-435b-9bda-df6cadf88352",
    "validation_import_valid_items": "individual_validation.import_valid_items",
    "validation_upload_valid_items": "individual_validation.upload_valid_items",
    "validation_import_group_valid_items": "individual_validation.import_group_valid_items",
    "validation_import_valid_items_workflow": "individual-import-valid-items",
    "validation_upload_valid_items_workflow": "individual-upload-valid-items.individual-upload-valid-items",
    "unique_class_validation": "DeduplicationIndividualValidationStrategy",
    "enable_python_workflows": True,
    "enable_maker_checker_logic_import": True,
    "enable_maker_checker_for_individual_upload": True,
    "enable_maker_checker_for_group_upload": True,
    "enable_maker_checker_for_individual_update": True,
    "enable_maker_checker_for_group_update": True,
    "individual_masking_enabled": True,
    "individual_mask_fields": ["json_ext.beneficiary_data_source", "json_ext.educated_level"],
}


class IndividualConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Individual registry"
    DEFAULT_CONFIG = DEFAULT_CONFIG

    def ready(self):
        super().ready()
        cls = type(self)
        self._check_schema()
        self._register()
        if cls.enable_python_workflows and apps.is_installed("workflow"):
            from workflow.services import set_up_python_workflows

            set_up_python_workflows(cls, DEFAULT_CONFIG, {
                "validation_import_valid_items_workflow": "individual.Python Valid Upload Individuals",
                "validation_upload_valid_items_workflow": "individual.Python Valid Update Individuals",
            }, "individual.workflows")

    @staticmethod
    def _register():
        from core.custom_filters import CustomFilterRegistryPoint
        from core.masking import register_masking
        from individual.custom_filters import (
            GroupCustomFilterWizard,
            GroupIndividualCustomFilterWizard,
            IndividualCustomFilterWizard,
        )

        register_masking("individual", enabled=f"{MODULE_NAME}.individual_masking_enabled",
                         fields=f"{MODULE_NAME}.individual_mask_fields")
        from core.json_indexes import register_json_index_source
        from individual.models import Individual

        register_json_index_source(lambda: [(Individual, "json_ext", IndividualConfig.get_individual_schema())])
        CustomFilterRegistryPoint.register_custom_filters(
            MODULE_NAME, [IndividualCustomFilterWizard, GroupCustomFilterWizard, GroupIndividualCustomFilterWizard])
        if apps.is_installed("tasks_management"):
            from individual.serializers import BUSINESS_DATA_SERIALIZERS
            from tasks_management.services import register_business_data_serializer

            for name, serializer in BUSINESS_DATA_SERIALIZERS.items():
                register_business_data_serializer(name, serializer)

    @classmethod
    def get_individual_schema(cls):
        """The configured JSON Schema of Individual.json_ext as a dict ({} when empty or invalid JSON)."""
        raw = getattr(cls, "individual_schema", "{}") or "{}"
        if isinstance(raw, dict):
            return raw
        try:
            value = json.loads(raw)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def _check_schema(self):
        schema = self.get_individual_schema()
        if not schema:
            return
        from core.json_schema import check_schema

        reason = check_schema(schema)
        if reason:  # startup must not fail on a bad schema; log it
            logger.error("individual_schema is not a valid JSON Schema: %s", reason)
