"""One GraphQL schema stitched from every installed module's ``schema.Query`` / ``schema.Mutation``."""
import logging

import graphene
from django.conf import settings

logger = logging.getLogger(__name__)


class SecuredNodeField(graphene.relay.node.NodeField):
    """``node(id:)`` for logged-in users only; each type's get_node/get_queryset then applies its own rights."""

    def wrap_resolve(self, parent_resolver):
        resolve_node = super().wrap_resolve(parent_resolver)

        def resolve(root, info, **args):
            from core.gql.node import check_global_id
            from core.rights import require

            require(info.context.user)
            check_global_id(info, args.get("id"))
            return resolve_node(root, info, **args)

        return resolve


def module_schemas(modules):
    from core.module_config import module_parts

    return module_parts("schema", modules)


def build_schema(modules=None):
    modules = list(modules if modules is not None else settings.OPENIMIS_MODULES)
    queries, mutations = [], []
    for module, schema_module in module_schemas(modules):
        if hasattr(schema_module, "Query"):
            queries.append(schema_module.Query)
        if hasattr(schema_module, "Mutation"):
            mutations.append(schema_module.Mutation)
    _check_unique_fields(queries, "Query")
    _check_unique_fields(mutations, "Mutation")

    query = type("Query", (*queries, graphene.ObjectType), {"node": SecuredNodeField(graphene.relay.Node)})
    mutation = type("Mutation", (*mutations, graphene.ObjectType), {}) if mutations else None
    return graphene.Schema(query=query, mutation=mutation)


def _check_unique_fields(classes, kind):
    seen = {}
    for cls in classes:
        for name, value in cls.__dict__.items():
            if isinstance(value, (graphene.Field, graphene.types.unmountedtype.UnmountedType)):
                if name in seen and seen[name] is not cls:
                    raise ImproperlyConfiguredSchema(
                        f"{kind} field {name} is defined by both {seen[name].__module__} and {cls.__module__}")
                seen[name] = cls


class ImproperlyConfiguredSchema(Exception):
    pass


schema = build_schema()
