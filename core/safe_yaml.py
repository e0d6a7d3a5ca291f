"""`yaml.safe_load` for files llmwb did not write (config imports, scenario files).

safe_load refuses arbitrary Python objects but not everything hostile: aliases that
expand a small file into billions of values ("billion laughs"), an anchor used inside
itself (a recursive structure that later code walks forever), nesting that overflows
the stack, integers of thousands of digits. These are checked on the node graph,
before any Python object is built, and refused with a one-line YamlRefused.
"""

from __future__ import annotations

from typing import Any

import yaml

from core.validation import MAX_DEPTH, text_problem

MAX_NODES = 100_000  # values in the document once every alias is expanded


class YamlRefused(ValueError):
    """Text that is not YAML llmwb will read; the message is one line."""


class _NestingBoundLoader(yaml.SafeLoader):
    """SafeLoader that refuses flow nesting as its scanner meets it: PyYAML's scanner is
    quadratic in the flow depth (5,000 `[` took seconds of CPU before the depth check on
    the nodes could run)."""

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803 (PyYAML's name)
        if self.flow_level > MAX_DEPTH:
            raise YamlRefused(f"nests deeper than {MAX_DEPTH} levels")
        super().fetch_flow_collection_start(TokenClass)  # type: ignore[misc]


def load_yaml(source: str) -> Any:
    try:
        loader = _NestingBoundLoader(source)  # its reader already refuses control characters
    except yaml.YAMLError as error:
        raise YamlRefused(f"not valid YAML: {' '.join(str(error).split())}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set(), 0)
        data = loader.construct_document(node)
    except yaml.YAMLError as error:
        raise YamlRefused(f"not valid YAML: {' '.join(str(error).split())}") from None
    except RecursionError:
        raise YamlRefused(f"nests deeper than {MAX_DEPTH} levels") from None
    except (ValueError, OverflowError) as error:  # e.g. an integer of thousands of digits
        if isinstance(error, YamlRefused):
            raise
        reason = "a number has thousands of digits" if "digits" in str(error) else str(error)
        raise YamlRefused(f"a value cannot be read: {reason}") from None
    finally:
        loader.dispose()
    bad_text = _bad_text(data)
    if bad_text:
        raise YamlRefused(bad_text)
    return data


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_: set[int], depth: int) -> int:
    if depth > MAX_DEPTH:
        raise YamlRefused(f"nests deeper than {MAX_DEPTH} levels")
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        raise YamlRefused(f"line {node.start_mark.line + 1}: an alias refers to its own anchor (recursive)")
    open_.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes, open_, depth + 1) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            size += _expanded_size(key_node, sizes, open_, depth + 1)
            size += _expanded_size(value_node, sizes, open_, depth + 1)
    open_.discard(key)
    if size > MAX_NODES:
        raise YamlRefused(f"more than {MAX_NODES:,} values once aliases are expanded; not a config file")
    sizes[key] = size
    return size


def _bad_text(value: Any) -> str | None:
    """The first text in the document that cannot be saved as UTF-8, described."""
    if isinstance(value, str):
        problem = text_problem(value)
        return f"a text value {problem}" if problem else None
    if isinstance(value, dict):
        return next(filter(None, (_bad_text(k) or _bad_text(v) for k, v in value.items())), None)
    if isinstance(value, list):
        return next(filter(None, map(_bad_text, value)), None)
    return None
