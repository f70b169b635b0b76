"""Demo contribution: one INDIVIDUAL and one GROUP plan with schemas, and enrolled demo beneficiaries."""
import datetime

from django.utils import timezone

from individual.models import Group, Individual

PLANS = [
    {"code": "DEMO-CT", "name": "Demo cash transfer", "type": "INDIVIDUAL", "max_beneficiaries": 500,
     "ceiling_per_beneficiary": "120.00", "institution": "Ministry of Social Affairs",
     "description": "Monthly cash transfer for individuals with more than one child",
     "beneficiary_data_schema": {
         "$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
         "properties": {"number_of_children": {"type": "integer", "minimum": 0},
                        "educated_level": {"type": "string"}, "able_bodied": {"type": "boolean"}}},
     "json_ext": {"advanced_criteria": {"POTENTIAL": [
         {"field": "number_of_children", "filter": "gt", "type": "integer", "value": "1"}]}}},
    {"code": "DEMO-HH", "name": "Demo household support", "type": "GROUP", "max_beneficiaries": 200,
     "ceiling_per_beneficiary": "300.00", "institution": "Ministry of Social Affairs",
     "description": "Quarterly support to households",
     "beneficiary_data_schema": {
         "$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
         "properties": {"number_of_children": {"type": "integer", "minimum": 0},
                        "household_size": {"type": "integer", "minimum": 1}}},
     "json_ext": {"advanced_criteria": {}}},
]


def contribute(ctx):
    from social_protection.services import BenefitPlanService, EnrollmentService
    from social_protection.models import BenefitPlan

    plans = {}  # only plans created by this run get demo beneficiaries: a rerun adds nothing
    for spec in PLANS:
        plan = BenefitPlan.objects.filter(code=spec["code"], is_deleted=False).first()
        if plan is None:
            today = timezone.localdate()
            result = BenefitPlanService(ctx.admin).create({
                **spec, "date_valid_from": datetime.date(today.year, 1, 1),
                "date_valid_to": datetime.date(today.year + 1, 12, 31)})
            if not result["success"]:
                ctx.log(f"benefit plan {spec['code']} not created: {result['detail']}")
                continue
            plan = BenefitPlan.objects.get(id=result["data"]["id"])
            ctx.log(f"benefit plan {plan.code} ({plan.type}) created")
            plans[plan.type] = plan
    service = EnrollmentService(ctx.admin)
    if "INDIVIDUAL" in plans:
        # individuals without a household who have children; direct path (no pending approval task)
        candidates = Individual.objects.filter(is_deleted=False, groupindividual__isnull=True,
                                               json_ext__number_of_children__gte=1)
        result = service.enroll_individuals(candidates, plans["INDIVIDUAL"].id, "POTENTIAL", maker_checker=False)
        ctx.log(f"{result['enrolled']} individuals enrolled into {plans['INDIVIDUAL'].code}")
    if "GROUP" in plans:
        result = service.enroll_groups(Group.objects.filter(is_deleted=False), plans["GROUP"].id, "ACTIVE",
                                       maker_checker=False)
        ctx.log(f"{result['enrolled']} groups enrolled into {plans['GROUP'].code}")
