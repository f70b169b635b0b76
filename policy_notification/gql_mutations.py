"""``updateFamilyNotification`` (spec §13.3): the group update right, the household visible to the caller, then
one service call."""
import graphene
from django.core.exceptions import PermissionDenied

from core.gql.mutation import BaseMutation, ServiceMutation
from core.rights import UNAUTHORIZED
from policy_notification.gql_queries import FAMILY_NOTIFICATION_UPDATE
from policy_notification.services import APPROVAL, LANGUAGE, FamilyNotificationService


class UpdateFamilyNotificationMutation(ServiceMutation):
    """Consent and/or language of a household's messages (a household without a row gets one)."""

    _mutation_module = "policy_notification"
    _mutation_class = "UpdateFamilyNotificationMutation"
    permission = FAMILY_NOTIFICATION_UPDATE
    service, method = FamilyNotificationService, "update"

    class Input(BaseMutation.Input):
        group_id = graphene.UUID(required=True)
        approval_of_notification = graphene.Boolean(required=False)
        language_of_notification = graphene.String(required=False, max_length=5)

    @classmethod
    def check_access(cls, user, data):
        from individual.selectors import visible_group_ids

        visible = visible_group_ids(user)
        if visible is not None and not visible.filter(id=data.get("group_id")).exists():
            raise PermissionDenied(UNAUTHORIZED)

    @classmethod
    def payload(cls, user, data):
        return {"group_id": str(data["group_id"]), APPROVAL: data.get("approval_of_notification"),
                LANGUAGE: data.get("language_of_notification")}

    @classmethod
    def linked_id(cls, data, result):
        return None
