"""What other modules read of this one: the business event of over-limit approvals and the entitlement code
length (``ModuleConfiguration`` module ``calcrule_social_protection``)."""
from calcrule_social_protection.apps import CalcruleSocialProtectionConfig


def calculate_business_event():
    return CalcruleSocialProtectionConfig.calculate_business_event


def code_length():
    return int(CalcruleSocialProtectionConfig.code_length or 8)
