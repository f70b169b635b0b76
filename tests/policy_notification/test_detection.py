"""Detection (spec §13.5), the validation chain (§13.6), subjects and phones (§13.4), templates (§13.7): upstream's
detector and dispatcher behaviours (§11) translated to enrolments, and the cases households bring."""
import datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Language
from policy_notification.detection import (NO_CONSENT, NO_HOUSEHOLD, NO_PHONE, SUPERSEDED, TOO_OLD_ACTIVATION,
                                           Candidate, detect, normalise_phone, render, resolve_phone)
from policy_notification.models import OPEN_PERIOD, IndicationStatus, NotificationIndication
from policy_notification.services import update_family_notification_policy
from policy_notification.templates import render_message, template_language
from social_protection.models import Beneficiary, GroupBeneficiary
from tests.individual.factories import IndividualFactory
from tests.payment_cycle.factories import EntitlementFactory
from tests.policy_notification.conftest import HEAD_E164, at

pytestmark = pytest.mark.django_db

ACTIVATION, STARTING, BEFORE = "activation_of_policy", "starting_of_policy", "need_for_renewal"
EXPIRY, AFTER, RENEWAL = "expiration_of_policy", "reminder_after_expiration", "renewal_of_policy"
DAY = datetime.timedelta(days=1)


def types_of(candidates):
    return sorted((c.notification_type, c.enrolment_id) for c in candidates)


def rows(**filters):
    return list(NotificationIndication.objects.filter(**filters).order_by("notification_type"))


def mark_sent(admin_user, candidates):
    """What the dispatcher does after a gateway accepted the message (status 1)."""
    for c in candidates:
        NotificationIndication(enrolment_type_id=c.enrolment_type, enrolment_id=c.enrolment_id, group_id=c.group_id,
                               notification_type=c.notification_type, period_key=c.period_key,
                               status=IndicationStatus.SENT, provider="TextNotificationProvider", attempts=1
                               ).save(user=admin_user)


# --- activation ------------------------------------------------------------------------------------------------
def test_new_active_enrolment_of_a_consenting_household_is_an_activation_message(
        enable, household, enrol_group, admin_user, today):
    enable(ACTIVATION)
    group = household()
    enrolment = enrol_group(group, start=today + 2 * DAY, end=today + 200 * DAY)
    [candidate] = detect(user=admin_user)
    assert candidate == Candidate(
        enrolment_type=ContentType.objects.get_for_model(GroupBeneficiary).id, enrolment_id=enrolment.id,
        group_id=group.id, notification_type=ACTIVATION, period_key=today + 200 * DAY, phone=HEAD_E164,
        language="en")
    assert candidate.values == {
        "InsuranceID": group.code, "Name": "Asha Juma", "EffectiveDate": (today + 2 * DAY).isoformat(),
        "ExpiryDate": (today + 200 * DAY).isoformat(), "ProductCode": "CASH", "ProductName": "Cash transfer",
        "AmountToBePaid": ""}
    assert render(candidate) == (
        f"Dear Asha Juma (household {group.code}), your enrolment in CASH Cash transfer is active from "
        f"{(today + 2 * DAY).isoformat()} to {(today + 200 * DAY).isoformat()}.")
    assert not NotificationIndication.objects.exists()  # claiming and sending is the dispatcher's


@pytest.mark.parametrize("status", ["POTENTIAL", "SUSPENDED", "GRADUATED"])
def test_enrolments_that_are_not_active_get_nothing(enable, household, enrol_group, admin_user, today, status):
    enable()
    enrol_group(household(), start=today, end=today)  # would hit start, expiry and activation
    enrol_group(household(), start=today - 100 * DAY, end=today - 5 * DAY, status=status)
    GroupBeneficiary.objects.filter(status="ACTIVE").update(status=status)
    assert detect(user=admin_user) == []
    assert not NotificationIndication.objects.exists()


