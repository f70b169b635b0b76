"""Contracts of the broker: an adaptor per engine (used as a class) and the handlers it answers."""
import abc


class WorkflowHandler(abc.ABC):
    """One runnable workflow of an engine. ``run(data)`` answers a result dict (workflow.util.result) and never
    raises: synchronous engines put the workflow's outcome in ``data``, asynchronous ones what identifies the run."""

    def __init__(self, name, group, system):
        self.name = name
        self.group = group
        self.system = system

    @abc.abstractmethod
    def run(self, data):
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} system={self.system!r} group={self.group!r} name={self.name!r}>"


class WorkflowAdaptor(abc.ABC):
    """An engine (``system`` is its keyword and the registry key). Classmethods only; never raise: errors are
    answered as ``success: false`` with ``message`` and ``details``."""

    system: str = None

    @classmethod
    @abc.abstractmethod
    def get_groups(cls):
        """Result with ``data = {"groups": [str, …]}``."""

    @classmethod
    @abc.abstractmethod
    def get_workflows(cls, name=None, group=None):
        """Result with ``data = {"workflows": [WorkflowHandler, …]}``; applies both filters (exact, None = all)."""
