"""Record real llama-server responses, byte for byte, as fixtures for the default suite.

    python tests/engine/record_llamacpp.py [OUT_DIR]   (default: tests/recorded/llamacpp)

Needs what the engine tests need (see llama_engine.py). Each case writes NAME.body (the
response body exactly as read off the socket) and NAME.json (the request, status,
content type, and where it came from); tests/recorded/llamacpp/test_llamacpp_replay.py
replays them from a loopback server.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import httpx2

from llama_engine import start_server

OUT_DIR = Path(__file__).resolve().parents[1] / "recorded" / "llamacpp"
COUNT = "Count from 1 to 20, separated by commas."
JAPANESE = "Translate to Japanese: good morning, thank you, see you tomorrow."

# name, path, body
CASES: list[tuple[str, str, dict]] = [
    ("openai-stream", "/v1/chat/completions", {
        "model": "gemma3-270m", "messages": [{"role": "user", "content": COUNT}], "max_tokens": 40,
        "temperature": 0, "stream": True, "stream_options": {"include_usage": True},
    }),
    ("openai-stream-multibyte", "/v1/chat/completions", {
        "model": "gemma3-270m", "messages": [{"role": "user", "content": JAPANESE}], "max_tokens": 40,
        "temperature": 0, "stream": True, "stream_options": {"include_usage": True},
    }),
    ("openai-nonstream", "/v1/chat/completions", {
        "model": "gemma3-270m", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": COUNT}],
        "max_tokens": 40, "temperature": 0, "stream": False,
    }),
    ("openai-error-400", "/v1/chat/completions", {
        "model": "gemma3-270m", "messages": [{"role": "user", "content": "hi"}], "n_probs": "many", "stream": True,
    }),
    ("anthropic-stream", "/v1/messages", {
        "model": "gemma3-270m", "max_tokens": 40, "messages": [{"role": "user", "content": COUNT}],
        "temperature": 0, "stream": True,
    }),
    ("anthropic-nonstream", "/v1/messages", {
        "model": "gemma3-270m", "max_tokens": 40, "messages": [{"role": "user", "content": JAPANESE}],
        "temperature": 0, "stream": False,
    }),
]  # fmt: skip


def record(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        server = start_server(Path(scratch) / "llama-server.log")
        try:
            with httpx2.Client(timeout=120.0, trust_env=False) as client:
                for name, path, body in CASES:
                    headers = {"content-type": "application/json"}
                    if path == "/v1/messages":
                        headers["anthropic-version"] = "2023-06-01"
                    with client.stream("POST", server.root_url + path, json=body, headers=headers) as response:
                        raw = b"".join(response.iter_raw())  # exactly the bytes sent (no decoding)
                    (out_dir / f"{name}.body").write_bytes(raw)
                    meta = {
                        "source": f"recorded here from llama-server {server.version}, gemma3-270m (Gemma 3 270M Q4_K_M)",
                        "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "method": "POST",
                        "path": path,
                        "request": body,
                        "status": response.status_code,
                        "content_type": response.headers.get("content-type"),
                    }
                    (out_dir / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
                    print(f"{name}: HTTP {response.status_code}, {len(raw)} bytes")
        finally:
            server.stop()


if __name__ == "__main__":
    record(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT_DIR)
