"""GraphQL types of the reports: a report's definition and its result (rows and totals as JSON)."""
import graphene
from graphene.types.generic import GenericScalar


class ReportColumnGQLType(graphene.ObjectType):
    key = graphene.String()
    label = graphene.String()


class ReportDefinitionGQLType(graphene.ObjectType):
    name = graphene.String()
    app = graphene.String()
    title = graphene.String()
    description = graphene.String()
    filters = graphene.List(graphene.String)
    columns = graphene.List(ReportColumnGQLType)

    @staticmethod
    def of(found):
        return ReportDefinitionGQLType(
            name=found.name, app=found.app, title=found.title, description=found.description,
            filters=list(found.filters),
            columns=[ReportColumnGQLType(key=k, label=label) for k, label in found.columns])


class ReportResultGQLType(graphene.ObjectType):
    name = graphene.String()
    title = graphene.String()
    app = graphene.String()
    generated_at = graphene.DateTime()
    elapsed_ms = graphene.Float()
    as_of = graphene.DateTime(description="set when the figures come from summary tables: their refresh time")
    filters = GenericScalar()
    columns = graphene.List(ReportColumnGQLType)
    rows = GenericScalar(description="the rows: a list of {column key: value}; amounts are decimal strings")
    totals = GenericScalar(description="the sum of every figure column over the rows")
    svg = graphene.String(description="the report's chart as an SVG document")

    @staticmethod
    def of(result, with_svg=False):
        data = result.as_json()
        svg = None
        if with_svg:
            from reports.svg import chart_svg

            svg = chart_svg(result)
        return ReportResultGQLType(
            name=result.name, title=result.definition.title, app=result.definition.app,
            generated_at=result.generated_at, elapsed_ms=round(result.elapsed_ms, 1), as_of=result.as_of,
            filters=data["filters"],
            columns=[ReportColumnGQLType(key=c["key"], label=c["label"]) for c in data["columns"]],
            rows=data["rows"], totals=data["totals"], svg=svg)