def test_activation_seen_after_its_relevance_window_is_recorded_too_old_once(
        enable, household, enrol_group, admin_user, today):
    enable(ACTIVATION)
    enrolment = enrol_group(household(), start=today - 30 * DAY)
    later = today + 6 * DAY  # activated today; window 5 days
    assert detect(today=later, user=admin_user) == []
    [row] = rows()
    assert (row.enrolment_id, row.status, row.details, row.notification_type) == (
        enrolment.id, IndicationStatus.TOO_OLD, TOO_OLD_ACTIVATION, ACTIVATION)
    assert detect(today=later, user=admin_user) == []
    assert row.history.count() == 1  # not rewritten by the second run
    assert detect(today=today + 5 * DAY, user=admin_user) == []  # already handled


def test_activation_counts_from_the_change_into_active(enable, household, enrol_group, admin_user, today):
    """Enrolled POTENTIAL long ago (backdated history), activated today: the activation is recent."""
    enable(ACTIVATION)
    enrolment = enrol_group(household(), status="POTENTIAL")
    GroupBeneficiary.history.filter(id=enrolment.id).update(history_date=at(today - 60 * DAY))
    GroupBeneficiary.objects.filter(id=enrolment.id).update(date_created=at(today - 60 * DAY))
    assert detect(today=today, user=admin_user) == []  # still POTENTIAL
    enrolment.status = "ACTIVE"
    enrolment.save(user=admin_user)
    assert [c.enrolment_id for c in detect(today=today + 5 * DAY, user=admin_user)] == [enrolment.id]


def test_no_consent_is_recorded_and_a_later_consent_does_not_resend(enable, household, enrol_group, admin_user):
    enable(ACTIVATION)
    group = household(consent=False)
    enrolment = enrol_group(group)
    assert detect(user=admin_user) == []
    [row] = rows()
    assert (row.enrolment_id, row.group_id, row.status, row.details) == (enrolment.id, group.id,
                                                                         IndicationStatus.NO_CONSENT, NO_CONSENT)
    update_family_notification_policy(group.id, {"approvalOfNotification": True}, user=admin_user)
    assert detect(user=admin_user) == []


def test_a_status_4_row_is_retried_and_named_on_the_candidate(enable, household, enrol_group, admin_user):
    enable(ACTIVATION)
    group = household(consent=False)
    enrol_group(group)
    detect(user=admin_user)
    [row] = rows()
    NotificationIndication.objects.filter(id=row.id).update(status=IndicationStatus.ERROR, details="gateway 503")
    update_family_notification_policy(group.id, {"approvalOfNotification": True}, user=admin_user)
    [candidate] = detect(user=admin_user)
    assert candidate.indication_id == row.id and candidate.phone == HEAD_E164
    row.refresh_from_db()
    assert (row.status, row.details) == (IndicationStatus.ERROR, "gateway 503")  # the dispatcher's to claim


@pytest.mark.parametrize("handled", [IndicationStatus.CLAIMED, IndicationStatus.SENT, IndicationStatus.NOT_PERMITTED])
def test_an_enrolment_already_handled_is_not_detected_again(enable, household, enrol_group, admin_user, handled):
    """A claimed row (a run that died after the gateway call) counts as handled: never a duplicate SMS."""
    enable(ACTIVATION)
    enrol_group(household())
    [candidate] = detect(user=admin_user)
    mark_sent(admin_user, [candidate])
    NotificationIndication.objects.update(status=handled)
    assert detect(user=admin_user) == []
    assert NotificationIndication.objects.count() == 1


def test_two_runs_on_one_day_send_once(enable, household, enrol_group, admin_user, today):
    enable()
    enrol_group(household(), start=today, end=today + 14 * DAY)  # start and before-expiry messages
    first = detect(user=admin_user)
    assert sorted(c.notification_type for c in first) == [BEFORE, STARTING]
    assert rows()[0].status == IndicationStatus.NOT_PERMITTED  # activation on the start day: superseded
    mark_sent(admin_user, first)
    assert detect(user=admin_user) == []


