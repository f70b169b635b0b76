"""Payroll out and back: the payment list of a cycle for a payment provider, and the reconciliation of the
provider's answer.

* :func:`payment_list` — the cycle's payable entitlements (``APPROVE_FOR_PAYMENT`` unless asked otherwise) with
  the recipient's name, identifiers and phone, read in one streamed statement (``values_list().iterator()``: joins,
  no query per row), limited to the individuals the caller's row security lets them see, the registry's masked
  attributes masked for callers without clear-data rights. The views write it as CSV (streamed) or XLSX.
* :func:`reconcile` — a provider file (CSV/XLSX read by ``core.tabular``, streamed) of ``code, status (PAID |
  FAILED), paid_amount, receipt, date, reason``. Every row is checked, first on its own, then against the cycle's
  entitlements; when any row is invalid, :class:`InvalidRows` lists every one of them (row, code, reason) and
  nothing is written. Otherwise, in one transaction: PAID rows become ``PAID`` with the amount, receipt and date
  paid; FAILED rows keep ``APPROVE_FOR_PAYMENT`` (they can be sent again) with the failure reason recorded. Writes
  are set-based through ``core.bulk.update_rows`` (history rows included); the number of SQL statements does not
  depend on the number of rows.
"""
import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional

from django.db import transaction
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext as _

from core import bulk
from core.masking import masked_value, masking_policy
from core.module_config import config_value
from core.tabular import CellError, HeaderRules, TabularError, open_table, parse_date, parse_decimal
from individual.selectors import MASKING_POLICY, visible_individual_ids
from payment_cycle.models import Entitlement, EntitlementStatus, PaymentCycle, PaymentPlan

CENT = Decimal("0.01")
ACTIVE = PaymentCycle.PaymentCycleStatus.ACTIVE
PAYABLE = EntitlementStatus.APPROVE_FOR_PAYMENT
PAID, FAILED = "PAID", "FAILED"

# --------------------------------------------------------------------------------------------------------------
# Errors answered to the client (their text is written for the user)
# --------------------------------------------------------------------------------------------------------------


class PayrollRefused(Exception):
    """The request as a whole is refused; ``http_status`` 400 (bad request) or 404 (unknown cycle or plan)."""

    def __init__(self, message, http_status=400, problems=None):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.problems = list(problems or [])


class InvalidRows(PayrollRefused):
    """The reconciliation file has invalid rows: ``rows`` lists ``{"row", "code", "reason"}`` for each one."""

    def __init__(self, rows):
        self.rows = rows
        super().__init__(_("%(count)s invalid rows: nothing was changed") % {"count": len(rows)})


# --------------------------------------------------------------------------------------------------------------
# Look-ups shared by both directions
# --------------------------------------------------------------------------------------------------------------
def live_cycle(payment_cycle_id, lock=False):
    """The non-deleted cycle ``payment_cycle_id`` (a UUID), or :class:`PayrollRefused` 404."""
    rows = PaymentCycle.objects.filter(pk=payment_cycle_id, is_deleted=False)
    cycle = (rows.select_for_update() if lock else rows).first() if payment_cycle_id else None
    if cycle is None:
        raise PayrollRefused(_("Payment cycle not found"), 404)
    return cycle


def _visible(queryset, user):
    """Entitlements whose recipient ``user``'s row security lets them see."""
    visible = visible_individual_ids(user)
    return queryset if visible is None else queryset.filter(individual_id__in=visible)


