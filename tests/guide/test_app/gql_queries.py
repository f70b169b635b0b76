from core.gql.filters import HISTORY_MODEL_FILTERS, STRING_LOOKUPS, USER_UPDATED_FILTERS, filterset_for
from core.gql.types import HISTORY_MODEL_FIELDS, HISTORY_RECORD_FIELDS, HistoricalRecordType, HistoryModelType
from tests.guide.test_app.models import Visit

VISIT_FILTERS = {**HISTORY_MODEL_FILTERS, "subject": STRING_LOOKUPS, "outcome": ["exact"]}


class VisitGQLType(HistoryModelType):
    read_perms = "guide.gql_visit_search_perms"
    masking = "visit"

    class Meta:
        model = Visit
        fields = (*HISTORY_MODEL_FIELDS, "subject", "outcome", "location")
        filterset_class = filterset_for(Visit, VISIT_FILTERS)
        convert_choices_to_enum = False


class VisitHistoryGQLType(HistoricalRecordType):
    read_perms = "guide.gql_visit_search_perms"
    masking = "visit"
    history_of = Visit

    class Meta:
        model = Visit.history.model
        fields = (*HISTORY_MODEL_FIELDS, *HISTORY_RECORD_FIELDS, "subject", "outcome", "location")
        filterset_class = filterset_for(Visit.history.model, {**VISIT_FILTERS, **USER_UPDATED_FILTERS})
        convert_choices_to_enum = False
