"""Demo contribution: a monthly payment plan on the demo household plan and this month's cycle, processed (its
over-limit entitlements wait for the demo Checker's approval)."""
import datetime

from django.utils import timezone

SOCIAL_PROTECTION_RULE = "32d96b58-898a-460a-b357-5fd4b95cd87c"
PAYMENT_PLANS = [
    # 50 per household + 10 per member + 30 when the head has three children or more; above 120 a checker approves
    {"code": "DEMO-HH-M", "name": "Demo household support, monthly", "benefit_plan": "DEMO-HH", "periodicity": 1,
     "json_ext": {"calculation_rule": {"fixed_batch": 50, "amount_per_member": 10,
                                       "limit_per_single_transaction": 120},
                  "advanced_criteria": [{"custom_filter_condition": "number_of_children__gte__integer=3",
                                         "amount": 30, "count_to_max": False}]}},
    {"code": "DEMO-CT-M", "name": "Demo cash transfer, monthly", "benefit_plan": "DEMO-CT", "periodicity": 1,
     "json_ext": {"calculation_rule": {"fixed_batch": 100, "limit_per_single_transaction": 0},
                  "advanced_criteria": [{"custom_filter_condition": "able_bodied__exact__boolean=False",
                                         "amount": 20, "count_to_max": False}]}},
]


def contribute(ctx):
    from payment_cycle.models import PaymentCycle, PaymentPlan
    from payment_cycle.processing import BenefitPlanPaymentCycleService, month_period
    from payment_cycle.services import PaymentPlanService
    from social_protection.selectors import benefit_plans

    today = timezone.localdate()
    for spec in PAYMENT_PLANS:
        if PaymentPlan.objects.filter(code=spec["code"], is_deleted=False).exists():
            continue
        plan = benefit_plans().filter(code=spec["benefit_plan"], is_deleted=False).first()
        if plan is None:
            continue
        result = PaymentPlanService(ctx.admin).create({
            **{k: v for k, v in spec.items() if k != "benefit_plan"}, "benefit_plan_id": str(plan.id),
            "calculation": SOCIAL_PROTECTION_RULE, "date_valid_from": datetime.date(today.year, 1, 1)})
        ctx.log(f"payment plan {spec['code']} created" if result["success"]
                else f"payment plan {spec['code']} not created: {result['detail']}")
    start, end = month_period(today.year, today.month)
    if PaymentCycle.objects.filter(start_date=start, end_date=end, is_deleted=False).exists():
        ctx.log("this month's payment cycle already present")
        return
    result = BenefitPlanPaymentCycleService(ctx.admin).process(year=today.year, month=today.month)
    if not result["success"]:
        ctx.log(f"payment cycle not processed: {result.get('detail') or result.get('message')}")
        return
    cycle = result["data"]["payment_cycle"]
    written = sum(plan.get("entitlements", 0) for bp in result["data"]["benefit_plans"].values()
                  for plan in bp["payment_plans"].values())
    waiting = sum(plan.get("pending_approval", 0) for bp in result["data"]["benefit_plans"].values()
                  for plan in bp["payment_plans"].values())
    ctx.log(f"payment cycle {cycle['code']} processed: {written} entitlements, {waiting} over the limit waiting "
            "for the Checker")
