"""Which messages are due: the six triggers (spec §13.5), the validation chain (§13.6) and the subject of each
message, its household, language, phone and template values (§13.4). Set-based: one query per enabled trigger
and kind of enrolment (``Beneficiary`` of INDIVIDUAL plans, ``GroupBeneficiary`` of GROUP plans), whatever the
number of enrolments; no per-enrolment query.

:func:`detect` answers the :class:`Candidate` messages to send and records the messages that will not be sent
(statuses 2, 3, 4 and 5, below). :func:`render` gives a candidate's text. The dispatcher claims and sends.

Per trigger, the rows whose outcome needs no phone (2, 3, 5) are recorded by one ``INSERT … SELECT`` and never read
into Python (:func:`_record_decided`, the chain as SQL); then the rows left, those that may be sent and the status-4
rows to retry, are read and judged in Python (:func:`judge`), where the phone is parsed.

Status written by ``detect()`` (one ``NotificationIndication`` per enrolment, type and period; an existing row
is only ever rewritten while it is in status 4):

* ``2`` no consent: the household's ``FamilyNotification`` is not approved, or the enrolment has no household;
* ``5`` not permitted: an activation on the enrolment's start day while start messages are enabled (the start
  message is sent instead); or the start of a period whose type is not enabled (an ordinary period while only
  renewals are enabled, a renewed one while only activations are: activations and renewals are found by one
  query, and recording the other type keeps that period from being read again by every run);
* ``3`` too old: an activation (renewal) that happened before the relevance window;
* ``4`` error, retried by later runs while the trigger holds: no phone number, or no phone number
  ``phonenumbers`` can parse (``details`` says which, with the number).

Left to the dispatcher: ``0`` claimed (inserted, or a status-4 row updated, before the gateway call), then
``1`` sent or ``4`` failed. A row in any status but 4 means "already handled": never detected again, so a
claimed row whose run died is not resent. Candidates are enrolments with no row for the (type, period) yet, or
with a status-4 row (``Candidate.indication_id`` is that row).
"""
import datetime
import functools
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (Case, DateField, FilteredRelation, DateTimeField, DecimalField, Exists, ExpressionWrapper, F, IntegerField,
                              OuterRef, Q, Subquery, TextField, Value, When)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate
from django.utils import timezone

from core import bulk
from individual.selectors import groups, head_memberships, live_memberships
from policy_notification.apps import PolicyNotificationConfig
from policy_notification.models import (OPEN_PERIOD, CommunicationMode, FamilyNotification, IndicationStatus,
                                        NotificationIndication, NotificationType)
from policy_notification.templates import render_message
from social_protection.selectors import beneficiaries, group_beneficiaries

ACTIVE = "ACTIVE"
HEAD_ROLE = "HEAD"
FAR_FUTURE = datetime.datetime(9999, 12, 31, tzinfo=datetime.timezone.utc)
# evaluation order (upstream's): the start message before the activation it supersedes
TYPE_ORDER = (NotificationType.ACTIVATION, NotificationType.STARTING, NotificationType.NEED_FOR_RENEWAL,
              NotificationType.EXPIRATION, NotificationType.REMINDER_AFTER_EXPIRATION, NotificationType.RENEWAL)

# activations and renewals: one query for the start of a period, each row classified (renewed period or not)
PERIOD_START = "period_start"
PERIOD_START_TYPES = (NotificationType.ACTIVATION, NotificationType.RENEWAL)

NO_HOUSEHOLD = "not sent: the enrolment has no household"
NO_CONSENT = "not sent: the household has not consented to notifications"
SUPERSEDED = "not sent: activated on its start day; only the start message is sent"
TOO_OLD_ACTIVATION = "not sent: activated before the activation relevance window"
TOO_OLD_RENEWAL = "not sent: renewed before the renewal relevance window"
NOT_ENABLED = "not sent: %s messages are not enabled"
NO_PHONE = "no phone number"
UNPARSABLE_PHONE = "unparsable phone number"


