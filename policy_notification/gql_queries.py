"""GraphQL types and filters of policy_notification (spec §3, §13.3).

Both types are read under the registry's row security: a household's notification row, and a message's
indication, are visible when the caller may see the household (``individual.selectors.visible_group_ids``).
"""
import graphene

from core.gql.filters import DATE_LOOKUPS, ID_LOOKUPS, STRING_LOOKUPS, filterset_for
from core.gql.types import HISTORY_MODEL_FIELDS, HistoryModelType
from policy_notification.models import FamilyNotification, NotificationIndication

FAMILY_NOTIFICATION_SEARCH = "individual.gql_group_search_perms"  # 180001
FAMILY_NOTIFICATION_UPDATE = "individual.gql_group_update_perms"  # 180003
INDICATION_SEARCH = "policy_notification.gql_notification_indication_perms"  # 131224


def _visible_groups(queryset, user, field="group_id"):
    from individual.selectors import visible_group_ids

    visible = visible_group_ids(user)
    return queryset if visible is None else queryset.filter(**{f"{field}__in": visible})


class FamilyNotificationGQLType(HistoryModelType):
    """Consent and language of a household's messages (``groupId`` filter: ``group_Id``)."""

    read_perms = FAMILY_NOTIFICATION_SEARCH
    granted_relations = ("group",)

    class Meta:
        model = FamilyNotification
        fields = (*HISTORY_MODEL_FIELDS, "group", "approval_of_notification", "language_of_notification")
        filterset_class = filterset_for(FamilyNotification, {
            "id": ["exact"],
            "group__id": ["exact"],
            "group__code": STRING_LOOKUPS,
            "approval_of_notification": ["exact"],
            "language_of_notification": ["exact"],
            "is_deleted": ["exact"],
            "date_updated": DATE_LOOKUPS,
        })

    @classmethod
    def restrict(cls, queryset, user):
        return _visible_groups(queryset, user)


class NotificationIndicationGQLType(HistoryModelType):
    """What became of one message: enrolment, type, period, status (spec §1.3 codes), provider, attempts."""

    read_perms = INDICATION_SEARCH
    granted_relations = ("group",)
    enrolment_type = graphene.String()
    # declared before Meta: plain values (spec §1.3 codes, snake_case type names), for fields and filters alike
    status = graphene.Int()
    notification_type = graphene.String()

    class Meta:
        model = NotificationIndication
        fields = (*HISTORY_MODEL_FIELDS, "enrolment_id", "group", "notification_type", "period_key", "status",
                  "claimed_at", "sent_at", "provider", "attempts", "details")
        filterset_class = filterset_for(NotificationIndication, {
            "id": ["exact"],
            "enrolment_id": ["exact"],
            "group__id": ID_LOOKUPS,
            "notification_type": STRING_LOOKUPS,
            "period_key": DATE_LOOKUPS,
            "status": ["exact", "in"],
            "provider": STRING_LOOKUPS,
            "sent_at": [*DATE_LOOKUPS, "isnull"],
            "date_created": DATE_LOOKUPS,
        })

    @classmethod
    def restrict(cls, queryset, user):
        return _visible_groups(queryset, user)

    def resolve_enrolment_type(root, info):
        """``social_protection.beneficiary`` / ``social_protection.groupbeneficiary``."""
        from django.contrib.contenttypes.models import ContentType

        content_type = ContentType.objects.get_for_id(root.enrolment_type_id)  # cached by Django
        return f"{content_type.app_label}.{content_type.model}"

    def resolve_status(root, info):
        return root.status

    def resolve_notification_type(root, info):
        return root.notification_type
