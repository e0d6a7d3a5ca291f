"""llmwb's streaming core: providers, runner, metrics, storage, simulator.

Imports no UI and prints nothing; `tui` sits on top of it.
"""