@dataclass(frozen=True)
class Candidate:
    """One message to send: the enrolment, its household, where and how to say it."""

    enrolment_type: int  # ContentType id of Beneficiary / GroupBeneficiary
    enrolment_id: uuid.UUID
    group_id: uuid.UUID | None
    notification_type: str
    period_key: datetime.date
    phone: str | None  # E.164
    language: str
    values: dict = field(default_factory=dict, hash=False, compare=False)
    indication_id: uuid.UUID | None = None  # the status-4 row being retried; None: no row yet


# --- configuration and dates ------------------------------------------------------------------------------------
def enabled_types():
    eligible = PolicyNotificationConfig.eligibleNotificationTypes or {}
    return [t for t in TYPE_ORDER if eligible.get(t.value)]


def local_today():
    return timezone.localdate()


def day_start(day):
    """The first instant of ``day`` in the current time zone (date logic in ``settings.TIME_ZONE``)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), timezone.get_current_timezone())


def on_day(field_name, day):
    """``field_name`` (a datetime) falls on the local ``day``: an index-friendly range."""
    return Q(**{f"{field_name}__gte": day_start(day), f"{field_name}__lt": day_start(day + datetime.timedelta(days=1))})


def local_date(value, tz=None):
    return None if value is None else value.astimezone(tz or timezone.get_current_timezone()).date()


# --- phones -------------------------------------------------------------------------------------------------
def normalise_phone(raw, region=None):
    """``raw`` as E.164 (``+255712345678``), or None when ``phonenumbers`` cannot read a valid number from it.
    A number without a country code is read in ``region`` (config ``default_phone_region``)."""
    return _normalised(None if raw is None else str(raw).strip(),
                       region or PolicyNotificationConfig.default_phone_region or None)


@functools.lru_cache(maxsize=65536)  # a household's phone serves each of its enrolments and messages
def _normalised(text, region):
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def resolve_phone(raw_phones, region=None):
    """``(E.164 phone, None)`` for the first parsable number of ``raw_phones`` (in the order of §13.4), else
    ``(None, reason)``: ``no phone number``, or ``unparsable phone number: <the numbers>``."""
    present = [str(p).strip() for p in raw_phones if p is not None and str(p).strip()]
    for raw in present:
        phone = normalise_phone(raw, region)
        if phone:
            return phone, None
    if not present:
        return None, NO_PHONE
    return None, f"{UNPARSABLE_PHONE}: {', '.join(dict.fromkeys(present))}"


def _phone_of(path):
    """The phone in the JSON at ``path`` as plain text (a number stored as a JSON number included); cast so that
    comparisons are text comparisons, not JSON ones."""
    return Cast(KeyTextTransform(PolicyNotificationConfig.phone_key, path), output_field=TextField())


def _non_empty(name):
    return Q(**{f"{name}__isnull": False}) & ~Q(**{name: ""})


# --- households -------------------------------------------------------------------------------------------------
def household_has_phone():
    """Exists-expression (over a group queryset) for a household with a phone per §13.4: a live member's or the
    group's own."""
    member = (live_memberships().filter(group_id=OuterRef("pk"), individual__is_deleted=False)
              .annotate(pn_phone=_phone_of("individual__json_ext")).filter(_non_empty("pn_phone")))
    return Exists(member)


def household_consents():
    return Exists(FamilyNotification.objects.filter(group_id=OuterRef("pk"), is_deleted=False,
                                                    approval_of_notification=True))


def filter_groups_by_mode(queryset, mode):
    """Groups of communication ``mode`` (§1.1: 0 all, 1 consent and phone, 2 consent without phone, 3 phone
    without consent, 4 neither). Consent: the household row approved; phone: a member's or the group's."""
    try:
        mode = CommunicationMode(int(mode))
    except (TypeError, ValueError):
        raise ValidationError(f"policyNotification mode must be one of 0, 1, 2, 3, 4 (got {mode!r})")
    if mode == CommunicationMode.ALL:
        return queryset
    queryset = queryset.annotate(pn_consent=household_consents(), pn_member_phone=household_has_phone(),
                                 pn_group_phone=_phone_of("json_ext"))
    phone = Q(pn_member_phone=True) | _non_empty("pn_group_phone")
    consent = Q(pn_consent=True)
    return queryset.filter({
        CommunicationMode.CONSENT_AND_PHONE: consent & phone,
        CommunicationMode.CONSENT_NO_PHONE: consent & ~phone,
        CommunicationMode.PHONE_NO_CONSENT: ~consent & phone,
        CommunicationMode.NEITHER: ~consent & ~phone,
    }[mode])


