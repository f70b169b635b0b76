import graphene


class WorkflowGQLType(graphene.ObjectType):
    """A workflow the caller may choose (the import dialogs post ``name`` and ``group`` back verbatim)."""

    name = graphene.String()
    group = graphene.String()
