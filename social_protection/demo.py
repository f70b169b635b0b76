"""Demo contribution: one INDIVIDUAL and one GROUP plan with schemas, and enrolled demo beneficiaries."""
import datetime

from django.utils import timezone

from individual.selectors import groups, individuals_without_group

CHILDREN = {"number_of_children": {"type": "integer", "minimum": 0}}


def _plan(code, name, type, max_beneficiaries, ceiling, description, properties, criteria):
    return {"code": code, "name": name, "type": type, "max_beneficiaries": max_beneficiaries,
            "ceiling_per_beneficiary": ceiling, "institution": "Ministry of Social Affairs", "description": description,
            "beneficiary_data_schema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                                        "properties": {**CHILDREN, **properties}},
            "json_ext": {"advanced_criteria": criteria}}


PLANS = [
    _plan("DEMO-CT", "Demo cash transfer", "INDIVIDUAL", 500, "120.00",
          "Monthly cash transfer for individuals with more than one child",
          {"educated_level": {"type": "string"}, "able_bodied": {"type": "boolean"}},
          {"POTENTIAL": [{"field": "number_of_children", "filter": "gt", "type": "integer", "value": "1"}]}),
    _plan("DEMO-HH", "Demo household support", "GROUP", 200, "300.00", "Quarterly support to households",
          {"household_size": {"type": "integer", "minimum": 1}}, {}),
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
        candidates = individuals_without_group().filter(json_ext__number_of_children__gte=1)
        result = service.enroll_individuals(candidates, plans["INDIVIDUAL"].id, "POTENTIAL", maker_checker=False)
        ctx.log(f"{result['enrolled']} individuals enrolled into {plans['INDIVIDUAL'].code}")
    if "GROUP" in plans:
        result = service.enroll_groups(groups().filter(is_deleted=False), plans["GROUP"].id, "ACTIVE",
                                       maker_checker=False)
        ctx.log(f"{result['enrolled']} groups enrolled into {plans['GROUP'].code}")
    if "INDIVIDUAL" in plans:
        _demo_update_request(ctx, plans["INDIVIDUAL"])


def _demo_update_request(ctx, plan):
    """A change of a benefit plan waiting for approval (source ``BenefitPlanService``, the frontend's "Benefit plan
    update tasks" panel): the admin asks, the Checker approves."""
    from social_protection.services import BenefitPlanService

    result = BenefitPlanService(ctx.admin).create_update_task({
        "id": str(plan.id), "code": plan.code, "name": plan.name, "type": plan.type,
        "max_beneficiaries": 600, "description": f"{plan.description} (ceiling raised to 600 people)"})
    ctx.log(f"benefit plan {plan.code}: update (600 people) waiting for approval" if result.get("success")
            else f"benefit plan {plan.code}: no demo update request ({result.get('detail')})")
