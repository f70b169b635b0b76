"""Processing of a payment cycle: entitlements of every payment plan due in the cycle (payment_cycle.md §5.2, §10.4).

For each benefit plan running at the cycle's end and each of its payment plans due that month, the plan's
calculation rule answers a :class:`core.calculation.RuleResult`; this module persists it as ``Entitlement`` rows.

* Set-based: a rule's *selection* (the enrolments, annotated with recipient, amount in cents, over-limit flag and
  breakdown) is written with one ``INSERT … SELECT`` plus its history rows (``core.bulk``); nothing is computed
  per beneficiary in Python and the number of SQL statements does not depend on the number of beneficiaries.
* Idempotent: a run over a PENDING cycle keeps every entitlement whose recipient, amount and approval need are
  unchanged, soft-deletes (with history) the recomputable ones that changed or lost their enrolment, and inserts
  only what is missing. A re-run with nothing changed writes nothing.
* Scale-out: a payment plan's enrolments are split into id-range chunks (``processing_chunk_size``). With a
  broker the chunks run as a celery chord over the workers (:mod:`payment_cycle.tasks`); without one, in-process,
  inside the payment plan's transaction. Every row is computed from its own enrolment only, so the result is
  the same whatever the number of chunks or workers.
* Entitlement codes: a permutation of a counter (``EntitlementCodeCounter``), unique by construction; a chunk
  reserves its block of numbers in a short transaction of its own, so parallel chunks never wait for each other.
"""
import calendar
import datetime
import logging
import random
import string
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Sum, Value, When, Window
from django.db.models.functions import Round, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from core import bulk
from core.calculation import CalculationRuleRegistry, money
from core.errors import ServiceResultError
from core.services import is_authenticated, model_representation, output_result_success, run_at_boundary
from payment_cycle.apps import PaymentCycleConfig
from payment_cycle.models import (
    RECOMPUTABLE_STATUSES,
    Entitlement,
    EntitlementCodeCounter,
    EntitlementStatus,
    PaymentCycle,
    PaymentPlan,
    benefit_plan_content_type,
)

logger = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ123456789"  # calcrule spec §4.3: no zero (read as O)
CODE_MULTIPLIER = 387_420_489  # 3**18: coprime with the alphabet's size, so the permutation is a bijection
CODE_OFFSET = 1_234_567_890_123  # large, so that the first codes handed out do not all end in "AA"
# over-limit approval tasks list their entitlement ids up to this many (the decision always covers them all)
TASK_ID_LIST_LIMIT = 10_000
RESERVATION_MARGIN = 100
ENROLMENT_FIELDS = {"Beneficiary": "beneficiary", "GroupBeneficiary": "group_beneficiary"}


# --- codes ------------------------------------------------------------------------------------------------------
def code_length():
    from calcrule_social_protection.services import code_length as configured

    return min(max(configured(), 6), 10)


def entitlement_code(number, length=None):
    """The code of counter ``number`` (Python twin of :class:`EntitlementCode`)."""
    length = length or code_length()
    base = len(CODE_ALPHABET)
    value = (number * CODE_MULTIPLIER + CODE_OFFSET) % base ** length
    return "".join(CODE_ALPHABET[(value // base ** k) % base] for k in range(length))


class EntitlementCode(models.Func):
    """SQL twin of :func:`entitlement_code` over an integer expression (the counter number)."""

    output_field = models.CharField()

    def __init__(self, number, length):
        self.length = length
        super().__init__(number)

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        base = len(CODE_ALPHABET)
        # "%%": a modulo in SQL with parameters
        value = f"((({sql}) * {CODE_MULTIPLIER} + {CODE_OFFSET}) %% {base ** self.length})"
        letters = [f"SUBSTR('{CODE_ALPHABET}', CAST(({value} / {base ** k}) %% {base} AS INTEGER) + 1, 1)"
                   for k in range(self.length)]
        return "(" + " || ".join(letters) + ")", list(params) * self.length


class CentsToMoney(models.Func):
    """An integer amount in cents as a decimal of two places (exact: cents are whole numbers)."""

    output_field = models.DecimalField(max_digits=18, decimal_places=2)

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(CAST(({sql}) AS NUMERIC(20, 0)) / 100)", params

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) / 100.0)", params


def reserve_codes(count):
    """The first of ``count`` fresh counter numbers (a short transaction of its own outside a plan's one)."""
    if count <= 0:
        return 0
    table = connection.ops.quote_name(EntitlementCodeCounter._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} (id, value) VALUES (1, %s) ON CONFLICT (id) DO UPDATE "
                       f"SET value = {table}.value + %s RETURNING value", [count, count])
        last = cursor.fetchone()[0]
    return last - count + 1


