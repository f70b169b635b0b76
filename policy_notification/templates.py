"""Message templates per notification type and language (spec §7, §13.7).

Message ids and ``%(Key)s`` placeholders are upstream's; the texts are this project's (short enough for one or
two SMS). A household's language without texts falls back to the default language (first core ``Language`` by
sort order), then to English. A placeholder without a value renders empty, never raises.
"""
from django.utils import translation

from policy_notification.models import FALLBACK_LANGUAGE, NotificationType, default_language_code

MESSAGE_IDS = {
    NotificationType.ACTIVATION: "policy_notification.sms_on_activation",
    NotificationType.STARTING: "policy_notification.sms_on_effective",
    NotificationType.NEED_FOR_RENEWAL: "policy_notification.sms_before_expiry",
    NotificationType.EXPIRATION: "policy_notification.sms_on_expiration",
    NotificationType.REMINDER_AFTER_EXPIRATION: "policy_notification.sms_after_expiry",
    NotificationType.RENEWAL: "policy_notification.sms_on_renewal",
}

PLACEHOLDERS = ("InsuranceID", "Name", "EffectiveDate", "ExpiryDate", "ProductCode", "ProductName",
                "AmountToBePaid")

TEXTS = {
    "en": {
        "policy_notification.sms_on_activation":
            "Dear %(Name)s (household %(InsuranceID)s), your enrolment in %(ProductCode)s %(ProductName)s is "
            "active from %(EffectiveDate)s to %(ExpiryDate)s.",
        "policy_notification.sms_on_effective":
            "Dear %(Name)s (household %(InsuranceID)s), your enrolment in %(ProductCode)s %(ProductName)s starts "
            "today and ends on %(ExpiryDate)s.",
        "policy_notification.sms_before_expiry":
            "Dear %(Name)s (household %(InsuranceID)s), your enrolment in %(ProductCode)s %(ProductName)s will "
            "end on %(ExpiryDate)s. Please contact your officer to renew it.",
        "policy_notification.sms_on_expiration":
            "Dear %(Name)s (household %(InsuranceID)s), your enrolment in %(ProductCode)s %(ProductName)s ends "
            "today and has not been renewed.",
        "policy_notification.sms_after_expiry":
            "Dear %(Name)s (household %(InsuranceID)s), your enrolment in %(ProductCode)s %(ProductName)s ended "
            "on %(ExpiryDate)s and has not been renewed. Please contact your officer to renew it.",
        "policy_notification.sms_on_renewal":
            "Dear %(Name)s (household %(InsuranceID)s), your enrolment in %(ProductCode)s %(ProductName)s has "
            "been renewed from %(EffectiveDate)s to %(ExpiryDate)s.",
    },
    "fr": {
        "policy_notification.sms_on_activation":
            "Cher/Chère %(Name)s (ménage %(InsuranceID)s), votre inscription à %(ProductCode)s %(ProductName)s "
            "est active du %(EffectiveDate)s au %(ExpiryDate)s.",
        "policy_notification.sms_on_effective":
            "Cher/Chère %(Name)s (ménage %(InsuranceID)s), votre inscription à %(ProductCode)s %(ProductName)s "
            "commence aujourd'hui et se termine le %(ExpiryDate)s.",
        "policy_notification.sms_before_expiry":
            "Cher/Chère %(Name)s (ménage %(InsuranceID)s), votre inscription à %(ProductCode)s %(ProductName)s "
            "se termine le %(ExpiryDate)s. Contactez votre agent pour la renouveler.",
        "policy_notification.sms_on_expiration":
            "Cher/Chère %(Name)s (ménage %(InsuranceID)s), votre inscription à %(ProductCode)s %(ProductName)s "
            "se termine aujourd'hui et n'a pas été renouvelée.",
        "policy_notification.sms_after_expiry":
            "Cher/Chère %(Name)s (ménage %(InsuranceID)s), votre inscription à %(ProductCode)s %(ProductName)s "
            "s'est terminée le %(ExpiryDate)s et n'a pas été renouvelée. Contactez votre agent pour la renouveler.",
        "policy_notification.sms_on_renewal":
            "Cher/Chère %(Name)s (ménage %(InsuranceID)s), votre inscription à %(ProductCode)s %(ProductName)s "
            "a été renouvelée du %(EffectiveDate)s au %(ExpiryDate)s.",
    },
}


class _Values(dict):
    def __missing__(self, key):
        return ""


def template_language(language):
    """The language whose texts are used for ``language``: itself when shipped, else the default language, else
    English."""
    if language in TEXTS:
        return language
    default = default_language_code()  # asked only for a language without texts
    return default if default in TEXTS else FALLBACK_LANGUAGE


def template(notification_type, language):
    """The text of ``notification_type``'s message in ``language`` (with the fallbacks above)."""
    message_id = MESSAGE_IDS[NotificationType(notification_type)]
    return TEXTS[template_language(language)][message_id]


def render_message(notification_type, language, values):
    """The message of ``notification_type`` for a household speaking ``language``, its placeholders filled from
    ``values`` (missing ones empty). Rendered inside the household's language (``translation.override``)."""
    chosen = template_language(language)
    with translation.override(chosen):
        text = template(notification_type, chosen)
        return text % _Values({key: "" if value is None else str(value) for key, value in (values or {}).items()})
