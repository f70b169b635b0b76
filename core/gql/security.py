"""GraphQL validation rules: query depth, alias count, introspection switch; no schema hints without it."""
import re

from django.conf import settings
from graphql import GraphQLError, ValidationRule, specified_rules
from graphql.language import (FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode,
                              OperationDefinitionNode)


class _Limits:
    @staticmethod
    def depth():
        return getattr(settings, "GRAPHQL_MAX_DEPTH", 12)

    @staticmethod
    def aliases():
        return getattr(settings, "GRAPHQL_MAX_ALIASES", 15)


def _fragments(document):
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _depth(node, fragments, memo, visiting=frozenset()):
    """Depth of ``node``'s selections below it; a fragment's own depth is computed once (memo), so a document
    spreading fragments many times costs linear time; a fragment cycle (refused by the standard rules) stops."""
    if node.selection_set is None:
        return 0
    deepest = 0
    for sel in node.selection_set.selections:
        if isinstance(sel, FieldNode):
            if sel.name.value.startswith("__"):
                continue
            deepest = max(deepest, 1 + _depth(sel, fragments, memo, visiting))
        elif isinstance(sel, InlineFragmentNode):
            deepest = max(deepest, _depth(sel, fragments, memo, visiting))
        elif isinstance(sel, FragmentSpreadNode):
            deepest = max(deepest, _spread(sel.name.value, fragments, memo, visiting, _depth))
    return deepest


def _aliases(node, fragments, memo, visiting=frozenset()):
    """Aliased fields ``node`` would run, each fragment counted at every place it is spread (its own count is
    computed once, memo); a fragment cycle (refused by the standard rules) counts nothing more."""
    if node.selection_set is None:
        return 0
    count = 0
    for sel in node.selection_set.selections:
        if isinstance(sel, FieldNode):
            count += (sel.alias is not None) + _aliases(sel, fragments, memo, visiting)
        elif isinstance(sel, InlineFragmentNode):
            count += _aliases(sel, fragments, memo, visiting)
        elif isinstance(sel, FragmentSpreadNode):
            count += _spread(sel.name.value, fragments, memo, visiting, _aliases)
    return count


def _spread(name, fragments, memo, visiting, measure):
    if name in memo:
        return memo[name]
    if name in visiting or name not in fragments:
        return 0
    value = memo[name] = measure(fragments[name], fragments, memo, visiting | {name})
    return value


class QueryDepthLimitRule(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
        depth = _depth(node, _fragments(self.context.document), {})
        limit = _Limits.depth()
        if depth > limit:
            self.report_error(GraphQLError(f"Query depth {depth} exceeds the maximum allowed depth of {limit}", node))


class AliasLimitRule(ValidationRule):
    """At most GRAPHQL_MAX_ALIASES aliased fields per operation, counted as they would run: a fragment's aliases
    count once per spread (a fragment reused under several aliased parents multiplies them)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
        count = _aliases(node, _fragments(self.context.document), {})
        limit = _Limits.aliases()
        if count > limit:
            self.report_error(GraphQLError(f"Too many aliases: at most {limit} are allowed, "
                                           f"this operation runs {count}", node))


class NoIntrospectionRule(ValidationRule):
    def enter_field(self, node: FieldNode, *_args):
        if node.name.value in ("__schema", "__type"):
            self.report_error(GraphQLError("GraphQL introspection is disabled", node))


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def hide_suggestions(message):
    """graphql-core's "Did you mean 'x'?" hints name schema fields, arguments and types: with introspection off
    they are cut from every message a client reads (validation and variable errors alike, any caller)."""
    if not isinstance(message, str) or getattr(settings, "GRAPHQL_INTROSPECTION", False):
        return message
    return _SUGGESTION.sub("", message)


def validation_rules():
    # graphql-core replaces (does not extend) the standard rules with the ones passed: keep them.
    rules = [*specified_rules, QueryDepthLimitRule, AliasLimitRule]
    if not getattr(settings, "GRAPHQL_INTROSPECTION", False):
        rules.append(NoIntrospectionRule)
    return rules