def test_start_supersedes_activation_only_when_start_messages_are_enabled(
        enable, household, enrol_group, admin_user, today):
    enable(ACTIVATION, STARTING)
    enrolment = enrol_group(household(), start=today)
    assert [c.notification_type for c in detect(user=admin_user)] == [STARTING]
    [row] = rows()
    assert (row.enrolment_id, row.notification_type, row.status, row.details) == (
        enrolment.id, ACTIVATION, IndicationStatus.NOT_PERMITTED, SUPERSEDED)
    NotificationIndication.objects.all().delete()
    enable(ACTIVATION)
    assert [c.notification_type for c in detect(user=admin_user)] == [ACTIVATION]


# --- the date triggers (§11 translated) -------------------------------------------------------------------------
@pytest.mark.parametrize("offset, hit", [(0, True), (-1, False), (1, False)])
def test_start_day(enable, household, enrol_group, admin_user, today, offset, hit):
    enable(STARTING)
    enrolment = enrol_group(household(), start=today + offset * DAY)
    assert [c.enrolment_id for c in detect(user=admin_user)] == ([enrolment.id] if hit else [])


@pytest.mark.parametrize("trigger, end_offset, hit", [
    (BEFORE, 14, True), (BEFORE, 13, False), (BEFORE, 15, False),
    (EXPIRY, 0, True), (EXPIRY, -1, False), (EXPIRY, 1, False),
    (AFTER, -5, True), (AFTER, -3, False), (AFTER, -6, False),
])
def test_expiry_reminders(enable, household, enrol_group, admin_user, today, trigger, end_offset, hit):
    enable(trigger)
    enrolment = enrol_group(household(), start=today - 300 * DAY, end=today + end_offset * DAY)
    found = detect(user=admin_user)
    assert [c.enrolment_id for c in found] == ([enrolment.id] if hit else [])
    if hit:
        assert found[0].period_key == today + end_offset * DAY


@pytest.mark.parametrize("trigger, end_offset", [(BEFORE, 14), (EXPIRY, 0), (AFTER, -5)])
def test_expiry_reminders_skip_an_enrolment_renewed_by_a_later_one(
        enable, household, enrol_group, admin_user, today, trigger, end_offset):
    enable(trigger)
    group = household()
    end = today + end_offset * DAY
    enrol_group(group, start=today - 300 * DAY, end=end)
    enrol_group(group, start=end + DAY, end=end + 365 * DAY, status="POTENTIAL")
    assert detect(user=admin_user) == []


def test_an_extension_moves_the_reminder_to_the_new_end(enable, household, enrol_group, admin_user, today):
    enable(EXPIRY, BEFORE)
    enrolment = enrol_group(household(), start=today - 300 * DAY, end=today)
    [first] = detect(user=admin_user)
    assert (first.notification_type, first.period_key) == (EXPIRY, today)
    mark_sent(admin_user, [first])
    enrolment.date_valid_to = at(today + 14 * DAY)
    enrolment.save(user=admin_user)
    [second] = detect(user=admin_user)  # the renewed period is reminded again
    assert (second.notification_type, second.period_key) == (BEFORE, today + 14 * DAY)


# --- renewals -----------------------------------------------------------------------------------------------------
def test_renewal_by_extension(enable, household, enrol_group, admin_user, today):
    enable(ACTIVATION, RENEWAL)
    enrolment = enrol_group(household(), start=today - 10 * DAY, end=today + 20 * DAY)
    [activation] = detect(user=admin_user)
    assert activation.notification_type == ACTIVATION
    mark_sent(admin_user, [activation])
    enrolment.date_valid_to = at(today + 385 * DAY)
    enrolment.save(user=admin_user)
    [renewal] = detect(user=admin_user)  # no second activation for the new period
    assert (renewal.notification_type, renewal.period_key) == (RENEWAL, today + 385 * DAY)
    assert "has been renewed from" in render(renewal)
    mark_sent(admin_user, [renewal])
    assert detect(user=admin_user) == []


