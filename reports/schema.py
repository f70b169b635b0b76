"""Report queries: ``programmeReports`` (the reports the caller may run) and ``programmeReport(name, …)``.

Each report is guarded by its owning module's search right and computed under the caller's row security
(``reports.services.run_report``); a constant number of statements per report."""
import graphene

from core.rights import require
from reports import services
from reports.gql_queries import ReportDefinitionGQLType, ReportResultGQLType


def _selects_svg(info):
    for field in info.field_nodes:
        for selection in (field.selection_set.selections if field.selection_set else []):
            if getattr(getattr(selection, "name", None), "value", None) == "svg":
                return True
    return False


class Query(graphene.ObjectType):
    programme_reports = graphene.List(ReportDefinitionGQLType)
    programme_report = graphene.Field(
        ReportResultGQLType, name=graphene.String(required=True),
        location_uuid=graphene.UUID(description="a location of any level: figures under it only"),
        level=graphene.String(description="R, D, W or V: the level figures are grouped at (default D)"),
        benefit_plan_uuid=graphene.UUID(), date_from=graphene.Date(), date_to=graphene.Date())

    def resolve_programme_reports(self, info):
        require(info.context.user)
        return [ReportDefinitionGQLType.of(d) for d in services.available(info.context.user)]

    def resolve_programme_report(self, info, name, location_uuid=None, level=None, benefit_plan_uuid=None,
                                 date_from=None, date_to=None):
        require(info.context.user)
        filters = services.ReportFilters(location_uuid=location_uuid, level=level or "D",
                                         benefit_plan_id=benefit_plan_uuid, date_from=date_from, date_to=date_to)
        result = services.run_report(name, info.context.user, filters)
        return ReportResultGQLType.of(result, with_svg=_selects_svg(info))
