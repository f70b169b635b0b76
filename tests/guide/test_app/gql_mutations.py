import graphene

from core.gql.mutation import BaseMutation, IdsInput, ServiceMutation
from core.location import location_manager
from tests.guide.test_app.models import Visit, VisitMutation
from tests.guide.test_app.services import VisitService


def _visit_locations(ids):
    return list(Visit.objects.filter(id__in=ids).values_list("location_id", flat=True))


class CreateVisitMutation(ServiceMutation):
    _mutation_module = "tests.guide.test_app"
    _mutation_class = "CreateVisitMutation"
    permission = "guide.gql_visit_create_perms"
    service, method = VisitService, "create"
    link_model, link_field = VisitMutation, "visit"

    class Input(BaseMutation.Input):
        subject = graphene.String(required=True)
        location_id = graphene.Int()
        json_ext = graphene.JSONString()

    @classmethod
    def check_access(cls, user, data):
        location_manager.check_allowed(user, [data.get("location_id")])


class RecordVisitOutcomeMutation(ServiceMutation):
    _mutation_module = "tests.guide.test_app"
    _mutation_class = "RecordVisitOutcomeMutation"
    permission = "guide.gql_visit_update_perms"
    service, method = VisitService, "record_outcome"
    link_model, link_field = VisitMutation, "visit"

    class Input(BaseMutation.Input):
        id = graphene.UUID(required=True)
        outcome = graphene.String(required=True)

    @classmethod
    def check_access(cls, user, data):
        location_manager.check_allowed(user, _visit_locations([data["id"]]))


class DeleteVisitMutation(ServiceMutation):
    _mutation_module = "tests.guide.test_app"
    _mutation_class = "DeleteVisitMutation"
    permission = "guide.gql_visit_delete_perms"
    service, method, each = VisitService, "delete", "ids"

    class Input(IdsInput, BaseMutation.Input):
        pass

    @classmethod
    def check_access(cls, user, data):
        location_manager.check_allowed(user, _visit_locations(data.get("ids") or []))
