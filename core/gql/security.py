"""GraphQL validation rules: query depth, alias count, introspection switch."""
from django.conf import settings
from graphql import GraphQLError, ValidationRule, specified_rules
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode


class _Limits:
    @staticmethod
    def depth():
        return getattr(settings, "GRAPHQL_MAX_DEPTH", 12)

    @staticmethod
    def aliases():
        return getattr(settings, "GRAPHQL_MAX_ALIASES", 15)


def _depth(node, fragments, seen, level=0):
    if node.selection_set is None:
        return level
    deepest = level
    for sel in node.selection_set.selections:
        if isinstance(sel, FieldNode):
            if sel.name.value.startswith("__"):
                continue
            deepest = max(deepest, _depth(sel, fragments, seen, level + 1))
        elif isinstance(sel, InlineFragmentNode):
            deepest = max(deepest, _depth(sel, fragments, seen, level))
        elif isinstance(sel, FragmentSpreadNode):
            name = sel.name.value
            if name in seen or name not in fragments:
                continue
            deepest = max(deepest, _depth(fragments[name], fragments, seen | {name}, level))
    return deepest


class QueryDepthLimitRule(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
        fragments = {f.name.value: f for f in self.context.document.definitions if hasattr(f, "type_condition")}
        depth = _depth(node, fragments, frozenset())
        limit = _Limits.depth()
        if depth > limit:
            self.report_error(GraphQLError(f"Query depth {depth} exceeds the maximum allowed depth of {limit}", node))


class AliasLimitRule(ValidationRule):
    def __init__(self, context):
        super().__init__(context)
        self.count = 0
        self.reported = False

    def enter_field(self, node: FieldNode, *_args):
        if node.alias is not None:
            self.count += 1
            limit = _Limits.aliases()
            if self.count > limit and not self.reported:
                self.reported = True
                self.report_error(GraphQLError(f"Too many aliases: at most {limit} are allowed", node))


class NoIntrospectionRule(ValidationRule):
    def enter_field(self, node: FieldNode, *_args):
        if node.name.value in ("__schema", "__type"):
            self.report_error(GraphQLError("GraphQL introspection is disabled", node))


def validation_rules():
    # graphql-core replaces (does not extend) the standard rules with the ones passed: keep them.
    rules = [*specified_rules, QueryDepthLimitRule, AliasLimitRule]
    if not getattr(settings, "GRAPHQL_INTROSPECTION", False):
        rules.append(NoIntrospectionRule)
    return rules
