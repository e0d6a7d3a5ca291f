"""First start: demo model configs on the embedded simulator, so the workbench does
something useful with no key and no network.

Seeding happens once per database file. The `meta` table (migration 2) records
that it happened, so a user who deletes the demo models does not get them back;
"no configs yet" alone cannot tell a fresh file from one the user emptied.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import insert, text

from core.store.migrations import SEEDED_KEY
from core.store.models import ModelConfig, ToolDefinition

# Illustrative prices (USD per million tokens) so cost shows; they bill nothing.
_SMALL = {"price_input": 0.15, "price_cached_input": 0.075, "price_output": 0.60}
_REASONER = {"price_input": 0.55, "price_cached_input": 0.14, "price_output": 2.19}
_LARGE = {"price_input": 3.00, "price_cached_input": 0.30, "price_output": 15.00}

# config name (= scenario name), prices, params
_DEMOS: list[tuple[str, dict[str, float], dict[str, object]]] = [
    ("demo-fast", _SMALL, {}),
    ("demo-chinese", _SMALL, {}),
    ("demo-long", _SMALL, {}),
    ("demo-reasoning", _REASONER, {}),
    ("demo-responses", _REASONER, {}),
    ("demo-tools", _SMALL, {}),
    ("demo-claude", _LARGE, {}),
    ("demo-ollama", {}, {}),  # a local model: no price
    # The scenario cuts the stream on purpose; retrying would hide that.
    ("demo-flaky", _SMALL, {"max_retries": 0}),
    ("echo", _SMALL, {}),
]


def demo_tools() -> list[ToolDefinition]:
    """The tool demo-tools and demo-claude call, with a canned result so a tool round
    trip works from the first start."""
    return [
        ToolDefinition(
            name="get_weather",
            description="Current weather for a city",
            parameters={
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
            canned_result='{"temperature": 18, "unit": "celsius", "conditions": "light rain"}',
        )
    ]


def demo_configs() -> list[ModelConfig]:
    """The simulator configs a fresh database starts with (no key, no base URL:
    the embedded simulator answers)."""
    return [
        ModelConfig(name=name, provider="simulator", model=name, params=dict(params), **prices)
        for name, prices, params in _DEMOS
    ]


def ensure_seeded(store) -> bool:  # type: ignore[no-untyped-def]  (core.store.Store)
    """Insert the demo configs (and the demo tool) if this database has never been seeded and holds no
    model configs. Returns True when it seeded. Safe when two processes start at once:
    the marker row is claimed first, inside the same transaction as the inserts."""
    with store.engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM meta WHERE key = :key"), {"key": SEEDED_KEY}).first():
            return False  # the common case: one cheap read per start
    with store.engine.begin() as conn:
        claimed = conn.execute(
            text("INSERT OR IGNORE INTO meta (key, value) VALUES (:key, :value)"),
            {"key": SEEDED_KEY, "value": datetime.now(timezone.utc).isoformat()},
        ).rowcount
        if not claimed:
            return False  # another process got there first
        if conn.execute(text("SELECT 1 FROM model_config LIMIT 1")).first():
            return False  # a file from before seeding existed, with the user's own configs
        rows = [config.model_dump(exclude={"id"}) for config in demo_configs()]
        conn.execute(insert(ModelConfig.__table__), rows)  # type: ignore[attr-defined]
        if not conn.execute(text("SELECT 1 FROM tool_definition LIMIT 1")).first():
            tools = [tool.model_dump(exclude={"id"}) for tool in demo_tools()]
            conn.execute(insert(ToolDefinition.__table__), tools)  # type: ignore[attr-defined]
    return True
