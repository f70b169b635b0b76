"""GraphQL of policy_notification: ``familyNotification``, ``notificationIndication`` and
``updateFamilyNotification`` (spec §3, §13.3). Resolvers check the right, then read; row security is the
types' (``restrict``)."""
import graphene

from core.gql.connection import OrderedDjangoFilterConnectionField
from core.gql.mutation import mutation_fields
from core.rights import require
from policy_notification.gql_mutations import UpdateFamilyNotificationMutation
from policy_notification.gql_queries import (FAMILY_NOTIFICATION_SEARCH, INDICATION_SEARCH,
                                             FamilyNotificationGQLType, NotificationIndicationGQLType)
from policy_notification.models import FamilyNotification, NotificationIndication

LIST_DENIED = "Unauthorized"


class Query(graphene.ObjectType):
    family_notification = OrderedDjangoFilterConnectionField(FamilyNotificationGQLType)
    notification_indication = OrderedDjangoFilterConnectionField(NotificationIndicationGQLType)

    def resolve_family_notification(self, info, **kwargs):
        require(info.context.user, FAMILY_NOTIFICATION_SEARCH, LIST_DENIED)
        return FamilyNotification.objects.filter(is_deleted=False).select_related("group")

    def resolve_notification_indication(self, info, **kwargs):
        require(info.context.user, INDICATION_SEARCH, LIST_DENIED)
        return NotificationIndication.objects.all().select_related("group")


Mutation = mutation_fields(UpdateFamilyNotificationMutation)