# --- periods ---------------------------------------------------------------------------------------------------
def month_period(year, month):
    return datetime.date(year, month, 1), datetime.date(year, month, calendar.monthrange(year, month)[1])


def plan_period(payment_plan, end_date):
    """``(start, None)`` of the payment plan's period ending with the month of ``end_date``, or ``(None,
    reason)`` when that month is not one of its payment months (periodicity 3 pays in March, June, …)."""
    periodicity = payment_plan.periodicity
    if periodicity not in PaymentPlan.PERIODICITIES:
        return None, _("periodicity %(p)s is not one of %(values)s") % {
            "p": periodicity, "values": ", ".join(map(str, PaymentPlan.PERIODICITIES))}
    if end_date.month % periodicity:
        return None, _("not a payment month (periodicity %(p)s)") % {"p": periodicity}
    return datetime.date(end_date.year, end_date.month - periodicity + 1, 1), None


def end_of_day(date):
    return timezone.make_aware(datetime.datetime.combine(date, datetime.time.max))


# --- one chunk of one payment plan ---------------------------------------------------------------------------
class PlanRun:
    """What a chunk needs to compute and write the entitlements of one payment plan in one cycle."""

    def __init__(self, cycle, payment_plan, user, period_start):
        self.cycle = cycle
        self.plan = payment_plan
        self.user = user
        self.period_start = period_start
        self.rule = CalculationRuleRegistry.get(payment_plan.calculation)

    @classmethod
    def load(cls, cycle_id, payment_plan_id, user_id, period_start):
        cycle = PaymentCycle.objects.get(id=cycle_id)
        plan = PaymentPlan.objects.select_related("benefit_plan").get(id=payment_plan_id)
        user = get_user_model().objects.get(id=user_id)
        return cls(cycle, plan, user, datetime.date.fromisoformat(str(period_start)))

    def calculate(self, beneficiaries_queryset=None):
        result = self.rule.calculate_if_active_for_object(
            self.plan, user=self.user, payment_cycle=self.cycle, start_date=self.period_start,
            end_date=self.cycle.end_date, beneficiaries_queryset=beneficiaries_queryset, context="PaymentCycle")
        if result is None:
            raise ValidationError(_("Calculation rule %(rule)s is not active for payment plan %(code)s") % {
                "rule": self.rule.calculation_rule_name, "code": self.plan.code})
        return result

    @property
    def live(self):
        return Entitlement.objects.filter(payment_cycle_id=self.cycle.id, payment_plan_id=self.plan.id,
                                          is_deleted=False)

    # --- set-based write ---------------------------------------------------------------------------------
    def write_chunk(self, low=None, high=None, rows=None):
        """Compute and write the entitlements of the enrolments with ``low <= id < high`` (``rows`` of them when
        the chunk was cut: codes are reserved for that many without counting again); answers ``{"written",
        "replaced"}``. Runs in the caller's transaction (the plan's) or in its own."""
        selection = self.calculate().selection
        if selection is None:
            raise ValidationError(_("Calculation rule %(rule)s answers rows, not a selection") % {
                "rule": self.rule.calculation_rule_name})
        if low is not None:
            selection = selection.filter(id__gte=low)
        if high is not None:
            selection = selection.filter(id__lt=high)
        field = ENROLMENT_FIELDS[selection.model.__name__]
        now = timezone.now()
        with transaction.atomic():
            replaced = bulk.soft_delete_with_history(self._stale(selection, field, low, high), user=self.user, now=now)
        fresh = selection.filter(~Exists(self.live.filter(**{f"{field}_id": OuterRef("id")})))
        # an enrolment added to the range meanwhile would need a code beyond the reservation: a small margin
        count = fresh.count() if rows is None else rows + RESERVATION_MARGIN
        first = reserve_codes(count)
        written = 0
        if count:
            with transaction.atomic():
                written = bulk.insert_from_select(Entitlement, fresh, self._values(field, first), user=self.user,
                                                  now=now)
        return {"written": written, "replaced": replaced}

    def _stale(self, selection, field, low, high):
        """Recomputable entitlements of this chunk whose enrolment no longer yields the same recipient, amount
        and approval need."""
        same = selection.filter(id=OuterRef(f"{field}_id"), calc_individual_id=OuterRef("individual_id"),
                                calc_amount_cents=Round(OuterRef("amount") * 100))
        unchanged = (Q(status=EntitlementStatus.ACCEPTED) & Exists(same.filter(calc_needs_approval=False))
                     | Q(status=EntitlementStatus.PENDING_APPROVAL) & Exists(same.filter(calc_needs_approval=True)))
        stale = self.live.filter(status__in=RECOMPUTABLE_STATUSES, **{f"{field}__isnull": False})
        if low is not None:
            stale = stale.filter(**{f"{field}_id__gte": low})
        if high is not None:
            stale = stale.filter(**{f"{field}_id__lt": high})
        return stale.exclude(unchanged)

    def _values(self, field, first_number):
        def const(value, name):
            return bulk.constant(value, Entitlement, name)

        number = Value(first_number - 1, output_field=models.BigIntegerField()) + Window(
            RowNumber(), order_by=F("id").asc())
        return {
            "payment_cycle": const(self.cycle.id, "payment_cycle"),
            "payment_plan": const(self.plan.id, "payment_plan"),
            "benefit_plan": F("benefit_plan_id"),
            field: F("id"),
            "individual": F("calc_individual_id"),
            "group": F("calc_group_id"),
            "code": EntitlementCode(number, code_length()),
            "amount": CentsToMoney(F("calc_amount_cents")),
            "currency": const(currency(), "currency"),
            "date_due": const(self.cycle.end_date, "date_due"),
            "period_start": const(self.period_start, "period_start"),
            "period_end": const(self.cycle.end_date, "period_end"),
            "type": const(PaymentCycleConfig.entitlement_type, "type"),
            "status": Case(When(calc_needs_approval=True, then=Value(EntitlementStatus.PENDING_APPROVAL)),
                           default=Value(EntitlementStatus.ACCEPTED), output_field=models.CharField()),
            "calculation": const(self.plan.calculation, "calculation"),
            "json_ext": F("calc_breakdown"),
        }

    # --- rows answered by a rule in Python ---------------------------------------------------------------
    def write_rows(self, rows):
        """Persist a rule's Python rows with the same keep/replace/insert rules as the set-based path."""
        now = timezone.now()
        wanted = {}
        for row in rows:
            enrolment = row["enrolment"]
            enrolment_id = str(getattr(enrolment, "pk", enrolment))
            field = row.get("enrolment_field") or ENROLMENT_FIELDS[type(enrolment).__name__]
            wanted[(field, enrolment_id)] = row
        current = {}
        for entitlement in self.live.filter(status__in=RECOMPUTABLE_STATUSES).values(
                "id", "beneficiary_id", "group_beneficiary_id", "individual_id", "amount", "status"):
            field = "beneficiary" if entitlement["beneficiary_id"] else "group_beneficiary"
            current[(field, str(entitlement[f"{field}_id"]))] = entitlement
        decided = {("beneficiary" if b else "group_beneficiary", str(b or g)) for b, g in self.live.exclude(
            status__in=RECOMPUTABLE_STATUSES).values_list("beneficiary_id", "group_beneficiary_id")}
        stale, fresh = [], []
        for key, row in wanted.items():
            status = EntitlementStatus.PENDING_APPROVAL if row.get("needs_approval") else EntitlementStatus.ACCEPTED
            existing = current.pop(key, None)
            if existing is not None:
                if (str(existing["individual_id"]) == str(_pk(row["individual"])) and existing["status"] == status
                        and money(existing["amount"]) == money(row["amount"])):
                    continue
                stale.append(existing["id"])
            if key not in decided:
                fresh.append((key, row, status))
        stale.extend(entitlement["id"] for entitlement in current.values())
        replaced = bulk.soft_delete_with_history(Entitlement.objects.filter(id__in=stale), user=self.user, now=now) \
            if stale else 0
        first = reserve_codes(len(fresh))
        length = code_length()
        written = bulk.insert_rows(Entitlement, ({
            "payment_cycle_id": self.cycle.id, "payment_plan_id": self.plan.id,
            "benefit_plan_id": self.plan.benefit_plan_id, f"{field}_id": enrolment_id,
            "individual_id": _pk(row["individual"]), "group_id": _pk(row.get("group")),
            "code": entitlement_code(first + index, length), "amount": money(row["amount"]),
            "currency": currency(), "date_due": self.cycle.end_date, "period_start": self.period_start,
            "period_end": self.cycle.end_date, "type": PaymentCycleConfig.entitlement_type, "status": status,
            "calculation": self.plan.calculation, "json_ext": row.get("breakdown") or {},
        } for index, ((field, enrolment_id), row, status) in enumerate(fresh)), user=self.user, now=now)
        return {"written": written, "replaced": replaced}

    # --- after every chunk -------------------------------------------------------------------------------
    def summary(self):
        """Counts and total of the plan's live entitlements in the cycle (one aggregate statement)."""
        totals = self.live.aggregate(
            entitlements=models.Count("id"), total=Sum("amount"),
            pending=models.Count("id", filter=Q(status=EntitlementStatus.PENDING_APPROVAL)))
        return {"entitlements": totals["entitlements"], "total_amount": str(money(totals["total"] or 0)),
                "pending_approval": totals["pending"]}

    def request_approval(self):
        """One maker-checker task per cycle and payment plan while over-limit entitlements wait (calcrule §7.4)."""
        from calcrule_social_protection.services import calculate_business_event
        from tasks_management.services import TaskService, pending_task

        pending = self.live.filter(status=EntitlementStatus.PENDING_APPROVAL)
        ids = [str(i) for i in pending.order_by("code").values_list("id", flat=True)[:TASK_ID_LIST_LIMIT + 1]]
        event = calculate_business_event()
        task = pending_task(self.cycle.id, event, scope=self.plan.id)
        if not ids:
            return None
        json_ext = {"task_scope": str(self.plan.id), "payment_plan_id": str(self.plan.id),
                    "payment_plan_code": self.plan.code, "payment_cycle_code": self.cycle.code,
                    "benefit_plan_id": str(self.plan.benefit_plan_id),
                    "entitlement_count": pending.count(),
                    **({"entitlement_ids": ids} if len(ids) <= TASK_ID_LIST_LIMIT else {})}
        if task is not None:  # a re-run: the waiting task now lists the recomputed entitlements
            task.json_ext = {**(task.json_ext or {}), **json_ext}
            if len(ids) > TASK_ID_LIST_LIMIT:
                task.json_ext.pop("entitlement_ids", None)
            if task.is_dirty(check_relationship=True):
                task.save(user=self.user)
            return str(task.id)
        from core.errors import ensure_success
        from tasks_management.services import default_executor_event

        result = ensure_success(TaskService(self.user).create({
            "source": "calcrule_social_protection",
            "entity": self.cycle,
            "business_event": event,
            "executor_action_event": default_executor_event(),
            "json_ext": json_ext,
            "data": {"payment_plan_id": str(self.plan.id), "payment_cycle_id": str(self.cycle.id)},
        }))
        return result["data"]["task"]["id"] if "task" in result["data"] else result["data"]["id"]


