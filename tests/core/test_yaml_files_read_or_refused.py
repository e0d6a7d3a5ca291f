"""A YAML file llmwb did not write (a config import, a scenario): read when it holds what
the params box would accept, refused in one line that says why when it does not."""

from __future__ import annotations

import json

import pytest

from core.safe_yaml import YamlRefused, load_yaml
from core.validation import json_value_problem


def refusal(source: str) -> str:
    with pytest.raises(YamlRefused) as refused:
        load_yaml(source)
    message = str(refused.value)
    assert "\n" not in message
    return message


def nested_lists(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


def block_sequences(levels: int) -> str:
    return "- " * levels + "1"


def block_mappings(levels: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(levels - 1)) + "  " * (levels - 1) + f"k{levels - 1}: 1\n"


@pytest.mark.parametrize("document", [nested_lists, block_sequences, block_mappings])
def test_nesting_as_deep_as_params_allow_is_read_and_one_level_more_refused(document) -> None:  # type: ignore[no-untyped-def]
    assert json_value_problem(json.loads(nested_lists(64))) is None  # what the params box takes
    assert load_yaml(document(64)) is not None
    assert json_value_problem(json.loads(nested_lists(65))) is not None
    assert refusal(document(65)) == "nests deeper than 64 levels"


def test_an_empty_list_at_the_deepest_level_is_read_as_the_params_box_reads_it() -> None:
    assert json_value_problem(json.loads(nested_lists(65, ""))) is None
    assert load_yaml(nested_lists(65, "")) == json.loads(nested_lists(65, ""))


def test_nesting_deeper_than_python_can_walk_is_refused_the_same_way() -> None:
    assert refusal(block_sequences(3000)) == "nests deeper than 64 levels"


def test_aliases_count_every_value_they_expand_to() -> None:
    # A list of 369 copies of one 270-value list: 1 + 369 × 271 = 100,000 values, the most read.
    at_limit = "[&a [" + ", ".join(["x"] * 270) + "]" + ", *a" * 368 + "]"
    assert len(load_yaml(at_limit)) == 369
    # 1 + 400 × 250 = 100,001.
    over = "[&a [" + ", ".join(["x"] * 249) + "]" + ", *a" * 399 + "]"
    assert refusal(over) == "more than 100,000 values once aliases are expanded; not a config file"


def test_aliased_mappings_count_their_keys_and_values() -> None:
    # 1 root + a 3-value pair + 78 pairs (key + a mapping of 640 pairs) = 100,000 values.
    def document(pairs: int, size: int) -> str:
        inner = "{" + ", ".join(f"k{i}: v" for i in range(size)) + "}"
        return "z: [x]\na: &m " + inner + "\n" + "".join(f"b{i}: *m\n" for i in range(pairs - 1))

    assert len(load_yaml(document(78, 640))) == 79
    assert refusal(document(100, 499)).startswith("more than 100,000 values")  # 1 + 3 + 100 × 1,000 = 100,004


def test_an_alias_inside_its_own_anchor_names_the_line() -> None:
    assert refusal("name: demo\n\nsteps: &r\n  - 1\n  - *r\n") == "line 3: an alias refers to its own anchor (recursive)"


def test_broken_yaml_says_where_in_one_line() -> None:
    message = refusal("a: 1\nb: [1, 2\n")
    assert message.startswith("not valid YAML: while parsing a flow sequence")
    assert 'in "<unicode string>", line 2, column 4: b: [1, 2 ^' in message


def test_a_control_character_is_refused_by_position() -> None:
    assert refusal("a: \x07\n") == (
        'not valid YAML: unacceptable character #x0007: special characters are not allowed in "<unicode string>", position 3'
    )


@pytest.mark.parametrize("source, message", [
    ("n: " + "9" * 5000, "a value cannot be read: a number has thousands of digits"),
    ("d: 2026-13-45", "a value cannot be read: month must be in 1..12"),
])  # fmt: skip
def test_values_python_cannot_build_are_refused_with_the_reason(source: str, message: str) -> None:
    assert refusal(source) == message


@pytest.mark.parametrize("source", ['a: "\\ud800"', '"\\ud800": 1', 'a: [x, {b: "\\udfff"}]', 'a: {"\\udfff": x}'])
def test_text_that_cannot_be_saved_is_refused_wherever_it_sits(source: str) -> None:
    assert refusal(source) == "a text value is not valid UTF-8 text (undecodable byte at character 0)"


def test_good_text_keys_and_values_are_read() -> None:
    assert load_yaml("名前: café\nlist: [a, {b: ☕}]\n") == {"名前": "café", "list": ["a", {"b": "☕"}]}