def policy_notification_group_filter(queryset, value):
    """The ``group`` query's ``additionalFilter`` entry ``policyNotification``: ``{"mode": {"value": n}}``
    (upstream's shape) or ``{"mode": n}``."""
    mode = value.get("mode") if isinstance(value, dict) else None
    if isinstance(mode, dict):
        mode = mode.get("value")
    if mode is None:
        raise ValidationError("policyNotification needs a mode (0-4)")
    return filter_groups_by_mode(queryset, mode)


def _latest_version():
    """Order of a record's history rows, latest first, as an expression: ordered by the bare ``history_id`` with
    ``LIMIT 1``, PostgreSQL walks the whole history table backwards on its primary key looking for the record
    (quadratic); by an expression it reads the record's few rows by its id index, then sorts them."""
    return ExpressionWrapper(F("history_id") + 0, output_field=IntegerField()).desc()


# --- enrolments: the two kinds ------------------------------------------------------------------------------------
class _Kind:
    """What differs between individual enrolments (``Beneficiary``) and household enrolments."""

    def __init__(self, queryset, subject, individual):
        self.model = queryset.model
        self.subject = subject  # "individual" / "group"
        self.individual = individual

    @property
    def content_type(self):
        return ContentType.objects.get_for_model(self.model)

    def household(self):
        if not self.individual:
            return F("group_id")
        return Subquery(live_memberships().filter(individual_id=OuterRef("individual_id"), group__is_deleted=False)
                        .order_by("date_created", "id").values("group_id")[:1])

    def household_values(self):
        """Annotations that read the household (``pn_household``) of the row."""
        hh = OuterRef("pn_household")
        group = groups().filter(id=hh)
        values = {
            "pn_group_code": Subquery(group.values("code")[:1]),
            "pn_group_phone": Subquery(group.annotate(p=_phone_of("json_ext")).values("p")[:1]),
        }
        notification = FamilyNotification.objects.filter(group_id=hh, is_deleted=False)
        head = head_memberships().filter(group_id=hh)
        own = {}
        if not self.individual:  # the household is the row's own group: joins (hash joins at any size)
            live = Q(group__family_notification__is_deleted=False)
            live_head = Q(pn_head__individual__is_deleted=False)
            own = {"pn_group_code": F("group__code"), "pn_group_phone": _phone_of("group__json_ext"),
                   "pn_consent": Case(When(live, then=F("group__family_notification__approval_of_notification"))),
                   "pn_language": Case(When(live, then=F("group__family_notification__language_of_notification"))),
                   "pn_head_phone": Case(When(live_head, then=_phone_of("pn_head__individual__json_ext"))),
                   "pn_head_name": Case(When(live_head, then=Concat(
                       "pn_head__individual__first_name", Value(" "), "pn_head__individual__last_name")))}
        # the first *other* member with a phone: neither the head nor the beneficiary (tried before)
        member = (live_memberships().filter(group_id=hh, individual__is_deleted=False)
                  .exclude(role=HEAD_ROLE).annotate(p=_phone_of("individual__json_ext")).filter(_non_empty("p"))
                  .order_by("date_created", "id"))
        if self.individual:
            member = member.exclude(individual_id=OuterRef("individual_id"))
        values.update({
            "pn_consent": Subquery(notification.values("approval_of_notification")[:1]),
            "pn_language": Subquery(notification.values("language_of_notification")[:1]),
            "pn_head_phone": Subquery(head.annotate(p=_phone_of("individual__json_ext")).values("p")[:1]),
            "pn_head_name": Subquery(head.annotate(n=Concat("individual__first_name", Value(" "),
                                                            "individual__last_name")).values("n")[:1]),
            "pn_member_phone": Subquery(member.values("p")[:1]),
        })
        values.update(own)
        if self.individual:
            values["pn_own_phone"] = _phone_of("individual__json_ext")
            values["pn_own_name"] = Concat("individual__first_name", Value(" "), "individual__last_name")
        return values

    def amount(self):
        """The enrolment's latest ACCEPTED entitlement amount (payment_cycle, when installed)."""
        if not apps.is_installed("payment_cycle"):
            return Value(None, output_field=DecimalField(max_digits=18, decimal_places=2))
        from payment_cycle.selectors import latest_accepted_amount

        return latest_accepted_amount(group=not self.individual)

    # history: when the enrolment became ACTIVE, when its current end was set by an extension
    def _history(self):
        return self.model.history.model.objects

    def _previous(self):
        """The history row before the (outer) history row. History rows are appended as versions are written, so
        the order of ``history_id`` is the order of versions (a bulk write gives thousands of rows one
        ``history_date``: comparing dates would make each lookup scan them all)."""
        return self._history().filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id")).order_by(
            _latest_version())

    def activated_at(self):
        """The latest change into ACTIVE (creation as ACTIVE, or a version whose previous one had another status);
        the row's creation date when it has no history."""
        into_active = (self._history().filter(id=OuterRef("pk"), status=ACTIVE)
                       .annotate(pn_prev_status=Subquery(self._previous().values("status")[:1]))
                       .filter(Q(pn_prev_status__isnull=True) | ~Q(pn_prev_status=ACTIVE))
                       .order_by(_latest_version()).values("history_date")[:1])
        return Coalesce(Subquery(into_active), F("date_created"))

    def extended_at(self):
        """When the current end was set by moving the end later while the previous version was ACTIVE with an end
        (a renewal by extension); null otherwise. Needs the row's ``pn_end_key`` annotation."""
        previous = self._previous()
        extension = (self._history().filter(id=OuterRef("pk"))
                     .annotate(pn_prev_end=Subquery(previous.values("date_valid_to")[:1]),
                               pn_prev_status=Subquery(previous.values("status")[:1]),
                               pn_end_key=Coalesce("date_valid_to", Value(FAR_FUTURE, output_field=DateTimeField())))
                     .filter(pn_prev_status=ACTIVE, pn_prev_end__isnull=False, pn_end_key=OuterRef("pn_end_key"))
                     .filter(Q(date_valid_to__isnull=True) | Q(date_valid_to__gt=F("pn_prev_end")))
                     .order_by(_latest_version()).values("history_date")[:1])
        # a first version (``version`` counts a record's versions on every write path) was never extended: the
        # subquery is skipped for most rows, and it is evaluated several times per row by the recording statement
        return Case(When(version__lte=1, then=Value(None, output_field=DateTimeField())),
                    default=Subquery(extension), output_field=DateTimeField())

    def follows_earlier(self):
        """An earlier enrolment of the same subject in the same plan ended the day before this one starts or
        earlier (a renewal by a new enrolment). Needs ``pn_from_day``."""
        tz = timezone.get_current_timezone()
        earlier = (self.model.objects.filter(**{f"{self.subject}_id": OuterRef(f"{self.subject}_id")},
                                             benefit_plan_id=OuterRef("benefit_plan_id"), is_deleted=False,
                                             date_valid_to__isnull=False)
                   .exclude(pk=OuterRef("pk"))
                   .annotate(pn_to_day=TruncDate("date_valid_to", tzinfo=tz))
                   .filter(pn_to_day__lt=OuterRef("pn_from_day")))
        return Exists(earlier)

    def not_renewed_after(self, end_day):
        """No other live enrolment of the subject in the plan starts on or after ``end_day`` + 1."""
        later = (self.model.objects.filter(**{f"{self.subject}_id": OuterRef(f"{self.subject}_id")},
                                           benefit_plan_id=OuterRef("benefit_plan_id"), is_deleted=False,
                                           date_valid_from__gte=day_start(end_day + datetime.timedelta(days=1)))
                 .exclude(pk=OuterRef("pk")))
        return ~Exists(later)