def test_renewal_to_an_open_end(enable, household, enrol_group, admin_user, today):
    enable(RENEWAL)
    enrolment = enrol_group(household(), start=today - 10 * DAY, end=today + 20 * DAY)
    enrolment.date_valid_to = None
    enrolment.save(user=admin_user)
    [renewal] = detect(user=admin_user)
    assert (renewal.notification_type, renewal.period_key, renewal.values["ExpiryDate"]) == (RENEWAL, OPEN_PERIOD, "")


def test_an_extension_while_not_active_is_no_renewal(enable, household, enrol_group, admin_user, today):
    enable(ACTIVATION, RENEWAL)
    enrolment = enrol_group(household(), start=today, end=today + 20 * DAY, status="POTENTIAL")
    enrolment.date_valid_to = at(today + 100 * DAY)
    enrolment.save(user=admin_user)
    enrolment.status = "ACTIVE"
    enrolment.save(user=admin_user)
    assert [c.notification_type for c in detect(user=admin_user)] == [ACTIVATION]


def test_renewal_by_a_new_enrolment_after_the_previous_one_ended(enable, household, enrol_group, admin_user, today):
    enable(ACTIVATION, RENEWAL)
    group = household()
    enrol_group(group, start=today - 400 * DAY, end=today - 10 * DAY, status="GRADUATED")
    renewed = enrol_group(group, start=today - 9 * DAY, end=today + 356 * DAY)
    [candidate] = detect(user=admin_user)
    assert (candidate.notification_type, candidate.enrolment_id) == (RENEWAL, renewed.id)


def test_renewal_seen_after_its_window_is_too_old(enable, household, enrol_group, admin_user, today):
    enable(RENEWAL)
    enrolment = enrol_group(household(), start=today - 10 * DAY, end=today + 20 * DAY)
    enrolment.date_valid_to = at(today + 385 * DAY)
    enrolment.save(user=admin_user)
    assert detect(today=today + 6 * DAY, user=admin_user) == []
    assert [r.status for r in rows()] == [IndicationStatus.TOO_OLD]


# --- open-ended enrolments ------------------------------------------------------------------------------------------
def test_open_ended_enrolment_is_activated_and_never_expires(enable, household, enrol_group, admin_user, today):
    enable()
    enrolment = enrol_group(household(), start=today - 3 * DAY, end=None)
    [candidate] = detect(user=admin_user)
    assert (candidate.notification_type, candidate.enrolment_id, candidate.period_key) == (
        ACTIVATION, enrolment.id, OPEN_PERIOD)
    assert candidate.values["ExpiryDate"] == ""
    mark_sent(admin_user, [candidate])
    for offset in (0, 14, -5, 400):
        assert detect(today=today + offset * DAY, user=admin_user) == []


# --- subjects and phones (§13.4) ------------------------------------------------------------------------------------
def test_individual_plan_uses_the_beneficiarys_own_phone_and_name(
        enable, household, enrol_individual, admin_user, individual_plan):
    enable(ACTIVATION)
    group = household(members=["0755000111"])
    member = group.members[1]
    member.json_ext = {"phone": "0713000222"}
    member.save(user=admin_user)
    enrolment = enrol_individual(member)
    EntitlementFactory(acting_user=admin_user, beneficiary=enrolment, amount=Decimal("25.5"))
    [candidate] = detect(user=admin_user)
    assert (candidate.enrolment_type, candidate.enrolment_id, candidate.group_id, candidate.phone) == (
        ContentType.objects.get_for_model(Beneficiary).id, enrolment.id, group.id, "+255713000222")
    assert candidate.values["Name"] == f"{member.first_name} {member.last_name}"
    assert candidate.values["InsuranceID"] == group.code
    assert candidate.values["ProductCode"] == "PENSION"
    assert candidate.values["AmountToBePaid"] == "25.50"


