"""Bad input found in review: non-finite numbers, a closed stdout, an unreadable database."""

from __future__ import annotations

import io

import pytest

from core.store import Store


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_run_rejects_a_timeout_that_is_not_a_finite_number(llmwb, home, value):
    result = llmwb("run", "--model", "echo", "--prompt", "x", "--timeout", value)
    assert result.code == 2 and "--timeout must be a positive number" in result.err
    assert Store().list_runs() == []


@pytest.mark.parametrize("option", ["--price-input", "--price-output", "--price-cached-input", "--timeout"])
def test_models_add_rejects_nan_and_infinity(llmwb, option):
    for value in ("nan", "inf"):
        result = llmwb("models", "add", "x", "--provider", "openai", "--model", "m", option, value)
        assert result.code == 2, result.err
        assert "Traceback" not in result.err and "x:" in result.err
    assert "x " not in llmwb("models", "list").out


class _ClosedPipe(io.StringIO):
    """stdout whose reader went away (`llmwb run ... | head -1`)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_plain_run_into_a_closed_pipe_still_finishes_and_saves_the_run(llmwb, home, monkeypatch):
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    result = llmwb("run", "--model", "echo", "--prompt", "one two three")
    assert result.code == 0, result.err
    (run,) = Store().list_runs()
    assert run.status == "ok" and run.response["content"] == "one two three"


def test_history_into_a_closed_pipe_exits_quietly(llmwb, home, monkeypatch):
    assert llmwb("run", "--model", "echo", "--prompt", "x").code == 0
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    result = llmwb("history", "list")
    assert result.code == 1 and result.err == ""


def test_a_file_that_is_not_a_database_is_a_one_line_error(llmwb, home):
    (home / "llmwb.db").write_text("not a database")
    result = llmwb("models", "list")
    assert result.code == 2  # refused before anything is written to it
    assert result.err.startswith("llmwb models: ") and "is not an llmwb database" in result.err
    assert (home / "llmwb.db").read_text() == "not a database"
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--base-url", "http://user:sk-SECRET123456@127.0.0.1:9/v1", "no credentials in the URL"),
        ("--base-url", "http://127.0.0.1:9/v1?key=SECRET123456", "no ?query or #fragment"),
        ("--api-key-env", "sk-SECRET123456", "a variable NAME"),
    ],
)
def test_models_add_refuses_a_key_where_a_url_or_variable_name_goes(llmwb, home, option, value, message):
    """The TUI form refuses these; the CLI used to store the key, then print and save it
    with every run (endpoint, error line) and export it."""
    result = llmwb("models", "add", "x", "--provider", "openai-compatible", "--model", "m",
                   "--base-url", "http://127.0.0.1:9/v1", option, value)  # fmt: skip
    assert result.code == 2 and message in result.err
    assert "SECRET123456" not in result.err  # the refusal does not echo it either
    assert "SECRET123456" not in llmwb("models", "export").out


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_simulate_refuses_a_port_out_of_range(llmwb, port):
    result = llmwb("simulate", "--port", port)
    assert result.code == 2 and "a port from 0 to 65535" in result.err


@pytest.mark.parametrize(
    "url, message",
    [("api.example.com/v1", "must start with http:// or https://"), ("http://", "missing host")],
)
def test_models_add_checks_the_url_as_the_model_form_does(llmwb, home, url, message):
    result = llmwb("models", "add", "x", "--provider", "openai-compatible", "--model", "m", "--base-url", url)
    assert result.code == 2 and message in result.err
    assert "x" not in llmwb("models", "list").out.split()
