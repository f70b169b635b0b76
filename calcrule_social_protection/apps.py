"""calcrule_social_protection: the social protection calculation rule (and a per-member flat rule)."""
from core.module_config import ModuleAppConfig

MODULE_NAME = "calcrule_social_protection"

DEFAULT_CONFIG = {
    "calculate_business_event": "calcrule_social_protection.calculate",
    "code_length": 8,
}


class CalcruleSocialProtectionConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Calculation rule: social protection"
    DEFAULT_CONFIG = DEFAULT_CONFIG

    def ready(self):
        super().ready()
        from calcrule_social_protection.calculation_rule import RULES
        from core.calculation import CalculationRuleRegistry

        for rule in RULES:
            CalculationRuleRegistry.register(rule)
