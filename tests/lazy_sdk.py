"""The SDKs' modules for tests that use them directly, imported at first use: `import
anthropic` at a test module's top cost every xdist worker ~1.3 s of CPU while collecting,
whether or not it ran any test that needs the SDK (core loads the SDKs only for a run)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _Deferred:
    """Stands for a module; its first attribute read imports it (as llmwb does: no aiohttp)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):  # pytest's collector asks every module global for `__test__`
            raise AttributeError(attribute)
        return getattr(_module(self._name), attribute)


def _module(name: str) -> ModuleType:
    from core.providers.http import import_sdks

    import_sdks(name)
    return importlib.import_module(name)


anthropic: Any = _Deferred("anthropic")