KINDS = (_Kind(beneficiaries(), "individual", True), _Kind(group_beneficiaries(), "group", False))


# --- the triggers ---------------------------------------------------------------------------------------------------
def _period_expression():
    tz = timezone.get_current_timezone()
    return Coalesce(TruncDate("date_valid_to", tzinfo=tz), Value(OPEN_PERIOD, output_field=DateField()))


def _indications(kind, types, period):
    return NotificationIndication.objects.filter(
        enrolment_type_id=kind.content_type.id, enrolment_id=OuterRef("pk"), notification_type__in=types,
        period_key=period)


def retries(kind, trigger, today):
    """``{(enrolment id, period): (row id, details)}`` of the status-4 rows a trigger may retry (one query)."""
    types = PERIOD_START_TYPES if trigger == PERIOD_START else (trigger,)
    rows = NotificationIndication.objects.filter(enrolment_type_id=kind.content_type.id, notification_type__in=types,
                                                 status=IndicationStatus.ERROR)
    fixed_end = _fixed_end(trigger, today)
    if fixed_end is not None:
        rows = rows.filter(period_key=fixed_end)
    return {(_as_uuid(enrolment_id), _as_date(period)): (_as_uuid(row_id), details) for enrolment_id, period, row_id,
            details in rows.order_by("date_updated").values_list("enrolment_id", "period_key", "id", "details")}


