"""factory_boy factories of policy_notification (rows saved with history; ``acting_user=`` chooses the author)."""
import datetime
import uuid

import factory
from django.contrib.contenttypes.models import ContentType

from policy_notification.models import FamilyNotification, IndicationStatus, NotificationIndication, NotificationType
from social_protection.models import GroupBeneficiary
from tests.factories import HistoryModelFactory
from tests.individual.factories import GroupFactory


class FamilyNotificationFactory(HistoryModelFactory):
    class Meta:
        model = FamilyNotification

    group = factory.SubFactory(GroupFactory)
    approval_of_notification = True
    language_of_notification = "en"


class NotificationIndicationFactory(HistoryModelFactory):
    """A sent activation message of a (made-up) group enrolment; pass ``enrolment_id`` of a real one."""

    class Meta:
        model = NotificationIndication

    enrolment_type = factory.LazyFunction(lambda: ContentType.objects.get_for_model(GroupBeneficiary))
    enrolment_id = factory.LazyFunction(uuid.uuid4)
    group = factory.SubFactory(GroupFactory)
    notification_type = NotificationType.ACTIVATION
    period_key = datetime.date(2030, 12, 31)
    status = IndicationStatus.SENT
    provider = "TextNotificationProvider"
    attempts = 1
