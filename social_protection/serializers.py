"""Readable ``businessData`` of social_protection's maker-checker tasks, for a page of tasks at once (spec §4.1):
beneficiary and individual ids → "First Last", group beneficiary → "Group <code>", group ids → code, plan ids →
"Benefit Plan <code>". Registered in ``SocialProtectionConfig.ready()`` under the services' declared names."""
from core.serializers import IdLabelSerializer, labels_from
from individual.selectors import groups, individuals
from social_protection.models import BenefitPlan, Beneficiary, GroupBeneficiary

PLANS = labels_from(BenefitPlan.objects.only("id", "code"), str)
MEMBERS = {
    "individual_id": labels_from(individuals().only("id", "first_name", "last_name"), str),
    "group_id": labels_from(groups().only("id", "code"), lambda group: group.code),
    "benefit_plan_id": PLANS,
}


class BenefitPlanTaskData(IdLabelSerializer):
    labels = {"id": PLANS, **MEMBERS}


class BeneficiaryTaskData(IdLabelSerializer):
    labels = {"id": labels_from(Beneficiary.objects.select_related("individual"), str), **MEMBERS}


class GroupBeneficiaryTaskData(IdLabelSerializer):
    labels = {"id": labels_from(GroupBeneficiary.objects.select_related("group"), str), **MEMBERS}


BUSINESS_DATA_SERIALIZERS = {
    "social_protection.BenefitPlanService": BenefitPlanTaskData,
    "social_protection.BeneficiaryService": BeneficiaryTaskData,
    "social_protection.GroupBeneficiaryService": GroupBeneficiaryTaskData,
}