# --------------------------------------------------------------------------------------------------------------
# Payroll out: the payment list
# --------------------------------------------------------------------------------------------------------------
# keys of the recipient's json_ext the list carries (the demo registry's schema: national_id, national_id_type;
# phone when the installation's schema has one); absent keys are empty cells
RECIPIENT_KEYS = ("national_id", "national_id_type", "phone")
# (header, what values_list reads: a path, or ``recipient_<key>`` annotated from the recipient's json_ext)
PAYMENT_LIST_COLUMNS = (
    ("code", "code"),
    ("benefit_plan_code", "benefit_plan__code"),
    ("payment_plan_code", "payment_plan__code"),
    ("group_code", "group__code"),
    ("first_name", "individual__first_name"),
    ("last_name", "individual__last_name"),
    *((key, f"recipient_{key}") for key in RECIPIENT_KEYS),
    ("amount", "amount"),
    ("currency", "currency"),
    ("date_due", "date_due"),
    ("period_start", "period_start"),
    ("period_end", "period_end"),
)
HEADER = [header for header, _path in PAYMENT_LIST_COLUMNS]
AMOUNT_INDEX = HEADER.index("amount")
CHUNK_SIZE = 2000


def parse_statuses(text):
    """``status`` of the download (comma separated entitlement statuses); blank = the payable ones."""
    if not text or not str(text).strip():
        return [PAYABLE]
    statuses = []
    for part in str(text).split(","):
        value = part.strip().upper()
        if value not in EntitlementStatus.values:
            raise PayrollRefused(_("Unknown entitlement status: %(status)s") % {"status": part.strip()})
        if value not in statuses:
            statuses.append(value)
    return statuses


@dataclass
class PaymentList:
    cycle: PaymentCycle
    payment_plan: Optional[PaymentPlan]
    columns: list
    rows: object  # iterator of lists: amount as a 2-place Decimal, dates as dates, the rest text or None

    @property
    def file_stem(self):
        parts = ["payment_list", self.cycle.code] + ([self.payment_plan.code] if self.payment_plan else [])
        return "_".join("".join(c if c.isalnum() or c in "-." else "_" for c in part) for part in parts)


def payment_list(user, *, payment_cycle_id, payment_plan_id=None, statuses=(PAYABLE,)):
    """The payment list of a cycle (optionally of one of its payment plans) as ``user`` may read it. The rows are
    read lazily, in one statement, when the returned iterator is consumed."""
    cycle = live_cycle(payment_cycle_id)
    plan = None
    if payment_plan_id is not None:
        plan = PaymentPlan.objects.filter(pk=payment_plan_id, is_deleted=False).first()
        if plan is None:
            raise PayrollRefused(_("Payment plan not found"), 404)
    entitlements = Entitlement.objects.filter(payment_cycle_id=cycle.id, is_deleted=False, status__in=list(statuses))
    if plan is not None:
        entitlements = entitlements.filter(payment_plan_id=plan.id)
    entitlements = _visible(entitlements, user).annotate(
        **{f"recipient_{key}": KeyTextTransform(key, "individual__json_ext") for key in RECIPIENT_KEYS})
    values = (entitlements.order_by("code").values_list(*(path for _header, path in PAYMENT_LIST_COLUMNS))
              .iterator(chunk_size=CHUNK_SIZE))
    return PaymentList(cycle, plan, list(HEADER), _rows(values, _masked_columns(user)))


def _masked_columns(user):
    """Indexes of the recipient's json_ext columns the registry's masking policy hides from ``user``."""
    policy = masking_policy(MASKING_POLICY)
    if not policy.applies(user):
        return []
    hidden = {path[0] for path in policy.paths() if len(path) == 1}
    return [HEADER.index(key) for key in RECIPIENT_KEYS if key in hidden]


def _rows(values, masked):
    for values_row in values:
        row = list(values_row)
        for index in masked:
            row[index] = masked_value(row[index])
        amount = row[AMOUNT_INDEX]
        if amount is not None:
            row[AMOUNT_INDEX] = Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)
        yield row


# --------------------------------------------------------------------------------------------------------------
# Payroll back: reconciliation
# --------------------------------------------------------------------------------------------------------------
RECONCILIATION_COLUMNS = ("code", "status", "paid_amount", "receipt", "date", "reason")
RECONCILIATION_RULES = HeaderRules(required=("code", "status"), allowed=RECONCILIATION_COLUMNS, unknown="ignore",
                                   case_sensitive=False)