def _fixed_end(trigger, today):
    """The end date the expiry reminders look for (None for the other triggers)."""
    cfg = PolicyNotificationConfig
    return {
        NotificationType.NEED_FOR_RENEWAL: today + datetime.timedelta(days=int(cfg.reminder_before_expiry_days)),
        NotificationType.EXPIRATION: today,
        NotificationType.REMINDER_AFTER_EXPIRATION: today - datetime.timedelta(days=int(cfg.reminder_after_expiry_days)),
    }.get(trigger)


def trigger_queryset(kind, trigger, today, household_values=True):
    """The detected enrolments of one kind for one trigger, not yet handled, with what the chain and the message
    need (``pn_*`` annotations). ``trigger``: a date trigger, or :data:`PERIOD_START`: the start of a period,
    one query for activations and renewals whose rows say which one it is (``pn_extended_at``, ``pn_follows``).

    The filters are plain columns and one anti-join on the indications (good estimates: a hash anti-join at any
    size); the correlated subqueries are in the SELECT list, evaluated only for the rows found."""
    tz = timezone.get_current_timezone()
    types = PERIOD_START_TYPES if trigger == PERIOD_START else (trigger,)
    queryset = kind.model.objects.filter(is_deleted=False, status=ACTIVE, benefit_plan__is_deleted=False)
    fixed_end = _fixed_end(trigger, today)
    if fixed_end is not None:
        queryset = queryset.filter(on_day("date_valid_to", fixed_end)).filter(kind.not_renewed_after(fixed_end))
        period = Value(fixed_end, output_field=DateField())
    else:
        period = _period_expression()
    queryset = queryset.annotate(pn_period=period)
    period_ref = OuterRef("pn_period") if fixed_end is None else fixed_end
    handled = _indications(kind, types, period_ref).exclude(status=IndicationStatus.ERROR)
    queryset = queryset.filter(~Exists(handled))
    if trigger == NotificationType.STARTING:
        queryset = queryset.filter(on_day("date_valid_from", today))
    # the local days of the period, as the messages and the chain use them (no timestamps to convert in Python)
    queryset = queryset.annotate(pn_from_day=TruncDate("date_valid_from", tzinfo=tz),
                                 pn_to_day=TruncDate("date_valid_to", tzinfo=tz))
    if trigger == PERIOD_START:
        queryset = queryset.annotate(
            pn_end_key=Coalesce("date_valid_to", Value(FAR_FUTURE, output_field=DateTimeField())))
        queryset = queryset.annotate(pn_extended_at=kind.extended_at(), pn_follows=kind.follows_earlier(),
                                     pn_activated_at=kind.activated_at())
    if not household_values:  # what the chain needs before the phone (see _record_decided)
        queryset = queryset.annotate(pn_household=kind.household())
        return queryset.annotate(pn_consent=kind.household_values()["pn_consent"])
    queryset = queryset.annotate(
        pn_household=kind.household(),
        pn_amount=kind.amount(),
        pn_plan_code=F("benefit_plan__code"), pn_plan_name=F("benefit_plan__name"),
    )
    if not kind.individual:  # the head's live membership (one per household: the alignment rules) as a join
        queryset = queryset.annotate(pn_head=FilteredRelation("group__groupindividual", condition=Q(
            group__groupindividual__role=HEAD_ROLE, group__groupindividual__is_deleted=False)))
    return queryset.annotate(**kind.household_values()).order_by("pk")


