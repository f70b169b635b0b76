"""policy_notification: household consent and language, triggered SMS about enrolments, and the report."""
from core.module_config import ModuleAppConfig

MODULE_NAME = "policy_notification"

NOTIFICATION_TYPES = ("activation_of_policy", "starting_of_policy", "need_for_renewal", "expiration_of_policy",
                      "reminder_after_expiration", "renewal_of_policy")

DEFAULT_CONFIG = {
    # gateways, tried in this order per message (spec §2, §9, §13.8); PrivateKey comes from the environment
    "providers": {
        "eGASMSGateway": {
            "GateUrl": "http://127.0.0.1:8000",
            "SmsResource": "/api/policy_notification/test_sms/",
            "PrivateKey": "",
            "UserId": "",
            "SenderId": "",
            "ServiceId": "",
            "RequestType": "",
            "HeaderKeys": "X-Auth-Request-Hash,X-Auth-Request-Id,X-Auth-Request-Type",
            "HeaderValues": "HashMessage1,UserId,RequestType",
        },
        "TextNotificationProvider": {"DestinationFolder": "sent_notification"},
    },
    # which triggers run (camelCase key, snake_case type names); all off by default as upstream
    "eligibleNotificationTypes": {name: False for name in NOTIFICATION_TYPES},
    "family_policy_notification_report_perms": ["131224"],
    "gql_notification_indication_perms": ["131224"],
    "trigger_time_interval_hours": 4,
    "trigger_first_call_hour": 8,
    "trigger_last_call_hour": 20,
    "reminder_before_expiry_days": 14,
    "reminder_after_expiry_days": 5,
    "policy_activation_relevance_maximum_days_timedelta": 5,
    "policy_renewal_relevance_maximum_days_timedelta": 5,
    # this project (spec §13.1, §13.4): where phones live, how they are normalised
    "phone_key": "phone",
    "default_phone_region": "TZ",
    # the user recorded on rows written by the scheduled run (empty: the first active superuser)
    "run_as_username": "",
}


class PolicyNotificationConfig(ModuleAppConfig):
    name = MODULE_NAME
    verbose_name = "Policy notification"
    DEFAULT_CONFIG = DEFAULT_CONFIG

    @property
    def SCHEDULED_JOBS(self):  # noqa: N802 (the core.scheduling contract)
        """The beat entry of spec §13.9, built from the loaded configuration."""
        cls = type(self)
        first, last = int(cls.trigger_first_call_hour), int(cls.trigger_last_call_hour)
        interval = max(1, int(cls.trigger_time_interval_hours))
        return [{"name": "policy_notification_send_notification_messages",
                 "task": "policy_notification.tasks.send_notification_messages",
                 "cron": {"minute": 0, "hour": f"{first}-{last}/{interval}"}}]

    def ready(self):
        super().ready()
        from individual.services import register_group_filter
        from policy_notification import signals
        from policy_notification.detection import policy_notification_group_filter

        signals.bind_service_signals()
        register_group_filter("policyNotification", policy_notification_group_filter)
