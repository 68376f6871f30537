"""Handlers that take one parameter per provider key, derived from the provider rows.

/generate's parameters are named (scripts call it by name: ../shared/interfaces.md), and among them is
one key box per key of kmc_ui/providers.py (KEY_ENV_NAMES). So that a new provider's key reaches the
handlers without editing them, `keyed` gives a handler taking `*args` the signature Gradio reads:
`head` names, then the key fields, then `tail` names, then the injected ones (gr.Request ...), and
`Call` reads the values back by name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from kmc_ui.providers import KEY_ENV_NAMES

F = TypeVar("F", bound=Callable[..., Any])
POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD


def keyed(head: Sequence[str], tail: Sequence[str], injected: Mapping[str, Any]) -> Callable[[F], F]:
    """Give `fn(*args)` the named signature head + keys + tail + injected (annotated for Gradio)."""
    names = [*head, *KEY_ENV_NAMES, *tail]
    params = [inspect.Parameter(name, POSITIONAL) for name in names]
    params += [inspect.Parameter(name, POSITIONAL, annotation=hint) for name, hint in injected.items()]

    def wrap(fn: F) -> F:
        fn.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        fn.__annotations__ = dict(injected)
        fn.__kmc_names__ = [*names, *injected]  # type: ignore[attr-defined]
        return fn

    return wrap


class Call:
    """The values a keyed handler was called with, by name; `keys` maps each key field to its value."""

    def __init__(self, fn: Callable[..., Any], args: Sequence[Any]) -> None:
        self.values = dict(zip(fn.__kmc_names__, args, strict=True))  # type: ignore[attr-defined]
        self.keys = {field: self.values[field] for field in KEY_ENV_NAMES}

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def take(self, names: Sequence[str]) -> list[Any]:
        return [self.values[name] for name in names]
