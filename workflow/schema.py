import graphene

from core.rights import require
from workflow.gql_queries import WorkflowGQLType
from workflow.services import WorkflowService


class Query(graphene.ObjectType):
    workflow = graphene.List(WorkflowGQLType, name=graphene.String(required=False),
                             group=graphene.String(required=False))

    def resolve_workflow(self, info, name=None, group=None):
        # upstream declares this check and never calls it; ours: any right of a user who can import
        require(info.context.user, "workflow.gql_workflow_search_perms")
        workflows = WorkflowService.get_workflows(name=name, group=group)
        if not workflows.get("success"):
            raise ValueError(str(workflows))  # the spec's error text: the result dict
        return [WorkflowGQLType(name=w.name, group=w.group) for w in workflows["data"]["workflows"]]