def _pk(value):
    if value is None:
        return None
    return getattr(value, "pk", value)


def currency():
    return PaymentCycleConfig.default_currency


def chunk_bounds(selection, size):
    """``[(low, high, rows)]``: id ranges of ``size`` enrolments each covering ``selection`` (``None`` = open) and
    how many enrolments each holds, from one statement (every ``size``-th id and the total, by window functions).
    ``rows`` is what a chunk reserves entitlement codes for: never fewer than it can insert."""
    if not size:
        return [(None, None, selection.count())]
    numbered = selection.model.objects.filter(id__in=selection.values("id")).annotate(
        position=Window(RowNumber(), order_by=F("id").asc()), total=Window(models.Count("id")))
    starts = list(numbered.filter(position__gt=0).annotate(start=(F("position") - 1) % size).filter(start=0)
                  .order_by("id").values_list("id", "total"))
    if not starts:
        return [(None, None, 0)]
    total = starts[0][1]
    ids = [start for start, _ in starts]
    lows = [None, *ids[1:]]
    highs = [*ids[1:], None]
    return [(low, high, min(size, total - index * size)) for index, (low, high) in enumerate(zip(lows, highs))]


# --- the template and the benefit plan variant ------------------------------------------------------------------
class PaymentCycleProcessingService:
    """Template of a cycle's processing (upstream's Generation 1 ``PaymentCycleService.process``)."""

    def __init__(self, user):
        self.user = user

    def _get_main_queryset(self, end_date, **kwargs):
        raise NotImplementedError

    def _process_main_queryset_entry(self, entry, cycle, end_date, **kwargs):
        raise NotImplementedError

    def _create_payment_cycle_entry(self, **kwargs):
        raise NotImplementedError

    def _payment_cycle_entry_exists(self, **kwargs):
        raise NotImplementedError

    def _model_name(self):
        return "PaymentCycle"

    # ---- entry points ----
    def process(self, year=None, month=None, payment_cycle_id=None, **kwargs):
        """Process now, in this process; answers the result dict of §10.4."""
        opened = run_at_boundary(self, "process", lambda: self._open_cycle(year, month, payment_cycle_id))
        if not opened.get("success"):
            return opened
        return self.run(PaymentCycle.objects.get(id=opened["data"]["payment_cycle"]["id"]), **kwargs)

    def queue_processing(self, year=None, month=None, payment_cycle_id=None):
        """Open the cycle and queue its processing after commit (celery; in-process when eager)."""
        def open_and_queue():
            from core.scheduling import enqueue_on_commit
            from payment_cycle.tasks import process_payment_cycle

            opened = self._open_cycle(year, month, payment_cycle_id)
            cycle = PaymentCycle.objects.select_for_update().get(id=opened["data"]["payment_cycle"]["id"])
            set_progress(cycle, self.user, {"status": "QUEUED", "queued": timezone.now().isoformat()})
            enqueue_on_commit(process_payment_cycle, str(cycle.id), str(self.user.id))
            return opened

        return run_at_boundary(self, "process", open_and_queue)

    def _open_cycle(self, year, month, payment_cycle_id):
        if payment_cycle_id:
            cycle = PaymentCycle.objects.select_for_update().filter(id=payment_cycle_id, is_deleted=False).first()
            if cycle is None:
                raise ValidationError(_("Payment cycle %(id)s does not exist") % {"id": payment_cycle_id})
            if cycle.status != PaymentCycle.PaymentCycleStatus.PENDING:
                raise ValidationError(_("Payment cycle %(code)s is %(status)s: only a PENDING cycle is processed") % {
                    "code": cycle.code, "status": cycle.status})
            if (cycle.json_ext or {}).get("processing", {}).get("status") in ("QUEUED", "RUNNING"):
                raise ValidationError(_("Payment cycle %(code)s is being processed") % {"code": cycle.code})
        else:
            year, month = _year_month(year, month)
            if self._payment_cycle_entry_exists(year=year, month=month):
                raise ValidationError(_("PaymentCycle already processed for %(month)s-%(year)s") % {
                    "month": month, "year": year})
            cycle = self._create_payment_cycle_entry(year=year, month=month)
        return output_result_success({"payment_cycle": model_representation(cycle)})

    def run(self, cycle, **kwargs):
        """Every due payment plan of ``cycle``, each in its own transaction (in-process chunks)."""
        if not is_authenticated(self.user):
            return {"success": False, "message": "Authentication required", "detail": "PermissionDenied"}
        entries = list(self._get_main_queryset(cycle.end_date, **kwargs))
        progress = {"status": "RUNNING", "started": timezone.now().isoformat(), "benefit_plans_total": len(entries),
                    "benefit_plans_done": 0, "entitlements": 0}
        set_progress(cycle, self.user, progress)
        grouped, failed = {}, False
        for entry in entries:
            outcome = self._process_main_queryset_entry(entry, cycle, cycle.end_date, **kwargs)
            grouped[str(entry.pk)] = outcome
            failed = failed or any("error" in plan for plan in outcome["payment_plans"].values())
            progress["benefit_plans_done"] += 1
            progress["entitlements"] += sum(plan.get("entitlements", 0) for plan in outcome["payment_plans"].values())
            set_progress(cycle, self.user, progress)
        return finish(cycle, self.user, grouped, failed)


