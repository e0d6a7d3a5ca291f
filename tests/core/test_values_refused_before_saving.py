"""Values refused before a config or a run is saved, with the words the user reads: JSON
that some reader would reject (NaN, 64-bit overflow, lone surrogates, non-text keys,
deep nesting, sets), request params by name (stream_options, max_retries), and the
exact wording for a broken URL or a key typed where a variable name goes."""

from __future__ import annotations

import pytest

from core.validation import base_url_problem, env_name_problem, json_value_problem, params_problem, text_problem


def nested(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_is_allowed_to_64_levels_and_refused_beyond():
    assert json_value_problem(nested(64)) is None
    assert json_value_problem(nested(65)) == "nests deeper than 64 levels"
    deep_dict: object = 1
    for _ in range(64):
        deep_dict = {"k": deep_dict}
    assert json_value_problem(deep_dict) is None
    assert json_value_problem({"k": deep_dict}) == "nests deeper than 64 levels"


@pytest.mark.parametrize("value", [None, True, False, 0, 2**63 - 1, -(2**63), 1.5, "text", [], {}, (1, "a"), {"a": [None, 2.0]}])
def test_values_every_json_reader_accepts_pass(value):
    assert json_value_problem(value) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (2**63, "has a number too large (beyond 64 bits)"),
        (-(2**63) - 1, "has a number too large (beyond 64 bits)"),
        (float("nan"), "has NaN or infinity, which JSON cannot carry"),
        (float("-inf"), "has NaN or infinity, which JSON cannot carry"),
        ("ab\udc80", "is not valid UTF-8 text (undecodable byte at character 2)"),
        ({1: "one"}, "has a non-text key 1"),
        ({"ok\udc80": 1}, "is not valid UTF-8 text (undecodable byte at character 2)"),
        ({"a": 1, "b": [1, float("inf")]}, "has NaN or infinity, which JSON cannot carry"),
        ((1, 2**64), "has a number too large (beyond 64 bits)"),
        ({1, 2}, "has a value JSON cannot carry (set)"),
        (b"bytes", "has a value JSON cannot carry (bytes)"),
    ],
)
def test_values_some_reader_would_reject_are_named(value, problem):
    assert json_value_problem(value) == problem


def test_text_problem_points_at_the_first_undecodable_character():
    assert text_problem("fine, ünïcode") is None
    assert text_problem("x\udcff\udcfe") == "is not valid UTF-8 text (undecodable byte at character 1)"


def test_params_are_refused_by_name_first_problem_first():
    assert params_problem({"temperature": 0.2, "top_p": float("nan"), "seed": 2**70}) == (
        "top_p has NaN or infinity, which JSON cannot carry"
    )
    assert params_problem({"bad\udc80name": 1}) == "a name is not valid UTF-8 text (undecodable byte at character 3)"
    assert params_problem({"temperature": 0.2, "metadata": {"user": "u"}}) is None


@pytest.mark.parametrize("options", [None, {"include_usage": True}, {}])
def test_stream_options_may_be_an_object_or_absent(options):
    assert params_problem({"stream_options": options}) is None


@pytest.mark.parametrize("options", [True, "include_usage", ["include_usage"]])
def test_stream_options_that_are_not_an_object_are_refused(options):
    assert params_problem({"stream_options": options}) == 'stream_options must be an object, e.g. {"include_usage": true}'


@pytest.mark.parametrize("retries", [None, 0, 5, 20])
def test_max_retries_from_0_to_20_pass(retries):
    assert params_problem({"max_retries": retries}) is None


@pytest.mark.parametrize("retries", [True, False, 1.0, "3", -1, 21])
def test_other_max_retries_are_refused(retries):
    assert params_problem({"max_retries": retries}) == "max_retries must be a whole number from 0 to 20"


def test_a_url_that_cannot_be_parsed_says_how_to_write_one():
    assert base_url_problem("http://[::1") == "not a URL: http(s)://host[:port][/path] (IPv6 hosts in [brackets])"


def test_a_key_in_the_variable_name_field_gets_the_exact_hint():
    assert env_name_problem("sk-abc") == "a variable NAME such as OPENAI_API_KEY (letters, digits, _), not the key itself"
