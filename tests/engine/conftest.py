"""The engine tests' llama-server: started once per session on 127.0.0.1 with a free
port, or the tests skip with the reason (no binary, no model)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llama_engine import EngineMissing, LlamaServer, start_server


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    try:
        server = start_server(tmp_path_factory.mktemp("llama") / "llama-server.log")
    except EngineMissing as reason:
        pytest.skip(f"engine test: {reason}")
    try:
        yield server
    finally:
        server.stop()