def test_individual_without_a_household_is_no_consent(enable, enrol_individual, admin_user):
    enable(ACTIVATION)
    enrolment = enrol_individual(IndividualFactory(acting_user=admin_user, json_ext={"phone": "0712345678"}))
    assert detect(user=admin_user) == []
    [row] = rows()
    assert (row.enrolment_id, row.group_id, row.status, row.details) == (
        enrolment.id, None, IndicationStatus.NO_CONSENT, NO_HOUSEHOLD)


@pytest.mark.parametrize("kwargs, phone", [
    ({"head_phone": None, "group_phone": "0784000333", "members": ["0755000111"]}, "+255784000333"),
    ({"head_phone": None, "members": [None, "0755000111"]}, "+255755000111"),
    ({"head_phone": "not a number", "members": ["0755000111"]}, "+255755000111"),
    ({"head_phone": "+33 6 12 34 56 78"}, "+33612345678"),
])
def test_head_without_phone_falls_back_to_the_group_then_a_member(
        enable, household, enrol_group, admin_user, kwargs, phone):
    enable(ACTIVATION)
    enrol_group(household(**kwargs))
    assert [c.phone for c in detect(user=admin_user)] == [phone]


def test_a_phone_stored_as_a_json_number_is_read(enable, household, enrol_group, admin_user):
    enable(ACTIVATION)
    enrol_group(household(head_phone=712345678))
    assert [c.phone for c in detect(user=admin_user)] == [HEAD_E164]


@pytest.mark.parametrize("kwargs, details", [
    ({"head_phone": None}, NO_PHONE),
    ({"head_phone": "", "members": [""]}, NO_PHONE),
    ({"head_phone": "123", "members": ["abc"]}, "unparsable phone number: 123, abc"),
])
def test_household_without_a_usable_phone_is_status_4_never_sent(
        enable, household, enrol_group, admin_user, kwargs, details):
    enable(ACTIVATION)
    group = household(**kwargs)
    enrol_group(group)
    assert detect(user=admin_user) == []
    [row] = rows()
    assert (row.status, row.details, row.group_id) == (IndicationStatus.ERROR, details, group.id)
    assert detect(user=admin_user) == []  # retried, same outcome: not rewritten
    assert row.history.count() == 1
    group.head.json_ext = {"phone": "0712345678"}
    group.head.save(user=admin_user)
    [candidate] = detect(user=admin_user)  # a phone at last
    assert (candidate.indication_id, candidate.phone) == (row.id, HEAD_E164)


def test_a_retried_row_that_now_fails_consent_is_rewritten(enable, household, enrol_group, admin_user):
    enable(ACTIVATION)
    group = household(head_phone=None)
    enrol_group(group)
    detect(user=admin_user)
    update_family_notification_policy(group.id, {"approvalOfNotification": False}, user=admin_user)
    detect(user=admin_user)
    [row] = rows()
    assert (row.status, row.details, row.version) == (IndicationStatus.NO_CONSENT, NO_CONSENT, 2)


def test_household_without_its_notification_row_gets_one_and_no_message(enable, household, enrol_group, admin_user):
    enable(ACTIVATION)
    group = household(notification=False)
    enrol_group(group)
    assert detect(user=admin_user) == []
    assert group.family_notification.approval_of_notification is False
    assert [r.status for r in rows()] == [IndicationStatus.NO_CONSENT]


def test_nothing_is_detected_or_written_when_no_trigger_is_enabled(enable, pn_config, household, enrol_group,
                                                                  admin_user):
    pn_config(eligibleNotificationTypes={})
    enrol_group(household(consent=False))
    assert detect(user=admin_user) == []
    assert not NotificationIndication.objects.exists()


