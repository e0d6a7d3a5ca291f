"""Logging to `llmwb.log` in the data dir — never to the screen (it would tear the
TUI and pollute the CLI's stdout/stderr contract) — with secrets redacted.

Redaction is a filter on the handler, so it covers every logger that reaches the
file (the SDKs' and httpx's debug logs included), with the one redaction the
core applies to everything it stores and shows (`core.redact`): bearer tokens,
`x-api-key` headers, `sk-…`-shaped keys, and the values of key-bearing
environment variables (the ones model configs name: `register_key_env`).
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler

from core.redact import REDACTED, register_key_env, secret_values
from core.redact import redact as core_redact

__all__ = ["REDACTED", "configure_logging", "redact", "register_key_env"]

LOG_FILE = "llmwb.log"
MAX_BYTES = 1_000_000
BACKUPS = 3


def redact(text: str) -> str:
    # The names that look like keys were scanned when logging was configured.
    return core_redact(text, rescan=False)


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

    secret_values()  # scans the environment for names that look like keys, once
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