# up to this many distinct codes the cycle's entitlements are looked up by code (one ``IN`` statement); above it
# the cycle's entitlements are read in one streamed statement and matched in Python (one statement either way)
LOOKUP_BY_CODE_MAX = 5000
RECEIPT_MAX = Entitlement._meta.get_field("receipt").max_length
REASON_MAX = Entitlement._meta.get_field("failure_reason").max_length
DEFAULT_FAILURE_REASON = "Payment failed"


@dataclass(slots=True)
class _Line:
    """One row of a reconciliation file, typed; ``reasons`` why it is invalid."""
    number: int
    code: str
    paid: bool
    amount: Optional[Decimal]
    receipt: Optional[str]
    date: Optional[datetime.date]
    reason: Optional[str]
    reasons: list = field(default_factory=list)
    duplicate: bool = False


def _parse_line(row, latest_date, first_row_of):
    values = row.values
    reasons = list(row.errors)
    code = (values.get("code") or "").strip()
    if not code:
        reasons.append(_("code: required"))
    duplicate = bool(code) and code in first_row_of
    if duplicate:
        reasons.append(_("code: duplicate of row %(row)s") % {"row": first_row_of[code]})
    elif code:
        first_row_of[code] = row.number
    status_text = (values.get("status") or "").strip()
    status = status_text.upper()
    if status not in (PAID, FAILED):
        reasons.append(_("status: unknown status '%(status)s' (use PAID or FAILED)") % {"status": status_text})
    paid = status == PAID
    amount = None
    try:
        amount = parse_decimal(values.get("paid_amount"), places=2)
    except CellError as exc:
        reasons.append(f"paid_amount: {exc.reason}")
    else:
        if amount is not None and amount < 0:
            reasons.append(_("paid_amount: must not be negative"))
        elif amount is None and paid:
            reasons.append(_("paid_amount: required for a PAID row"))
    date = None
    try:
        date = parse_date(values.get("date"))
    except CellError as exc:
        reasons.append(f"date: {exc.reason}")
    else:
        if date is None and paid:
            reasons.append(_("date: required for a PAID row"))
        elif date is not None and date > latest_date:
            reasons.append(_("date: %(date)s is in the future") % {"date": date.isoformat()})
    receipt = (values.get("receipt") or "").strip() or None
    if receipt and len(receipt) > RECEIPT_MAX:
        reasons.append(_("receipt: longer than %(max)s characters") % {"max": RECEIPT_MAX})
    reason = (values.get("reason") or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        reasons.append(_("reason: longer than %(max)s characters") % {"max": REASON_MAX})
    return _Line(row.number, code, paid, amount, receipt, date, reason, reasons, duplicate)


def read_reconciliation_file(upload, *, max_rows=None):
    """Every row of the provider's file, typed and checked on its own (the file is streamed: what is kept is one
    small typed record per row). A problem with the file as a whole is :class:`PayrollRefused` with every problem
    listed."""
    if max_rows is None:
        max_rows = int(config_value("payment_cycle.reconciliation_max_rows"))
    # a provider a time zone ahead may already be at tomorrow: one day of tolerance
    latest = timezone.localdate() + datetime.timedelta(days=1)
    first_row_of = {}
    try:
        with open_table(upload, rules=RECONCILIATION_RULES, max_rows=max_rows) as table:
            return [_parse_line(row, latest, first_row_of) for row in table]
    except TabularError as exc:
        messages = [p.message for p in exc.problems]
        raise PayrollRefused(" ".join(messages), problems=messages) from None


def _lookup(user, cycle, codes):
    """``{code: (id, status, amount)}`` of the live entitlements of ``cycle`` among ``codes`` that ``user`` may
    see: one statement."""
    entitlements = _visible(Entitlement.objects.filter(payment_cycle_id=cycle.id, is_deleted=False), user)
    if len(codes) <= LOOKUP_BY_CODE_MAX:
        entitlements = entitlements.filter(code__in=list(codes))
        return {code: (pk, status, amount)
                for code, pk, status, amount in entitlements.values_list("code", "id", "status", "amount")}
    found = {}
    rows = entitlements.order_by().values_list("code", "id", "status", "amount").iterator(chunk_size=CHUNK_SIZE)
    for code, pk, status, amount in rows:
        if code in codes:
            found[code] = (pk, status, amount)
    return found


def _elsewhere(user, codes):
    """(``{code: payment cycle code}`` of the ``codes`` that are entitlements of another cycle ``user`` may see,
    the codes looked up): one statement over at most :data:`LOOKUP_BY_CODE_MAX` codes, only when the file names
    codes the cycle does not have."""
    looked_up = sorted(codes)[:LOOKUP_BY_CODE_MAX]
    if not looked_up:
        return {}, set()
    others = _visible(Entitlement.objects.filter(code__in=looked_up, is_deleted=False), user)
    return dict(others.values_list("code", "payment_cycle__code")), set(looked_up)


def _check_against(lines, found, elsewhere, looked_up):
    for line in lines:
        if not line.code or line.duplicate:
            continue
        entitlement = found.get(line.code)
        if entitlement is None:
            if line.code in elsewhere:
                line.reasons.append(_("code: an entitlement of another payment cycle (%(cycle)s)")
                                    % {"cycle": elsewhere[line.code]})
            elif line.code in looked_up:
                line.reasons.append(_("code: unknown entitlement code"))
            else:
                line.reasons.append(_("code: not an entitlement of this payment cycle"))
            continue
        status, amount = entitlement[1], entitlement[2]
        if status == EntitlementStatus.PAID:
            line.reasons.append(_("already paid"))
        elif status != PAYABLE:
            line.reasons.append(_("not payable (status %(status)s)") % {"status": status})
        if line.paid and line.amount is not None and line.amount != amount:
            line.reasons.append(_("paid_amount: %(paid)s differs from the entitlement amount %(amount)s")
                                % {"paid": line.amount, "amount": Decimal(amount).quantize(CENT)})


def reconcile(user, *, payment_cycle_id, upload):
    """Apply a provider's reconciliation file to the cycle ``payment_cycle_id``; answers ``{"paid", "failed"}``.

    Raises :class:`PayrollRefused` (cycle unknown or not ACTIVE, file unreadable) or :class:`InvalidRows`; in
    both cases nothing changed."""
    _require_active(live_cycle(payment_cycle_id))  # before reading a large file for nothing
    lines = read_reconciliation_file(upload)
    with transaction.atomic():
        # the cycle row locked: two reconciliations of one cycle run one after the other, and its status holds
        cycle = _require_active(live_cycle(payment_cycle_id, lock=True))
        codes = {line.code for line in lines if line.code}
        found = _lookup(user, cycle, codes)
        elsewhere, looked_up = _elsewhere(user, codes - found.keys())
        _check_against(lines, found, elsewhere, looked_up)
        invalid = [{"row": line.number, "code": line.code, "reason": "; ".join(line.reasons)}
                   for line in lines if line.reasons]
        if invalid:
            raise InvalidRows(invalid)
        now = timezone.now()
        paid = [{"id": found[line.code][0], "status": EntitlementStatus.PAID, "paid_amount": line.amount,
                 "receipt": line.receipt, "date_paid": line.date, "failure_reason": None}
                for line in lines if line.paid]
        failed = [{"id": found[line.code][0], "failure_reason": line.reason or DEFAULT_FAILURE_REASON}
                  for line in lines if not line.paid]
        if paid:
            bulk.update_rows(Entitlement, paid, fields=["status", "paid_amount", "receipt", "date_paid",
                                                        "failure_reason"],
                             user=user, now=now, batch_size=len(paid))
        if failed:
            bulk.update_rows(Entitlement, failed, fields=["failure_reason"], user=user, now=now,
                             batch_size=len(failed))
    return {"paid": len(paid), "failed": len(failed)}


def _require_active(cycle):
    if cycle.status != ACTIVE:
        raise PayrollRefused(_("Payment cycle %(code)s is %(status)s: only an ACTIVE cycle can be reconciled")
                             % {"code": cycle.code, "status": cycle.status})
    return cycle
