"""Rights on ``node(id:)`` lookups, which reach a type without going through its list resolver."""
import graphene
from graphql import GraphQLError
from graphql_relay import from_global_id


class NodeRightsMixin:
    """Put before ``DjangoObjectType``; ``node_perms`` is a callable returning the rights list (read late,
    so ModuleConfiguration overrides apply). Without them ``node(id:)`` answers null."""

    node_perms = None

    @classmethod
    def get_node(cls, info, id):
        user = info.context.user
        perms = cls.node_perms() if callable(cls.node_perms) else cls.node_perms
        if not user or not user.is_authenticated or (perms is not None and not user.has_perms(perms)):
            return None
        return super().get_node(info, id)


def check_global_id(info, global_id):
    """Refuse with a clear message a ``node(id:)`` argument that is not a relay id of a node type of the schema
    (bad base64, no ``Type:`` prefix, unknown type, a type that is not a node): graphene raises a bare
    ``Exception`` for them, which clients would read as an internal error."""
    try:
        type_name, raw = from_global_id(global_id)
    except Exception:
        type_name, raw = "", ""
    graphql_type = info.schema.get_type(type_name) if type_name else None
    graphene_type = getattr(graphql_type, "graphene_type", None)
    meta = getattr(graphene_type, "_meta", None)
    if not raw or graphene.relay.Node not in (getattr(meta, "interfaces", None) or ()):
        raise GraphQLError(f"Invalid id {str(global_id)[:100]!r}: expected a record id as the API gives it")
    return type_name, raw
