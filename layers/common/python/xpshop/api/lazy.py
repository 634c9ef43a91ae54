"""A package whose names are loaded from its submodules on first use (PEP 562), so a function's cold start
imports only the submodule of the models it names (`tests/unit/test_imports.py`)."""

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def exports(
    package: str, modules: Mapping[str, str], defined: Callable[[], Mapping[str, Any]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`: `modules` maps each name to the submodule defining it;
    `defined` gives the package's own globals."""

    def getattr_(name: str) -> Any:
        module = modules.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{module}"), name)

    def dir_() -> list[str]:
        return sorted([*defined(), *modules])

    return getattr_, dir_
