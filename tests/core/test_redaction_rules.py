"""What `core.redact` hides and what it leaves alone: the auth-header and key shapes in
free text, key values from the environment (by the variable's name, or because a model
config names it), and every string of a saved request. A key that shows up in a log
line, an error message or history is a leak; an ordinary word blanked is a lie about
what the wire said."""

from __future__ import annotations

import pytest

from core import redact as redaction
from core.redact import Scrubber, redact, register_key_env, registered_key_envs, scrub, scrub_json, scrubber, secret_values


@pytest.fixture(autouse=True)
def no_registered_names(monkeypatch):
    """Each test starts with no variable registered by a model config (it is process-wide)."""
    monkeypatch.setattr(redaction, "_named_key_envs", set())


# --- key shapes in free text -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('"Authorization": "Bearer abc.def-123"', '"Authorization": "Bearer [REDACTED]"'),
        ("authorization=bearer tok123}", "authorization=bearer [REDACTED]}"),
        ("sent Bearer abcdefgh1234 to the proxy", "sent Bearer [REDACTED] to the proxy"),
        ("x-api-key: k-123456", "x-api-key: [REDACTED]"),
        ("{'api_key': 'k-123456', 'n': 1}", "{'api_key': '[REDACTED]', 'n': 1}"),
        ("API-KEY=k-123456 next", "API-KEY=[REDACTED] next"),
        ("the key sk-proj_abc-12345 leaked", "the key [REDACTED] leaked"),
        ("GET https://h/v1?key=abc123&x=1", "GET https://h/v1?key=[REDACTED]&x=1"),
        ("GET https://h/v1?a=1&APIKEY=abc123 HTTP", "GET https://h/v1?a=1&APIKEY=[REDACTED] HTTP"),
        ("https://h/?access-token=abc123'", "https://h/?access-token=[REDACTED]'"),
        ("https://h/?Token=abc123\"", 'https://h/?Token=[REDACTED]"'),
    ],
)
def test_auth_headers_and_key_shapes_are_hidden_and_the_text_around_them_kept(text, shown):
    assert redact(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "Bearer short",  # too short to be a token: an English "bearer" sentence stays
        "ask-me-anything",  # sk- inside a word is not a key
        "sk-1234567",  # 7 characters after sk-: not key-shaped
        "see https://h/page?keyboard=us",  # a query parameter that only starts like one
    ],
)
def test_text_that_only_resembles_a_key_is_left_alone(text):
    assert redact(text) == text


# --- key values from the environment ----------------------------------------------


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "MY_APIKEY", "GROQ_KEY", "key", "HF_TOKEN", "AWS_SECRET", "DB_PASSWORD"])
def test_a_variable_named_like_a_key_has_its_value_hidden(monkeypatch, name):
    monkeypatch.setenv(name, "v4lue-of-a-key")
    assert scrub("the server echoed v4lue-of-a-key back") == "the server echoed [REDACTED] back"


@pytest.mark.parametrize("name", ["KEYBOARD_LAYOUT", "MONKEY_NAME", "HOME_DIR"])
def test_a_variable_not_named_like_a_key_is_left_alone(monkeypatch, name):
    monkeypatch.setenv(name, "plain-value-here")
    assert scrub("plain-value-here") == "plain-value-here"


def test_a_key_named_variable_is_hidden_from_eight_characters(monkeypatch):
    monkeypatch.setenv("SERVICE_TOKEN", "abcdefg")
    assert scrub("abcdefg") == "abcdefg"  # seven: could be an ordinary word
    monkeypatch.setenv("SERVICE_TOKEN", "abcdefgh")
    assert scrub("abcdefgh") == "[REDACTED]"


@pytest.mark.parametrize("path", ["/run/user/1000/agent.sock", "~/.keys/id", "./secrets/key.pem", "two words here"])
def test_paths_and_phrases_in_key_named_variables_are_not_hidden(monkeypatch, path):
    monkeypatch.setenv("SSH_AUTH_KEY", path)
    assert scrub(f"using {path}") == f"using {path}"