class BenefitPlanPaymentCycleService(PaymentCycleProcessingService):
    """The cycle of benefit plans: their payment plans' rules compute the entitlements."""

    def _get_main_queryset(self, end_date, **kwargs):
        from social_protection.selectors import benefit_plans

        limit = end_of_day(end_date)
        return (benefit_plans().filter(is_deleted=False, date_valid_from__lte=limit)
                .filter(Q(date_valid_to__gte=limit) | Q(date_valid_to__isnull=True)).order_by("code"))

    def _payment_cycle_entry_exists(self, year, month, **kwargs):
        start, end = month_period(year, month)
        return PaymentCycle.objects.filter(is_deleted=False, type=benefit_plan_content_type(), start_date=start,
                                           end_date=end).exists()

    def _create_payment_cycle_entry(self, year, month, **kwargs):
        start, end = month_period(year, month)
        code = f"{year}-{calendar.month_name[month]}"
        if PaymentCycle.objects.filter(code=code, is_deleted=False).exists():
            code = f"{code}-{''.join(random.choices(string.ascii_uppercase + string.digits, k=8))}"
        cycle = PaymentCycle(code=code, start_date=start, end_date=end, status=PaymentCycle.PaymentCycleStatus.PENDING,
                             type=benefit_plan_content_type(), json_ext={})
        cycle.save(user=self.user)
        return cycle

    @staticmethod
    def due_payment_plans(benefit_plan, end_date):
        """Live payment plans of ``benefit_plan`` valid at ``end_date`` (every one of them: upstream stopped
        after the first)."""
        return (PaymentPlan.objects.filter(benefit_plan=benefit_plan, is_deleted=False, date_valid_from__lte=end_date)
                .filter(Q(date_valid_to__gte=end_date) | Q(date_valid_to__isnull=True))
                .select_related("benefit_plan").order_by("code"))

    def _process_main_queryset_entry(self, entry, cycle, end_date, **kwargs):
        return {"payment_plans": {str(plan.id): self.process_payment_plan(cycle, plan)
                                  for plan in self.due_payment_plans(entry, end_date)}}

    def process_payment_plan(self, cycle, plan, chunk_size=None):
        """One payment plan in one transaction: its chunks in this process, then its approval task."""
        period_start, reason = plan_period(plan, cycle.end_date)
        if reason:
            return {"skipped": reason}
        run = PlanRun(cycle, plan, self.user, period_start)
        if run.rule is None:
            logger.warning("Payment plan %s: calculation rule %s is not registered", plan.code, plan.calculation)
            return {"skipped": _("calculation rule %(uuid)s is not registered") % {"uuid": plan.calculation}}
        chunk_size = PaymentCycleConfig.processing_chunk_size if chunk_size is None else chunk_size
        try:
            with transaction.atomic():
                result = run.calculate()
                if result.set_based:
                    for low, high, rows in chunk_bounds(result.selection, chunk_size):
                        run.write_chunk(low, high, rows)
                else:
                    run.write_rows(result.rows)
                run.request_approval()
                summary = run.summary()
        except (ValidationError, ServiceResultError) as exc:
            messages = getattr(exc, "messages", None) or [str(exc)]
            return {"error": "; ".join(messages)}
        except Exception:
            logger.exception("Processing payment plan %s of cycle %s failed", plan.code, cycle.code)
            return {"error": _("Processing failed, see the server log")}
        if result.warnings:
            summary["warnings"] = list(result.warnings)
        return summary


