"""`llmwb serve`: the debug HTTP API and page of the backend llmwb grew from, on the same core.

Every call made through it is an ordinary run: measured where the bytes arrive,
saved in the same store, visible in the app's history.
"""
