"""Keys never leave the process: not on screen, not in history, exports or the log."""

from __future__ import annotations

import json
import logging

from core.simulator.embedded import embedded_root_url
from tui import logsetup
from tui.logsetup import configure_logging

SECRET = "sk-llmwbtest-0123456789abcdef"
PLAIN_SECRET = "plain-secret-value-42"  # no key-like shape: only the env var registration hides it


def test_a_key_is_never_printed_saved_or_logged(llmwb, home, monkeypatch):
    monkeypatch.setenv("LLMWB_TEST_KEY", SECRET)
    base_url = embedded_root_url() + "/v1"
    added = llmwb(
        "models", "add", "keyed", "--provider", "openai-compatible", "--model", "echo",
        "--base-url", base_url, "--api-key-env", "LLMWB_TEST_KEY",
    )  # fmt: skip
    assert added.code == 0
    outputs = [
        added,
        llmwb("--verbose", "run", "--model", "keyed", "--prompt", "hello", "--json", "--wire"),
        llmwb("--verbose", "run", "--model", "keyed", "--prompt", "hello"),
        llmwb("models", "list"),
        llmwb("models", "list", "--json"),
        llmwb("models", "export"),
        llmwb("history", "list", "--json"),
    ]
    run_id = json.loads(outputs[-1].out)[0]["id"]
    outputs.append(llmwb("history", "show", run_id, "--json", "--frames"))
    outputs.append(llmwb("history", "show", run_id, "--frames"))
    assert outputs[1].code == 0 and outputs[1].json_lines()[-1]["final_response"]["content"] == "hello"
    for result in outputs:
        assert SECRET not in result.out and SECRET not in result.err

    log_text = (home / "llmwb.log").read_text()
    assert "frame +" in log_text  # --verbose logged the wire frames, so the check below means something
    assert SECRET not in log_text


def test_log_filter_redacts_headers_tokens_and_named_env_values(home, monkeypatch):
    monkeypatch.setenv("SOME_CONFIG_VAR", PLAIN_SECRET)
    logsetup.register_key_env(["SOME_CONFIG_VAR"])
    configure_logging(verbose=False)
    log = logging.getLogger("llmwb.test")
    log.info("headers: {'Authorization': 'Bearer abcdef1234567890', 'x-api-key': 'ant-xyz-987654321'}")
    log.info("raw %s", f"Authorization: Bearer {SECRET}")
    log.info("in a url ?key=%s and alone %s", PLAIN_SECRET, "sk-ant-api03-ZZZZZZZZZZZZ")
    log.info("unregistered in a url: https://host/v1?alpha=1&api_key=%s", "qwerty-unknown-value")
    try:
        raise RuntimeError(f"server said: bad key {SECRET}")
    except RuntimeError:
        log.exception("request failed")
    text = (home / "llmwb.log").read_text()
    for secret in ("abcdef1234567890", "ant-xyz-987654321", SECRET, PLAIN_SECRET, "ZZZZZZZZZZZZ", "qwerty-unknown-value"):
        assert secret not in text
    assert text.count("[REDACTED]") >= 6
    assert "RuntimeError: server said: bad key [REDACTED]" in text


def test_a_registered_key_variables_value_is_redacted_wherever_it_appears(home, monkeypatch):
    """The value has no key-like shape and sits in plain text, so only the registration
    can hide it; a variable that is not registered is left alone."""
    monkeypatch.setenv("SOME_CONFIG_VAR", PLAIN_SECRET)
    monkeypatch.setenv("OTHER_VAR", "ordinary-words-here")
    monkeypatch.setenv("SHORT_VAR", "abc")
    logsetup.register_key_env(["SOME_CONFIG_VAR", "SHORT_VAR", None])
    assert logsetup.redact(f"the server echoed {PLAIN_SECRET} twice: {PLAIN_SECRET}!") == (
        "the server echoed [REDACTED] twice: [REDACTED]!"
    )
    assert logsetup.redact("ordinary-words-here") == "ordinary-words-here"
    # a value under 6 characters would redact ordinary words: kept
    assert logsetup.redact("abc def") == "abc def"
    # a longer registered value containing a shorter one is hidden whole
    monkeypatch.setenv("LONGER_VAR", PLAIN_SECRET + "-extended")
    logsetup.register_key_env(["LONGER_VAR"])
    assert logsetup.redact(f"x {PLAIN_SECRET}-extended y") == "x [REDACTED] y"


def test_configure_logging_is_idempotent_file_only_and_follows_the_level(home, monkeypatch, tmp_path):
    root = logging.getLogger()
    before = set(root.handlers)
    configure_logging(verbose=False)
    configure_logging(verbose=False)
    added = set(root.handlers) - before
    assert len(added) == 1
    (handler,) = added
    assert isinstance(handler, logging.FileHandler) and handler.baseFilename == str(home / "llmwb.log")
    assert root.level == logging.INFO
    logging.getLogger("llmwb").debug("not at INFO")
    configure_logging(verbose=True)
    assert root.level == logging.DEBUG and set(root.handlers) - before == {handler}
    monkeypatch.setenv("LLMWB_LOG_LEVEL", "DEBUG")
    configure_logging(verbose=False)
    assert root.level == logging.DEBUG

    monkeypatch.setenv("LLMWB_HOME", str(tmp_path / "elsewhere"))
    configure_logging(verbose=False)
    (moved,) = set(root.handlers) - before
    assert moved.baseFilename == str(tmp_path / "elsewhere" / "llmwb.log")
    assert "not at INFO" not in (home / "llmwb.log").read_text()