ROW_FIELDS = ("pk", "pn_from_day", "pn_to_day", "pn_period", "pn_household", "pn_amount", "pn_plan_code", "pn_plan_name", "pn_group_code", "pn_group_phone",
              "pn_consent", "pn_language", "pn_head_phone", "pn_head_name", "pn_member_phone")


def _fields(kind, notification_type):
    names = list(ROW_FIELDS)
    if kind.individual:
        names += ["pn_own_phone", "pn_own_name"]
    if notification_type == PERIOD_START:
        names += ["pn_activated_at", "pn_extended_at", "pn_follows"]
    return names


# --- the validation chain --------------------------------------------------------------------------------------------
def _as_uuid(value):
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def _as_date(value):
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _as_datetime(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    parsed = datetime.datetime.fromisoformat(str(value))
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, datetime.timezone.utc)


def _money(value):
    if value in (None, ""):
        return ""
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def judge(row, notification_type, today, enabled):
    """``(status, details)`` of a detected row that will not be sent, or ``(None, (phone, language))``."""
    cfg = PolicyNotificationConfig
    if row["pn_household"] is None:
        return IndicationStatus.NO_CONSENT, NO_HOUSEHOLD
    if not row["pn_consent"]:
        return IndicationStatus.NO_CONSENT, NO_CONSENT
    if notification_type == NotificationType.ACTIVATION:
        if NotificationType.STARTING in enabled and _as_date(row["pn_from_day"]) == today:
            return IndicationStatus.NOT_PERMITTED, SUPERSEDED
        window = day_start(today - datetime.timedelta(days=int(cfg.policy_activation_relevance_maximum_days_timedelta)))
        if _as_datetime(row["pn_activated_at"]) < window:
            return IndicationStatus.TOO_OLD, TOO_OLD_ACTIVATION
    if notification_type == NotificationType.RENEWAL:
        window = day_start(today - datetime.timedelta(days=int(cfg.policy_renewal_relevance_maximum_days_timedelta)))
        renewed_at = _as_datetime(row["pn_extended_at"] or row["pn_activated_at"])
        if renewed_at < window:
            return IndicationStatus.TOO_OLD, TOO_OLD_RENEWAL
    phones = [row.get("pn_own_phone"), row["pn_head_phone"], row["pn_group_phone"], row["pn_member_phone"]]
    phone, reason = resolve_phone(phones)
    if phone is None:
        return IndicationStatus.ERROR, reason
    return None, (phone, row["pn_language"])


def template_values(row):
    return {
        "InsuranceID": row["pn_group_code"] or "",
        "Name": row.get("pn_own_name") or row["pn_head_name"] or "",
        "EffectiveDate": _day_text(row["pn_from_day"]),
        "ExpiryDate": _day_text(row["pn_to_day"]),
        "ProductCode": row["pn_plan_code"] or "",
        "ProductName": row["pn_plan_name"] or "",
        "AmountToBePaid": _money(row["pn_amount"]),
    }


def _day_text(value):
    return _as_date(value).isoformat() if value is not None else ""


# --- detect --------------------------------------------------------------------------------------------------------
def detect(today=None, user=None):
    """The messages due ``today`` (local date; default now) for every enabled trigger, validated; the messages
    that will not be sent recorded (statuses 2, 3, 4, 5; see the module docstring). ``user``: who the rows are
    written as (default :func:`policy_notification.services.notification_user`)."""
    from policy_notification.services import ensure_family_notifications, notification_user

    today = today or local_today()
    enabled = enabled_types()
    if not enabled:
        return []
    user = user or notification_user()
    with transaction.atomic():  # the records of a run are written all or nothing
        _planner_settings()
        ensure_family_notifications(user=user)
        now = timezone.now()
        candidates, new_rows, rewrites, recorded = _evaluate(enabled, today, user=user, now=now)
        if new_rows:
            bulk.insert_rows(NotificationIndication, new_rows, user=user, now=now, ignore_conflicts=True)
        if rewrites:
            bulk.update_rows(NotificationIndication, rewrites, fields=["status", "details"], user=user, now=now)
    if len(new_rows) + recorded >= 10_000:  # the next queries are planned for the table as it is now
        bulk.analyze(NotificationIndication)
    return candidates


