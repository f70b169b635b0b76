"""Dispatch (claim, send, mark) against the loopback SMS gateway: each message is claimed and committed before
the gateway sees it, recorded after, and never sent twice: not by a second run, not after a failure to record
the outcome, not after a run killed between the gateway's answer and the record."""
import datetime
import json
import signal
import time
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from policy_notification import dispatch
from policy_notification.detection import Candidate
from policy_notification.gateways import EGASMSGateway, TextNotificationProvider, load_providers
from policy_notification.models import IndicationStatus, NotificationIndication
from social_protection.models import GroupBeneficiary
from tests.policy_notification.helpers_e import (ega_config, ega_secret, household_enrolled_today,  # noqa: F401
                                                 shared_database_url, sms_server, worker_answer, worker_process)

PERIOD = datetime.date(2031, 6, 30)


def candidates(count, notification_type="need_for_renewal"):
    content_type = ContentType.objects.get_for_model(GroupBeneficiary).pk
    return [Candidate(enrolment_type=content_type, enrolment_id=uuid.uuid4(), group_id=None,
                      notification_type=notification_type, period_key=PERIOD, phone=f"+25571200{i:04d}",
                      language="en", values={"n": i}) for i in range(count)]


def render(candidate):
    return f"message {candidate.values['n']} for {candidate.enrolment_id}"


def rows_of(batch):
    return NotificationIndication.objects.filter(enrolment_id__in=[c.enrolment_id for c in batch])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_each_message_is_claimed_and_committed_before_the_gateway_gets_it(sms_server, ega_secret, admin_user):
    from django.db import connections

    seen = []

    def at_the_gateway(request):
        # the server's own thread and connection: it sees only committed rows
        inner = json.loads(json.loads(request["body"])["data"])
        enrolment_id = inner["message"].rsplit(" ", 1)[1]
        seen.append(list(NotificationIndication.objects.filter(enrolment_id=enrolment_id)
                         .values_list("status", flat=True)))
        connections.close_all()

    sms_server.on_request = at_the_gateway
    batch = candidates(3)
    report = dispatch.dispatch(batch, user=admin_user, providers=[EGASMSGateway(ega_config(sms_server))],
                               render=render)
    assert seen == [[IndicationStatus.CLAIMED]] * 3
    assert (report.sent, report.failed, report.unknown, report.skipped) == (3, 0, 0, 0)
    rows = list(rows_of(batch))
    assert {(r.status, r.provider, r.attempts) for r in rows} == {(IndicationStatus.SENT, "eGASMSGateway", 1)}
    assert all(r.sent_at is not None and r.claimed_at <= r.sent_at for r in rows)
    assert rows[0].history.count() == 2  # the claim, then the outcome


@pytest.mark.django_db
def test_a_second_run_sends_nothing(sms_server, ega_secret, admin_user):
    batch = candidates(4)
    providers = [EGASMSGateway(ega_config(sms_server))]
    first = dispatch.dispatch(batch, user=admin_user, providers=providers, render=render)
    second = dispatch.dispatch(batch, user=admin_user, providers=providers, render=render)
    assert first.sent == 4 and second.sent == 0 and second.skipped == 4
    assert len(sms_server.received) == 4
    assert sorted(m["recipients"] for m in sms_server.messages()) == [c.phone for c in batch]


@pytest.mark.django_db
def test_a_failed_send_is_retried_by_a_later_run_and_attempts_add_up(sms_server, ega_secret, admin_user):
    batch = candidates(1)
    sms_server.default = 503
    providers = [EGASMSGateway(ega_config(sms_server, Retries=1))]
    first = dispatch.dispatch(batch, user=admin_user, providers=providers, render=render)
    row = rows_of(batch).get()
    assert first.failed == 1 and row.status == IndicationStatus.ERROR and row.attempts == 2
    assert "HTTP 503" in row.details and row.sent_at is None
    sms_server.default = "ok"
    second = dispatch.dispatch(batch, user=admin_user, providers=providers, render=render)
    row.refresh_from_db()
    assert second.sent == 1 and row.status == IndicationStatus.SENT and row.attempts == 3
    assert len(sms_server.received) == 3


@pytest.mark.django_db
def test_fallback_is_recorded_with_the_provider_that_sent(sms_server, ega_secret, admin_user, tmp_path):
    sms_server.default = 400
    providers = load_providers({"eGASMSGateway": ega_config(sms_server),
                                "TextNotificationProvider": {"DestinationFolder": str(tmp_path)}})
    batch = candidates(2)
    report = dispatch.dispatch(batch, user=admin_user, providers=providers, render=render)
    assert report.sent == 2
    rows = list(rows_of(batch))
    assert {(r.status, r.provider, r.attempts) for r in rows} == {
        (IndicationStatus.SENT, "TextNotificationProvider", 2)}
    assert all(r.details.startswith("eGASMSGateway: HTTP 400") for r in rows)
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == sorted(render(c) for c in batch)


@pytest.mark.django_db
def test_an_unknown_outcome_stays_claimed_and_is_never_resent(sms_server, ega_secret, admin_user, tmp_path):
    sms_server.answer("drop")
    providers = load_providers({"eGASMSGateway": ega_config(sms_server),
                                "TextNotificationProvider": {"DestinationFolder": str(tmp_path)}})
    batch = candidates(1)
    report = dispatch.dispatch(batch, user=admin_user, providers=providers, render=render)
    row = rows_of(batch).get()
    assert report.unknown == 1 and row.status == IndicationStatus.CLAIMED and "may have accepted" in row.details
    assert list(tmp_path.iterdir()) == []  # no fallback: the first provider may have sent it
    again = dispatch.dispatch(batch, user=admin_user, providers=providers, render=render)
    assert again.sent == 0 and again.skipped == 1 and len(sms_server.received) == 1


