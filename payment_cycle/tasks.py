"""Celery tasks of payment_cycle: a cycle's processing, spread over the workers as a chord of id-range chunks.

Without a broker (``CELERY_TASK_ALWAYS_EAGER``, the embedded default) the cycle is processed in-process, each
payment plan in one transaction. With one, the coordinator computes the chunks of every due payment plan, the
chunks run on any worker (each commits its own rows), and the chord's callback requests the approvals and writes
the result; a chunk that fails marks its payment plan failed and the rows this run wrote for it are withdrawn.
"""
import logging

from celery import chord, shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

logger = logging.getLogger(__name__)


def _user(user_id):
    return get_user_model().objects.get(id=user_id)


def in_process():
    from openimis_be.celery import app

    return bool(app.conf.task_always_eager)


@shared_task(name="payment_cycle.tasks.process_payment_cycle")
def process_payment_cycle(cycle_id, user_id, chunk_size=None):
    from payment_cycle.models import PaymentCycle
    from payment_cycle.processing import BenefitPlanPaymentCycleService

    user, cycle = _user(user_id), PaymentCycle.objects.get(id=cycle_id)
    service = BenefitPlanPaymentCycleService(user)
    if in_process():
        result = service.run(cycle)
        return {"success": result["success"], "payment_cycle": cycle_id}
    return dispatch(service, cycle, chunk_size)


def dispatch(service, cycle, chunk_size=None):
    """Coordinator: skipped plans and rule errors reported at once; each set-based plan's chunks queued."""
    from payment_cycle.apps import PaymentCycleConfig
    from payment_cycle.processing import PlanRun, chunk_bounds, plan_period, set_progress

    chunk_size = PaymentCycleConfig.processing_chunk_size if chunk_size is None else chunk_size
    started = timezone.now()
    entries = list(service._get_main_queryset(cycle.end_date))
    set_progress(cycle, service.user, {"status": "RUNNING", "started": started.isoformat(),
                                       "benefit_plans_total": len(entries), "benefit_plans_done": 0,
                                       "entitlements": 0})
    grouped, header, plans = {}, [], {}
    for entry in entries:
        outcome = grouped.setdefault(str(entry.pk), {"payment_plans": {}})["payment_plans"]
        for plan in service.due_payment_plans(entry, cycle.end_date):
            period_start, reason = plan_period(plan, cycle.end_date)
            run = PlanRun(cycle, plan, service.user, period_start) if not reason else None
            if reason or run.rule is None:
                outcome[str(plan.id)] = service.process_payment_plan(cycle, plan)  # answers the skip reason
                continue
            try:
                result = run.calculate()
                bounds = chunk_bounds(result.selection, chunk_size) if result.set_based else None
            except Exception as exc:  # the rule refused the plan: reported, nothing written
                outcome[str(plan.id)] = {"error": "; ".join(getattr(exc, "messages", None) or [str(exc)])}
                continue
            if bounds is None:  # a rule answering Python rows runs here, in one transaction
                outcome[str(plan.id)] = service.process_payment_plan(cycle, plan)
                continue
            plans[str(plan.id)] = {"benefit_plan": str(entry.pk), "warnings": list(result.warnings),
                                   "period_start": period_start.isoformat()}
            header += [compute_entitlement_chunk.si(str(cycle.id), str(plan.id), str(service.user.id),
                                                    period_start.isoformat(), _text(low), _text(high), rows)
                       for low, high, rows in bounds]
    callback = finish_payment_cycle.s(str(cycle.id), str(service.user.id), grouped, plans, started.isoformat())
    if not header:
        return finish_payment_cycle([], str(cycle.id), str(service.user.id), grouped, plans, started.isoformat())
    chord(header)(callback)
    return {"queued_chunks": len(header), "payment_cycle": str(cycle.id)}


def _text(value):
    return None if value is None else str(value)


@shared_task(name="payment_cycle.tasks.compute_entitlement_chunk")
def compute_entitlement_chunk(cycle_id, payment_plan_id, user_id, period_start, low, high, rows=None):
    """One id range of one payment plan; never raises (the chord's callback reads the outcome)."""
    from payment_cycle.processing import PlanRun

    try:
        outcome = PlanRun.load(cycle_id, payment_plan_id, user_id, period_start).write_chunk(low, high, rows)
    except Exception as exc:
        logger.exception("Entitlement chunk %s-%s of payment plan %s failed", low, high, payment_plan_id)
        return {"payment_plan": payment_plan_id, "error": "; ".join(getattr(exc, "messages", None) or
                                                                    [exc.__class__.__name__])}
    return {"payment_plan": payment_plan_id, **outcome}


@shared_task(name="payment_cycle.tasks.finish_payment_cycle")
def finish_payment_cycle(chunk_results, cycle_id, user_id, grouped, plans, started):
    """The chord's callback: per payment plan, its approval task and summary (or its failure)."""
    import datetime

    from core import bulk
    from payment_cycle.models import PaymentCycle, PaymentPlan
    from payment_cycle.processing import PlanRun, finish

    user, cycle = _user(user_id), PaymentCycle.objects.get(id=cycle_id)
    errors = {}
    for outcome in chunk_results or []:
        if "error" in outcome:
            errors.setdefault(outcome["payment_plan"], []).append(outcome["error"])
    failed = any("error" in plan for bp in grouped.values() for plan in bp["payment_plans"].values())
    for plan_id, meta in plans.items():
        run = PlanRun(cycle, PaymentPlan.objects.get(id=plan_id), user, datetime.date.fromisoformat(meta["period_start"]))
        target = grouped.setdefault(meta["benefit_plan"], {"payment_plans": {}})["payment_plans"]
        if plan_id in errors:
            # withdraw what this run wrote for the plan: its entitlements stay as before the run, less replaced rows
            bulk.soft_delete_with_history(run.live.filter(date_created__gte=datetime.datetime.fromisoformat(started)),
                                          user=user)
            target[plan_id] = {"error": "; ".join(sorted(set(errors[plan_id])))}
            failed = True
            continue
        run.request_approval()
        target[plan_id] = {**run.summary(), **({"warnings": meta["warnings"]} if meta["warnings"] else {})}
    result = finish(cycle, user, grouped, failed)
    return {"success": result["success"], "payment_cycle": cycle_id}