def _planner_settings():
    """PostgreSQL: no JIT for these queries. Their correlated subqueries make the planner's cost estimate huge,
    and compiling them costs seconds per query while the queries themselves run in milliseconds."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def _queries(enabled):
    """The queries a run makes: the start of a period (activation and/or renewal), then each date trigger."""
    queries = [PERIOD_START] if any(t in enabled for t in PERIOD_START_TYPES) else []
    return queries + [t for t in enabled if t not in PERIOD_START_TYPES]


def _row_type(trigger, row):
    if trigger != PERIOD_START:
        return trigger
    renewed = row["pn_extended_at"] is not None or bool(row["pn_follows"])
    return NotificationType.RENEWAL if renewed else NotificationType.ACTIVATION


def _decided_outcome(notification_type, today, enabled):
    """``(pn_status, pn_details)`` as SQL for the detected rows of one type: the validation chain that needs no
    phone (:func:`judge`: the same order and texts), a null status when the row may be sent (the phone decides)."""
    cfg = PolicyNotificationConfig
    if notification_type not in enabled:
        outcomes = [(Q(pk__isnull=False), IndicationStatus.NOT_PERMITTED, NOT_ENABLED % notification_type.value)]
    else:
        outcomes = [(Q(pn_household__isnull=True), IndicationStatus.NO_CONSENT, NO_HOUSEHOLD),
                    (Q(pn_consent__isnull=True) | Q(pn_consent=False), IndicationStatus.NO_CONSENT, NO_CONSENT)]
    if notification_type == NotificationType.ACTIVATION:
        if NotificationType.STARTING in enabled:
            outcomes.append((on_day("date_valid_from", today), IndicationStatus.NOT_PERMITTED, SUPERSEDED))
        days = int(cfg.policy_activation_relevance_maximum_days_timedelta)
        outcomes.append((Q(pn_activated_at__lt=day_start(today - datetime.timedelta(days=days))),
                         IndicationStatus.TOO_OLD, TOO_OLD_ACTIVATION))
    if notification_type == NotificationType.RENEWAL:
        days = int(cfg.policy_renewal_relevance_maximum_days_timedelta)
        outcomes.append((Q(pn_renewed_at__lt=day_start(today - datetime.timedelta(days=days))),
                         IndicationStatus.TOO_OLD, TOO_OLD_RENEWAL))
    return (Case(*[When(condition, then=Value(int(status))) for condition, status, _ in outcomes],
                 default=Value(None), output_field=IntegerField()),
            Case(*[When(condition, then=Value(details)) for condition, _, details in outcomes],
                 default=Value(""), output_field=TextField()))


def _record_decided(kind, trigger, today, enabled, user, now):
    """Record, in one ``INSERT … SELECT``, the detected rows whose outcome needs no phone and that have no row
    yet; they are never read into Python (at the start of a period, most are activations superseded by the start
    message, or too old). One statement, not one per type: the rows a first statement wrote would be unknown to
    the planner's statistics when it plans the second."""
    queryset = trigger_queryset(kind, trigger, today, household_values=False)
    types = PERIOD_START_TYPES if trigger == PERIOD_START else (trigger,)
    queryset = queryset.filter(~Exists(_indications(kind, types, OuterRef("pn_period"))))
    if trigger == PERIOD_START:
        queryset = queryset.annotate(pn_renewed_at=Coalesce("pn_extended_at", "pn_activated_at"))
        renewed = Q(pn_extended_at__isnull=False) | Q(pn_follows=True)
        (a_status, a_details), (r_status, r_details) = (_decided_outcome(t, today, enabled) for t in PERIOD_START_TYPES)
        row_type = Case(When(renewed, then=Value(NotificationType.RENEWAL.value)),
                        default=Value(NotificationType.ACTIVATION.value), output_field=TextField())
        status = Case(When(renewed, then=r_status), default=a_status, output_field=IntegerField())
        details = Case(When(renewed, then=r_details), default=a_details, output_field=TextField())
    else:
        row_type = Value(trigger.value, output_field=TextField())
        status, details = _decided_outcome(trigger, today, enabled)
    queryset = queryset.annotate(pn_status=status).filter(pn_status__isnull=False)
    return bulk.insert_from_select(NotificationIndication, queryset, {
        "enrolment_type_id": Value(kind.content_type.id), "enrolment_id": F("pk"), "group_id": F("pn_household"),
        "notification_type": row_type, "period_key": F("pn_period"), "status": F("pn_status"),
        "details": details}, user=user, now=now, ignore_conflicts=True)