def _year_month(year, month):
    try:
        year, month = int(year), int(month)
    except (TypeError, ValueError):
        raise ValidationError(_("year and month are required"))
    if not 1 <= month <= 12:
        raise ValidationError(_("month must be between 1 and 12"))
    if not 1900 <= year <= 9999:
        raise ValidationError(_("year %(year)s is out of range") % {"year": year})
    return year, month


def set_progress(cycle, user, processing):
    """``json_ext.processing`` of the cycle (a plain UPDATE with a history row per step)."""
    json_ext = {**(cycle.json_ext or {}), "processing": dict(processing)}
    bulk.update_with_history(PaymentCycle.objects.filter(id=cycle.id), {"json_ext": json_ext}, user=user)
    cycle.json_ext = json_ext


def finish(cycle, user, grouped, failed):
    """The result dict of §10.4, also kept in the cycle's ``json_ext.processing``."""
    cycle.refresh_from_db()
    result = {"success": not failed, "message": "Ok" if not failed else _("Some payment plans failed"),
              "detail": "", "data": {"payment_cycle": model_representation(cycle),
                                     "benefit_plans": {key: value for key, value in grouped.items()}}}
    processing = {**(cycle.json_ext or {}).get("processing", {}), "status": "FAILED" if failed else "DONE",
                  "finished": timezone.now().isoformat(), "result": {
                      "success": result["success"], "benefit_plans": result["data"]["benefit_plans"]}}
    set_progress(cycle, user, processing)
    return result


def entitlement_total(queryset):
    return money(queryset.aggregate(total=Sum("amount"))["total"] or Decimal(0))