def test_a_registered_variable_is_hidden_whatever_its_name_from_six_characters(monkeypatch):
    monkeypatch.setenv("ACME_CREDENTIAL", "acme12")
    monkeypatch.setenv("ACME_SHORT", "acme1")
    assert scrub("acme12 acme1") == "acme12 acme1"  # not registered: the name is not key-like
    register_key_env(["ACME_CREDENTIAL", None, "", "ACME_SHORT"])
    assert scrub("acme12 acme1") == "[REDACTED] acme1"  # five characters stay: too short
    assert registered_key_envs() == ["ACME_CREDENTIAL", "ACME_SHORT"]


def test_a_registered_variable_that_is_not_set_hides_nothing(monkeypatch):
    monkeypatch.delenv("UNSET_CREDENTIAL", raising=False)
    register_key_env(["UNSET_CREDENTIAL"])
    assert redact("nothing to hide here") == "nothing to hide here"


def test_registered_names_are_listed_sorted(monkeypatch):
    register_key_env(["ZED_CRED"])
    register_key_env(["ALPHA_CRED", "ZED_CRED"])
    assert registered_key_envs() == ["ALPHA_CRED", "ZED_CRED"]


def test_a_name_given_for_one_call_is_hidden_in_that_call_only(monkeypatch):
    monkeypatch.setenv("ACME_CREDENTIAL", "acme-value-1")
    assert scrub("acme-value-1", ["ACME_CREDENTIAL", None]) == "[REDACTED]"
    assert scrubber(["ACME_CREDENTIAL"])("x acme-value-1") == "x [REDACTED]"
    assert redact("acme-value-1", ["ACME_CREDENTIAL"]) == "[REDACTED]"
    assert scrub("acme-value-1") == "acme-value-1"
    assert "acme-value-1" in secret_values(["ACME_CREDENTIAL"])


def test_a_key_containing_another_is_hidden_whole(monkeypatch):
    monkeypatch.setenv("SHORT_TOKEN", "abcdefgh")
    monkeypatch.setenv("LONG_TOKEN", "0000-abcdefgh")  # sorts before the short one by its characters
    assert scrub("[0000-abcdefgh]") == "[[REDACTED]]"
    values = secret_values()
    assert values.index("0000-abcdefgh") < values.index("abcdefgh")


def test_the_log_reuses_its_scan_of_names_until_asked_to_rescan(monkeypatch):
    monkeypatch.setenv("FIRST_TOKEN", "first-secret-1")
    redact("warm", rescan=True)
    monkeypatch.setenv("LATER_TOKEN", "later-secret-2")
    monkeypatch.setenv("FIRST_TOKEN", "first-secret-changed")
    # the names are the last scan's, the values are read now
    assert redact("later-secret-2 first-secret-changed", rescan=False) == "later-secret-2 [REDACTED]"
    assert redact("later-secret-2") == "[REDACTED]"  # by default a call rescans
    monkeypatch.delenv("LATER_TOKEN")  # gone since the last scan: nothing to hide, no error
    assert redact("later-secret-2", rescan=False) == "later-secret-2"


def test_a_first_call_without_rescan_still_scans(monkeypatch):
    monkeypatch.setattr(redaction, "_keyish_names", None)
    monkeypatch.setenv("FRESH_TOKEN", "fresh-secret-3")
    assert redact("fresh-secret-3", rescan=False) == "[REDACTED]"


# --- scrubbers and saved requests -------------------------------------------------


def test_a_scrubber_replaces_every_occurrence_and_is_false_when_it_has_nothing_to_hide():
    scrub_text = Scrubber(["secret-one", "secret-two"])
    assert scrub_text("secret-one, secret-two, secret-one") == "[REDACTED], [REDACTED], [REDACTED]"
    assert bool(scrub_text) is True
    assert bool(Scrubber([])) is False
    assert Scrubber([])("secret-one") == "secret-one"


def test_a_saved_request_has_keys_hidden_in_every_string_keys_included():
    scrub_text = Scrubber(["secret-one"])
    request = {
        "messages": [{"role": "user", "content": "my key is secret-one"}, "secret-one"],
        "headers": {"secret-one": "value secret-one", 7: "secret-one"},
        "params": {"n": 3, "stream": True, "stop": None, "top_p": 0.5},
    }
    assert scrub_json(request, scrub_text) == {
        "messages": [{"role": "user", "content": "my key is [REDACTED]"}, "[REDACTED]"],
        "headers": {"[REDACTED]": "value [REDACTED]", 7: "[REDACTED]"},
        "params": {"n": 3, "stream": True, "stop": None, "top_p": 0.5},
    }
