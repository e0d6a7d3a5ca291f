"""Logging to `llmwb.log` in the data dir — never to the screen (it would tear the
TUI and pollute the CLI's stdout/stderr contract) — with secrets redacted.

Redaction is a filter on the handler, so it covers every logger that reaches the
file (the SDKs' and httpx's debug logs included): bearer tokens, `x-api-key`
headers, `sk-…`-shaped keys, and the values of the environment variables model
configs name as their key (`register_key_env`).
"""

from __future__ import annotations

import logging
import os
import re
from logging.handlers import RotatingFileHandler
from typing import Iterable

LOG_FILE = "llmwb.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
REDACTED = "[REDACTED]"

_PATTERNS = [
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?\s*bearer\s+)[^\s'\",}]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)((?:x-api-key|api[_-]key)['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
    re.compile(r"()\bsk-[A-Za-z0-9_-]{8,}"),
    # keys passed in a URL's query string (?key=…, &api_key=…, ?token=…)
    re.compile(r"(?i)([?&](?:key|api[_-]?key|access[_-]?token|token)=)[^&\s'\"]+"),
]

# Environment variables whose values must never reach the log: the ones model
# configs name, plus anything that looks like a key by its name (found when
# logging is configured: scanning the environment per record would cost more
# than the rest of the logging together). Values are read per record, so a key
# set later under a known name is still hidden.
_key_envs: set[str] = set()
_KEYISH_NAME = re.compile(r"(?i)(key|token|secret|passw)")


def register_key_env(names: Iterable[str | None]) -> None:
    """Add environment variable names whose values are redacted from the log."""
    _key_envs.update(name for name in names if name)


def _secret_values() -> list[str]:
    values = {os.environ.get(name, "") for name in _key_envs}
    # Longest first, so a key containing another key is hidden whole; very short
    # values would redact ordinary words.
    return sorted((v for v in values if len(v) >= 6), key=len, reverse=True)


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    for value in _secret_values():
        if value in text:
            text = text.replace(value, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with secrets replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _LlmwbFileHandler(RotatingFileHandler):
    """Marks the handler this module installed, so a second call replaces, not adds.
    Its files are private (0600): they can hold prompts and wire frames."""

    def _open(self):  # type: ignore[no-untyped-def]
        from pathlib import Path

        from core.paths import private_file

        private_file(Path(self.baseFilename))  # also each new file after a rotation
        return super()._open()


class _NoLogFile(logging.NullHandler):
    """Stands in when the log file cannot be opened."""


def configure_logging(verbose: bool = False) -> logging.Handler:
    """Send logging to the rotating file; INFO, or DEBUG with `verbose` or
    LLMWB_LOG_LEVEL=DEBUG. Idempotent: called again it keeps one handler (re-pointed
    if the data dir changed) and updates the level."""
    from core.paths import data_dir  # not core.store: that imports SQLAlchemy

    register_key_env(name for name in os.environ if _KEYISH_NAME.search(name))
    debug = verbose or os.environ.get("LLMWB_LOG_LEVEL", "").upper() == "DEBUG"
    level = logging.DEBUG if debug else logging.INFO
    root = logging.getLogger()
    path = str(data_dir() / LOG_FILE)

    handler: logging.Handler | None = None
    for existing in list(root.handlers):
        if isinstance(existing, (_LlmwbFileHandler, _NoLogFile)):
            if getattr(existing, "baseFilename", None) == os.path.abspath(path) and handler is None:
                handler = existing
            else:
                root.removeHandler(existing)
                existing.close()
    if handler is None:
        try:
            handler = _LlmwbFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
        except OSError:
            # An unwritable log must not stop the tool, nor let logging's last-resort
            # handler print warnings on the screen.
            handler = _NoLogFile()
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    handler.setLevel(level)
    root.setLevel(level)
    return handler
