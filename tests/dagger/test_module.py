"""The module's registration, as the engine's Python runtime does it, validated against the engine schema.

The SDK's ``Module._typedefs()`` turns every ``@object_type``/``@function``/``@check`` — argument types, defaults,
``DefaultPath``/``Ignore``, docs, cache policies — into one ``Query.module { withObject(...) … }`` chain and ends with
``await mod.id()``. Here ``id`` is intercepted: the chain is validated instead of sent (no engine needed).
"""

from __future__ import annotations

from typing import Any

import dagger
import graphql
import pytest

from tests.support.dagger_schema import validate


@pytest.fixture
def registration(monkeypatch: pytest.MonkeyPatch) -> Any:
    import jessy_ci

    module = jessy_ci.JessyCi.__dagger_module__  # pyright: ignore[reportAttributeAccessIssue]
    monkeypatch.setattr(module, "_main_name", "JessyCi")  # DAGGER_MAIN_OBJECT, set by the runtime
    monkeypatch.setattr(module, "_main", module.get_object("JessyCi"))
    captured: list[dagger.Module] = []

    async def fake_id(self: dagger.Module) -> str:
        captured.append(self)
        return "module-id"

    monkeypatch.setattr(dagger.Module, "id", fake_id)
    return module, captured


async def test_module_registration_is_a_valid_query(registration: Any, schema: graphql.GraphQLSchema) -> None:
    module, captured = registration
    assert await module._typedefs() == "module-id"
    [mod] = captured
    assert validate(mod, schema, "module") == []


async def test_every_function_and_check_is_registered(registration: Any) -> None:
    module, captured = registration
    await module._typedefs()
    names = function_names(captured[0]) - {""}
    assert names == {
        "lint",
        "test",
        "coverage",
        "bench",
        "bench_regression",
        "build",
        "build_image",
        "scan",
        "publish",
        "publish_dry_run",
        "ci",
        "reports",
        "verdict",
        "serve",
        "smoke",
        "load",
    }
    checks = checked_functions(captured[0])
    assert checks == {"lint", "test", "coverage", "bench_regression", "build", "scan", "publish_dry_run"}


def _walk(obj: Any) -> list[Any]:
    """Every selection of the chain and of the chains nested in its arguments."""
    found: list[Any] = []
    for selection in obj._ctx.selections:
        found.append(selection)
        for value in selection.args.values():
            for item in value if isinstance(value, list) else [value]:
                if hasattr(item, "_ctx"):
                    found.extend(_walk(item))
    return found


def function_names(obj: Any) -> set[str]:
    return {str(s.args["name"]) for s in _walk(obj) if s.type_name == "Query" and s.name == "function"}


def checked_functions(obj: Any) -> set[str]:
    """The functions whose chain carries withCheck: what `dagger check` runs."""
    found: set[str] = set()
    for selection in _walk(obj):
        if selection.type_name == "TypeDef" and selection.name == "withFunction":
            chain = [s.name for s in selection.args["function"]._ctx.selections]
            if "withCheck" in chain:
                found.add(str(selection.args["function"]._ctx.selections[0].args["name"]))
    return found
