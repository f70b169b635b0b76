"""social_protection: benefit plans, beneficiaries, group beneficiaries, enrolment and exports."""
from core.module_config import CRUD, ModuleAppConfig, gql_rights

MODULE_NAME = "social_protection"

DEFAULT_CONFIG = {
    **gql_rights("benefit_plan", 160001, (*CRUD, "close")),  # gql_benefit_plan_search_perms … 160001-160005
    # DECISIONS.md: beneficiary rights are 170001-170004 (the seed page's 160002/160003 is a typo)
    **gql_rights("beneficiary", 170001),  # gql_beneficiary_search/create/update/delete_perms
    **gql_rights("schema", 171001),  # gql_schema_search/create/update/delete_perms
    "gql_check_benefit_plan_update": True,
    "gql_check_beneficiary_crud": True,
    "gql_check_group_beneficiary_crud": True,
    "unique_class_validation": "DeduplicationValidationStrategy",
    "validation_calculation_uuid": "4362f958-5894-435b-9bda-df6cadf88352",
    "enable_maker_checker_for_beneficiary_upload": True,
    "enable_maker_checker_for_beneficiary_update": True,
    "validation_import_valid_items": "validation.import_valid_items",
    "validation_upload_valid_items": "validation.upload_valid_items",
    "validation_download_invalid_items": "validation.download_invalid_items",
    "benefit_plan_suspend": "benefit_plan.benefit_plan_suspend",
    "validation_import_valid_items_workflow": "beneficiary-import-valid-items.beneficiary-import-valid-items",
    "validation_upload_valid_items_workflow": "beneficiary-upload-valid-items.beneficiary-upload-valid-items",
    "validation_enrollment": "validation-enrollment",
    "validation_group_enrollment": "validation-group-enrollment",
    "enable_maker_checker_logic_enrollment": True,
    "beneficiary_mask_fields": ["json_ext.beneficiary_data_source", "json_ext.educated_level"],
    "group_beneficiary_mask_fields": ["json_ext.beneficiary_data_source", "json_ext.educated_level"],
    "social_protection_masking_enabled": True,
    "enable_python_workflows": True,
    # rows per INSERT ... SELECT statement of the set-based enrolment (0 = one statement for the whole set)
    "enrollment_batch_size": 5000,
    # programme follow-up rules of social_protection/task_rules.py (tasks_management rules engine), off by default
    "post_enrolment_check_in_task_enabled": False,
    "household_reverification_task_enabled": False,
}


class SocialProtectionConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Social protection"
    DEFAULT_CONFIG = DEFAULT_CONFIG

    def load_config(self):
        cfg = super().load_config()
        # seed/upstream naming difference: honour the seed key as an alias of the upstream one
        # (the key is not among the defaults, so it can only come from a ModuleConfiguration row)
        if "check_benefit_plan_update" in cfg:
            type(self).gql_check_benefit_plan_update = bool(cfg["check_benefit_plan_update"])
        return cfg

    def ready(self):
        super().ready()
        from core.custom_filters import CustomFilterRegistryPoint
        from core.masking import register_masking
        from individual.services import register_programmes
        from social_protection.custom_filters import (BeneficiaryCustomFilterWizard, BenefitPlanCustomFilterWizard,
                                                      GroupBeneficiaryCustomFilterWizard)
        from social_protection.selectors import BeneficiaryProgrammes
        from social_protection.serializers import BUSINESS_DATA_SERIALIZERS
        from tasks_management.services import register_business_data_serializer

        CustomFilterRegistryPoint.register_custom_filters(MODULE_NAME, [
            BenefitPlanCustomFilterWizard, BeneficiaryCustomFilterWizard, GroupBeneficiaryCustomFilterWizard])
        for policy, fields in (("beneficiary", "beneficiary_mask_fields"),
                               ("group_beneficiary", "group_beneficiary_mask_fields")):
            register_masking(policy, enabled=f"{MODULE_NAME}.social_protection_masking_enabled",
                             fields=f"{MODULE_NAME}.{fields}")
        register_programmes(BeneficiaryProgrammes())
        self._index_beneficiary_schemas()
        self._set_up_uploads()  # who is enrolled where, for the individual registry
        for name, serializer in BUSINESS_DATA_SERIALIZERS.items():
            register_business_data_serializer(name, serializer)

    @staticmethod
    def _index_beneficiary_schemas():
        """Enrolment data is filtered by the keys each plan's beneficiary schema declares searchable
        (core.json_indexes); a plan whose schema changes has them re-indexed after commit."""
        from django.db.models.signals import pre_save

        from core.json_indexes import register_json_index_source
        from social_protection.models import Beneficiary, BenefitPlan, GroupBeneficiary

        def schemas():
            found = [(Beneficiary, "json_ext", {}), (GroupBeneficiary, "json_ext", {})]
            for plan_type, schema in BenefitPlan.objects.filter(is_deleted=False).exclude(
                    beneficiary_data_schema=None).values_list("type", "beneficiary_data_schema"):
                model = GroupBeneficiary if plan_type == BenefitPlan.BenefitPlanType.GROUP_TYPE else Beneficiary
                found.append((model, "json_ext", schema))
            return found

        def schema_may_change(sender, instance, **kwargs):
            if instance._state.adding or {"beneficiary_data_schema", "is_deleted"} & set(instance.get_dirty_fields()):
                from core.scheduling import enqueue_on_commit
                from core.tasks import sync_json_indexes

                enqueue_on_commit(sync_json_indexes)

        register_json_index_source(schemas)
        pre_save.connect(schema_may_change, sender=BenefitPlan, weak=False, dispatch_uid="social-protection-json-indexes")

    @classmethod
    def _set_up_uploads(cls):
        """Beneficiary uploads: the engine's plan target and, with Python workflows, their registration and
        the Python "valid items" workflows in place of the untouched Lightning defaults (workflow.md §9.2)."""
        from django.apps import apps

        from individual.services import register_plan_target
        from social_protection.imports import BenefitPlanImportTarget

        register_plan_target(BenefitPlanImportTarget)
        if not (cls.enable_python_workflows and apps.is_installed("workflow")):
            return
        from workflow.services import set_up_python_workflows

        set_up_python_workflows(cls, DEFAULT_CONFIG, {
            "validation_import_valid_items_workflow": "socialProtection.Python Beneficiaries Valid Upload",
            "validation_upload_valid_items_workflow": "socialProtection.Python Beneficiaries Valid Update",
        }, "social_protection.workflows")