@pytest.mark.django_db
def test_no_phone_or_a_broken_template_is_a_failure_without_any_request(sms_server, ega_secret, admin_user):
    no_phone = Candidate(**{**candidates(1)[0].__dict__, "phone": None})
    report = dispatch.dispatch([no_phone, *candidates(1)], user=admin_user,
                               providers=[EGASMSGateway(ega_config(sms_server))], render=lambda c: 1 / 0)
    assert report.failed == 2 and sms_server.received == []
    details = sorted(NotificationIndication.objects.values_list("details", flat=True))
    assert details == ["message could not be rendered: ZeroDivisionError", "no phone number"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failure_to_record_the_outcome_never_causes_a_resend(sms_server, ega_secret, admin_user, monkeypatch):
    batch = candidates(2)
    providers = [EGASMSGateway(ega_config(sms_server))]
    real_update_rows = dispatch.update_rows
    calls = []

    def database_lost_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseError("server closed the connection unexpectedly")
        return real_update_rows(*args, **kwargs)

    monkeypatch.setattr(dispatch, "update_rows", database_lost_once)
    with pytest.raises(DatabaseError):
        dispatch.dispatch(batch, user=admin_user, providers=providers, render=render)
    assert len(sms_server.received) == 2
    assert set(rows_of(batch).values_list("status", flat=True)) == {IndicationStatus.CLAIMED}
    report = dispatch.dispatch(batch, user=admin_user, providers=providers, render=render)
    assert report.sent == 0 and report.skipped == 2 and len(sms_server.received) == 2


@pytest.mark.django_db
def test_two_runs_claim_each_message_once(admin_user):
    batch = candidates(5)
    first = dispatch.claim(batch, user=admin_user)
    second = dispatch.claim(batch, user=admin_user)
    assert len(first) == 5 and second == {}
    # a status-4 row is claimed again by exactly one run
    NotificationIndication.objects.filter(enrolment_id=batch[0].enrolment_id).update(status=IndicationStatus.ERROR)
    assert list(dispatch.claim(batch, user=admin_user)) == [dispatch.candidate_key(batch[0])]
    assert dispatch.claim(batch, user=admin_user) == {}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_overlapping_runs_send_each_message_once(sms_server, ega_secret, admin_user):
    """Two runs at once (beat and the command) over the same messages, each on its own connection: every
    message reaches the gateway exactly once."""
    import threading

    from django.db import connections

    batch = candidates(40)
    sms_server.default = ("slow", 0.01)
    reports, start = [], threading.Barrier(2)

    def one_run():
        try:
            start.wait()
            reports.append(dispatch.dispatch(batch, user=admin_user, render=render, chunk_size=5,
                                             providers=[EGASMSGateway(ega_config(sms_server))]))
        finally:
            connections.close_all()

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(120)
    assert len(reports) == 2
    assert sum(r.sent for r in reports) == 40 and sum(r.skipped for r in reports) == 40
    recipients = [m["recipients"] for m in sms_server.messages()]
    assert sorted(recipients) == sorted(c.phone for c in batch)
    assert set(rows_of(batch).values_list("status", flat=True)) == {IndicationStatus.SENT}


@pytest.mark.django_db
def test_statements_per_chunk_do_not_depend_on_the_number_of_messages(admin_user, tmp_path):
    providers = [TextNotificationProvider({"DestinationFolder": str(tmp_path)})]

    def statements(count):
        with CaptureQueriesContext(connection) as queries:
            report = dispatch.dispatch(candidates(count), user=admin_user, providers=providers, render=render,
                                       chunk_size=500)
        assert report.sent == count
        return len(queries)

    assert statements(3) == statements(60)
    assert len(list(tmp_path.iterdir())) == 63


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_killed_after_the_gateway_got_the_message_never_sends_it_again(sms_server, superuser, tmp_path):
    """Detection, claim and the gateway call in a separate process: the gateway receives the message and never
    answers; the process is killed (SIGKILL) while it waits. A second process then runs the same day: it sends
    nothing, and the message stays claimed."""
    household_enrolled_today()
    database_url = shared_database_url(tmp_path)
    today = timezone.localdate().isoformat()
    sms_server.default = "hang"
    first = worker_process(database_url, "run", sms_server.url, today)
    try:
        deadline = time.monotonic() + 120
        while not sms_server.wait_for_requests(1, timeout=0.5):
            # a worker that died on its own (or never got there) fails the test with its error output
            assert first.poll() is None, first.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the worker did not reach the gateway in 120 s"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert [m["message"][:8] for m in sms_server.messages()] == [sms_server.messages()[0]["message"][:8]]
    assert worker_answer(database_url, "state") == [["starting_of_policy", IndicationStatus.CLAIMED]]

    sms_server.default = "ok"
    second = worker_answer(database_url, "run", sms_server.url, today)
    assert second["sent"] == 0 and second["detected"] == 0
    assert len(sms_server.received) == 1  # nothing more reached the gateway
    assert worker_answer(database_url, "state") == [["starting_of_policy", IndicationStatus.CLAIMED]]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_run_without_the_crash_sends_once(sms_server, superuser, tmp_path):
    """Control of the test above: the worker does send when the gateway answers (so "nothing sent" above is the
    claim's doing), and a rerun sends nothing."""
    household_enrolled_today()
    database_url = shared_database_url(tmp_path)
    today = timezone.localdate().isoformat()
    assert worker_answer(database_url, "run", sms_server.url, today)["sent"] == 1
    assert worker_answer(database_url, "run", sms_server.url, today)["sent"] == 0
    assert len(sms_server.received) == 1
    assert worker_answer(database_url, "state") == [["starting_of_policy", IndicationStatus.SENT]]
