"""``send_notification_messages [--dry-run] [--date D]``: a consenting household enrolled today gets its start
message once through the text provider; a second run writes nothing; a dry run records and sends nothing."""
import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from policy_notification.models import IndicationStatus, NotificationIndication
from tests.policy_notification.helpers_e import enabled_types, enrol, household, text_folder  # noqa: F401

pytestmark = pytest.mark.django_db


def command(*args):
    out = StringIO()
    call_command("send_notification_messages", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def starting(enabled_types, superuser):
    enabled_types("starting_of_policy")


def test_a_household_enrolled_today_gets_its_message_once(starting, text_folder):
    group = household(code="HH-START", phone="0712345678")
    today = timezone.localdate()
    enrol(group, start=today, end=today + datetime.timedelta(days=365))
    out = command()
    assert "detected: 1, sent: 1, failed: 0" in out and "starting_of_policy: 1" in out
    [message] = list(text_folder.iterdir())
    text = message.read_text()
    assert "HH-START" in text and "Cash for families" in text and "Amina Juma" in text
    row = NotificationIndication.objects.get(group=group)
    assert (row.notification_type, row.status, row.provider, row.attempts) == (
        "starting_of_policy", IndicationStatus.SENT, "TextNotificationProvider", 1)

    again = command()
    assert "detected: 0, sent: 0" in again
    assert len(list(text_folder.iterdir())) == 1


def test_a_dry_run_records_and_sends_nothing(starting, text_folder):
    household_today = household()
    enrol(household_today, start=timezone.localdate())
    assert "dry run: 1 message(s) would be sent" in command("--dry-run")
    assert not text_folder.exists() or list(text_folder.iterdir()) == []
    assert NotificationIndication.objects.count() == 0
    assert "sent: 1" in command()


def test_the_date_option_runs_as_of_that_day(starting, text_folder):
    start = timezone.localdate() + datetime.timedelta(days=40)
    enrol(household(), start=start)
    assert "detected: 0" in command()
    out = command("--date", start.isoformat(), "--json")
    assert '"sent": 1' in out
    assert len(list(text_folder.iterdir())) == 1


def test_no_consent_is_recorded_and_not_sent(starting, text_folder):
    group = household(consent=False)
    enrol(group, start=timezone.localdate())
    assert "detected: 0, sent: 0" in command()
    assert NotificationIndication.objects.get(group=group).status == IndicationStatus.NO_CONSENT
    assert not text_folder.exists()


def test_a_bad_date_is_refused():
    with pytest.raises(CommandError, match="--date must be YYYY-MM-DD"):
        command("--date", "31/12/2030")


def test_no_acting_user_is_a_clear_error(enabled_types):
    enabled_types("starting_of_policy")
    with pytest.raises(CommandError, match="no acting user"):
        command()
