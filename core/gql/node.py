"""Rights on ``node(id:)`` lookups, which reach a type without going through its list resolver."""


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
