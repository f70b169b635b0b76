import graphene

from core.gql.connection import OrderedDjangoFilterConnectionField
from core.gql.export import ExportableQueryMixin
from core.gql.mutation import mutation_fields
from core.masking import masking_policy
from core.rights import require
from tests.guide.test_app.gql_mutations import CreateVisitMutation, DeleteVisitMutation, RecordVisitOutcomeMutation
from tests.guide.test_app.gql_queries import VisitGQLType, VisitHistoryGQLType
from tests.guide.test_app.models import Visit


def _masked(queryset, info):
    return masking_policy("visit").mask_queryset(queryset, info.context.user)


class Query(ExportableQueryMixin, graphene.ObjectType):
    exportable_fields = ["visit"]
    export_patches = {"visit": [_masked]}

    visit = OrderedDjangoFilterConnectionField(VisitGQLType, client_mutation_id=graphene.String())
    visit_history = OrderedDjangoFilterConnectionField(VisitHistoryGQLType)

    def resolve_visit(self, info, client_mutation_id=None, **kwargs):
        require(info.context.user, "guide.gql_visit_search_perms")
        queryset = Visit.objects.all()
        if client_mutation_id:
            queryset = queryset.filter(mutations__mutation__client_mutation_id=client_mutation_id)
        return queryset

    def resolve_visit_history(self, info, **kwargs):
        require(info.context.user, "guide.gql_visit_search_perms")
        return Visit.history.model.objects.all()


Mutation = mutation_fields(CreateVisitMutation, RecordVisitOutcomeMutation, DeleteVisitMutation)
