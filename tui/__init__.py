"""llmwb's user interfaces: the Textual workbench and the headless CLI."""