def _evaluate(enabled, today, user, now):
    """``(candidates, new indication rows, rewrites of status-4 rows, number of rows recorded in SQL)`` of the
    enabled triggers. The rows decided without a phone are first recorded in SQL (:func:`_record_decided`); what
    is left to read is the rows that may be sent (the phone decides) and the status-4 rows to retry.

    Judging those rows (parsing phones: pure Python) runs in a second thread while this one waits for the
    database's next statements; the start of a period, whose recording statement is the longest, goes last so
    that the other triggers' phones are parsed meanwhile. The triggers are independent: the order changes no
    outcome, and the results keep the order of :func:`_queries`."""
    queries = _queries(enabled)
    judged, recorded = {}, 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pn-judge") as judging:
        for trigger in sorted(queries, key=lambda t: t == PERIOD_START):
            for kind in KINDS:
                recorded += _record_decided(kind, trigger, today, enabled, user, now)
                retry_rows = retries(kind, trigger, today)
                rows = list(trigger_queryset(kind, trigger, today).values(*_fields(kind, trigger)))
                judged[trigger, kind.subject] = judging.submit(
                    _judge_rows, rows, kind.content_type.id, trigger, retry_rows, enabled, today,
                    timezone.get_current_timezone())
    candidates, new_rows, rewrites = [], [], []
    for trigger in queries:
        for kind in KINDS:
            found = judged[trigger, kind.subject].result()
            candidates += found[0]
            new_rows += found[1]
            rewrites += found[2]
    return candidates, new_rows, rewrites, recorded


def _judge_rows(rows, content_type, trigger, retry_rows, enabled, today, tz):
    """``(candidates, new rows, rewrites)`` of one trigger's rows of one kind of enrolment (no database access),
    in the caller's time zone."""
    with timezone.override(tz):
        return _judge_rows_here(rows, content_type, trigger, retry_rows, enabled, today)


def _judge_rows_here(rows, content_type, trigger, retry_rows, enabled, today):
    candidates, new_rows, rewrites = [], [], []
    for row in rows:
        notification_type = _row_type(trigger, row)
        if notification_type in enabled:
            status, outcome = judge(row, notification_type, today, enabled)
        else:  # e.g. a renewed period while only activations are enabled: recorded, not asked again
            status, outcome = IndicationStatus.NOT_PERMITTED, NOT_ENABLED % notification_type.value
        enrolment_id, household = _as_uuid(row["pk"]), _as_uuid(row["pn_household"])
        period = _as_date(row["pn_period"])
        retry_id, retry_details = retry_rows.get((enrolment_id, period), (None, None))
        if status is None:
            phone, language = outcome
            candidates.append(Candidate(content_type, enrolment_id, household, notification_type.value,
                                        period, phone, language or "", template_values(row), retry_id))
        elif retry_id is None:
            new_rows.append({"enrolment_type_id": content_type, "enrolment_id": enrolment_id,
                             "group_id": household, "notification_type": notification_type.value,
                             "period_key": period, "status": int(status), "details": outcome})
        elif status != IndicationStatus.ERROR or retry_details != outcome:
            rewrites.append({"id": retry_id, "status": int(status), "details": outcome})
    return candidates, new_rows, rewrites


def render(candidate):
    """The candidate's message text, in its household's language (falling back to the default language)."""
    return render_message(candidate.notification_type, candidate.language, candidate.values)


__all__ = ["Candidate", "detect", "render", "normalise_phone", "resolve_phone", "filter_groups_by_mode",
           "policy_notification_group_filter", "trigger_queryset", "judge"]
