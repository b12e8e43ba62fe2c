"""Validate the queries the Dagger runner builds against the engine's own GraphQL schema, with no engine.

The SDK builds every query lazily: an object's ``_ctx.selections`` is its chain of fields. Each chain is turned
into a GraphQL document with the SDK's own ``Field.to_dsl`` and ``gql.dsl``, closed with ``{ id }`` (or nothing
for a scalar leaf), and checked with ``graphql.validate``. Object arguments (a CacheVolume, a Directory, a
Service, a Secret) are chains of their own: each is validated too and replaced by an ID placeholder.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import graphql
from dagger.client._core import Field
from dagger.client._guards import is_id_type, is_id_type_sequence
from gql.dsl import DSLQuery, DSLSchema, dsl_gql

SCHEMA_ENV = "DAGGER_SCHEMA_FILE"
# Introspected from the engine by scripts/introspect_schema.py; DAGGER_SCHEMA_FILE points elsewhere if set.
COMMITTED_SCHEMA = Path(__file__).resolve().parent / "dagger-schema.graphqls"


@functools.cache
def load_schema(path: str) -> graphql.GraphQLSchema:
    return graphql.build_schema(Path(path).read_text(encoding="utf-8"))


def engine_schema() -> graphql.GraphQLSchema:
    """The engine's schema: DAGGER_SCHEMA_FILE when set, else the one committed beside this module."""
    return load_schema(os.environ.get(SCHEMA_ENV) or str(COMMITTED_SCHEMA))


def _leaf_type(schema: graphql.GraphQLSchema, fields: list[Field]) -> graphql.GraphQLNamedType | None:
    type_: graphql.GraphQLNamedType | None = schema.query_type
    for f in fields:
        if not isinstance(type_, graphql.GraphQLObjectType) or f.name not in type_.fields:
            return None
        type_ = graphql.get_named_type(type_.fields[f.name].type)
    return type_


def validate(obj: Any, schema: graphql.GraphQLSchema, where: str = "query") -> list[str]:
    """Every schema error of the object's chain and of the chains of its object arguments; [] when valid."""
    errors: list[str] = []
    fields: list[Field] = []
    for index, selection in enumerate(obj._ctx.selections):  # pyright: ignore[reportPrivateUsage]
        args: dict[str, Any] = {}
        for name, value in selection.args.items():
            label = f"{where}.{selection.name}({name})"
            if is_id_type(value):
                errors += validate(value, schema, label)
                args[name] = f"placeholder-id-{index}"
            elif is_id_type_sequence(value):
                for i, item in enumerate(value):
                    errors += validate(item, schema, f"{label}[{i}]")
                args[name] = [f"placeholder-id-{index}" for _ in value]
            else:
                args[name] = value
        fields.append(Field(selection.type_name, selection.name, args))
    if not fields:
        return [f"{where}: empty selection"]
    leaf = _leaf_type(schema, fields)
    if isinstance(leaf, graphql.GraphQLObjectType):
        last = fields[-1]
        fields[-1] = Field(last.type_name, last.name, last.args, {"id": Field(leaf.name, "id", {})})
    root = functools.reduce(lambda child, parent: parent.add_child(child), reversed(fields))
    try:
        document = dsl_gql(DSLQuery(root.to_dsl(DSLSchema(schema)))).document
    except (graphql.GraphQLError, AttributeError, TypeError, KeyError) as e:
        return [*errors, f"{where}: cannot build query: {type(e).__name__}: {e}"]
    errors += [f"{where}: {e.message}" for e in graphql.validate(schema, document)]
    return errors
