import graphene
from graphene_django import DjangoObjectType

from core.gql.connection import OrderedDjangoFilterConnectionField
from core.gql.types import HistoryModelType
from core.gql.export import ExportableQueryMixin
from core.gql.mutation import BaseMutation, check_perms, strip_client_fields
from core.rights import require
from tests.core.test_app.apps import CoreTestAppConfig
from tests.core.test_app.models import Part, Widget


class PartGQLType(DjangoObjectType):
    class Meta:
        model = Part
        fields = ("id", "label", "widget")


class WidgetGQLType(HistoryModelType):
    read_perms = "core_test_app.gql_widget_search_perms"

    class Meta:
        model = Widget
        fields = ("id", "name", "location", "user_updated", "parts", "version", "is_deleted", "json_ext")
        filter_fields = {"name": ["exact", "icontains"], "is_deleted": ["exact"]}


class Query(ExportableQueryMixin, graphene.ObjectType):
    widgets = OrderedDjangoFilterConnectionField(WidgetGQLType)
    exportable_fields = ["widgets"]

    def resolve_widgets(self, info, **kwargs):
        require(info.context.user, CoreTestAppConfig.gql_widget_search_perms)
        return Widget.objects.all()


class CreateWidgetMutation(BaseMutation):
    _mutation_module = "tests.core.test_app"
    _mutation_class = "CreateWidgetMutation"

    class Input(BaseMutation.Input):
        name = graphene.String(required=True)
        location_id = graphene.Int(required=False)

    @classmethod
    def _validate_mutation(cls, user, **data):
        check_perms(user, CoreTestAppConfig.gql_widget_create_perms)

    @classmethod
    def _mutate(cls, user, **data):
        data = strip_client_fields(data)
        if data["name"] == "boom":
            Widget(name="partial").save(user=user)  # written, then rolled back by the failure below
            raise RuntimeError("secret internal detail")
        if data["name"] == "invalid":
            Widget(name="partial").save(user=user)
            return {"success": False, "message": "Failed to create Widget", "detail": "name is invalid"}
        Widget(**data).save(user=user)
        return None


class Mutation(graphene.ObjectType):
    create_widget = CreateWidgetMutation.Field()
