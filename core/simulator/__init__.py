"""The built-in scripted OpenAI- and Anthropic-compatible server.

    from core.simulator import SimulatorServer, load_scenarios, embedded_root_url

See scenario.py for the scenario file format and server.py for the endpoints.
"""

from core.simulator.embedded import embedded_root_url, shutdown_embedded
from core.simulator.scenario import (
    Scenario,
    ScenarioError,
    builtin_scenarios,
    load_scenario_file,
    load_scenarios,
    scenario_from_dict,
)
from core.simulator.server import RecordedExchange, SimulatorServer

__all__ = [
    "RecordedExchange",
    "Scenario",
    "ScenarioError",
    "SimulatorServer",
    "builtin_scenarios",
    "embedded_root_url",
    "load_scenario_file",
    "load_scenarios",
    "scenario_from_dict",
    "shutdown_embedded",
]
