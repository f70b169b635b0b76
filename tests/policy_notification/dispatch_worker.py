"""A notification run in its own process, for the crash tests (tests/policy_notification/test_dispatch.py).

``dispatch_worker.py run <sms gateway url> <YYYY-MM-DD>``: the starting_of_policy trigger only, the eGA gateway
at that url (patient: a 600 s timeout), prints the run's counts as JSON.
``dispatch_worker.py state``: prints the indications as JSON ``[[type, status], …]``.
"""
import datetime
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django  # noqa: E402

django.setup()


def main():
    from policy_notification.models import NotificationIndication

    if sys.argv[1] == "state":
        rows = NotificationIndication.objects.order_by("notification_type").values_list("notification_type", "status")
        print(json.dumps([list(row) for row in rows]))
        return
    from policy_notification.apps import PolicyNotificationConfig
    from policy_notification.dispatch import run
    from policy_notification.gateways import load_providers

    sms_url, today = sys.argv[2], datetime.date.fromisoformat(sys.argv[3])
    PolicyNotificationConfig.eligibleNotificationTypes = {"starting_of_policy": True}
    providers = load_providers({"eGASMSGateway": {
        "GateUrl": sms_url, "SmsResource": "/api/sms/", "HeaderKeys": "X-Auth-Request-Hash",
        "HeaderValues": "HashMessage1", "Timeout": 600, "Retries": 0}})
    print(json.dumps(run(today=today, providers=providers).as_dict()), flush=True)


if __name__ == "__main__":
    main()