# --- set-based: statements independent of the number of enrolments -----------------------------------------------
def _population(household, enrol_group, enrol_individual, today, n):
    """Per unit: a consenting household starting today and ending in 14 days (start + before-expiry), one without
    consent (status 2), one ending today (expiry), an individual beneficiary with a phone, one without household."""
    for _ in range(n):
        enrol_group(household(), start=today, end=today + 14 * DAY)
        enrol_group(household(consent=False))
        enrol_group(household(), start=today - 200 * DAY, end=today)
        group = household(members=["0755000111"])
        enrol_individual(group.members[1])
        enrol_individual(IndividualFactory())


def test_detection_statement_count_does_not_depend_on_the_number_of_enrolments(
        enable, household, enrol_group, enrol_individual, admin_user, today):
    enable()
    for model in (Beneficiary, GroupBeneficiary):
        ContentType.objects.get_for_model(model)
    counts, found = [], []
    for n in (1, 4):
        _population(household, enrol_group, enrol_individual, today, n)
        before = NotificationIndication.objects.count()
        with CaptureQueriesContext(connection) as queries:
            candidates = detect(user=admin_user)
        counts.append(len(queries))
        found.append((len(candidates), NotificationIndication.objects.count() - before))
        mark_sent(admin_user, candidates)
    assert found[0][0] > 0 and found[0][1] > 0
    assert found[1] == (4 * found[0][0], 4 * found[0][1])
    assert counts[0] == counts[1], counts


# --- phones and templates ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, region, expected", [
    ("0712345678", None, "+255712345678"),
    ("0712 345 678", None, "+255712345678"),
    ("+255 712-345-678", None, "+255712345678"),
    (712345678, None, "+255712345678"),
    ("+33 6 12 34 56 78", None, "+33612345678"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("123", None, None),
    ("abc", None, None),
    ("", None, None),
    (None, None, None),
])
def test_phone_numbers_are_normalised_to_e164(raw, region, expected):
    assert normalise_phone(raw, region) == expected


def test_resolve_phone_takes_the_first_parsable_and_explains_failures():
    assert resolve_phone([None, "", "bad", "0712345678", "0755000111"]) == (HEAD_E164, None)
    assert resolve_phone([None, "  "]) == (None, NO_PHONE)
    assert resolve_phone(["12", "12"]) == (None, "unparsable phone number: 12")


VALUES = {"InsuranceID": "HH-1", "Name": "Asha Juma", "EffectiveDate": "2026-01-01", "ExpiryDate": "2026-12-31",
          "ProductCode": "CASH", "ProductName": "Cash transfer", "AmountToBePaid": ""}


@pytest.mark.parametrize("notification_type", [ACTIVATION, STARTING, BEFORE, EXPIRY, AFTER, RENEWAL])
def test_every_type_has_english_and_french_texts(notification_type):
    english = render_message(notification_type, "en", VALUES)
    french = render_message(notification_type, "fr", VALUES)
    assert "Asha Juma" in english and "HH-1" in english and "CASH Cash transfer" in english
    assert "Asha Juma" in french and "ménage HH-1" in french and english != french
    assert "%(" not in english + french


def test_the_household_language_is_used_with_a_fallback_to_the_default_language(
        enable, household, enrol_group, admin_user):
    enable(ACTIVATION)
    enrol_group(household(language="fr"))
    [candidate] = detect(user=admin_user)
    assert candidate.language == "fr" and render(candidate).startswith("Cher/Chère Asha Juma")
    Language.objects.create(code="sw", name="Kiswahili", sort_order=3)
    assert template_language("sw") == "en"  # no Swahili texts: the default language
    Language.objects.filter(code="en").update(sort_order=5)
    assert template_language("sw") == "fr"  # French is now the first language
    assert template_language(None) == "fr"
    assert render_message(EXPIRY, "sw", {"Name": "X"}).startswith("Cher/Chère X (ménage ),")  # missing: empty
