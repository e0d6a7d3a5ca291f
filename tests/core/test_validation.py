"""The base-URL and key-variable rules every way a model config arrives shares (form,
`llmwb models add`, YAML import): a key pasted into the wrong field is refused."""

from __future__ import annotations

import pytest

from core.validation import base_url_problem, env_name_problem

PORT = "the port must be a number from 1 to 65535"
CREDENTIALS = "no credentials in the URL: name the key's environment variable instead"
QUERY = "no ?query or #fragment: http(s)://host[:port][/path]"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/v1",
        "https://api.openai.com/v1",
        "http://localhost:1",
        "http://localhost:65535/v1/",
        "https://[::1]:11434",
    ],
)
def test_ordinary_base_urls_pass(url):
    assert base_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://sk-proj-abc123@api.openai.com/v1", CREDENTIALS),  # a key as the URL's username
        ("https://user:sk-123@host/v1", CREDENTIALS),
        ("https://:sk-123@host/v1", CREDENTIALS),  # a password without a username
        ("http://host/v1?key=sk-123", QUERY),
        ("http://host/v1#sk-123", QUERY),  # a fragment is never sent, but it would be stored
        ("http://host:0/v1", PORT),
        ("http://host:65536/v1", PORT),
        ("http://host:port/v1", PORT),
        ("http://my host/v1", "a URL has no spaces"),
        ("http://host/v1\t", "a URL has no spaces"),
        ("ftp://host/v1", "must start with http:// or https://"),
        ("host:8080/v1", "must start with http:// or https://"),
        ("http:///v1", "missing host: http(s)://host[:port][/path]"),
        ("http://:8080/v1", "missing host: http(s)://host[:port][/path]"),
    ],
)
def test_a_key_or_a_broken_url_is_refused_with_a_message_that_never_echoes_it(url, problem):
    message = base_url_problem(url)
    assert message == problem
    assert "sk-" not in message


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "_PRIVATE", "key2", "A"])
def test_environment_variable_names_pass(name):
    assert env_name_problem(name) is None


@pytest.mark.parametrize("name", ["sk-proj-abc123", "2KEY", "MY KEY", "KEY=", "KEY\n", "$KEY"])
def test_a_key_typed_where_the_variable_name_goes_is_refused(name):
    message = env_name_problem(name)
    assert message is not None and "OPENAI_API_KEY" in message
    assert "sk-proj" not in message and "$" not in message
