"""SQLite storage: model configs, tool definitions, runs and their wire frames."""

from core.store.db import Store, data_dir, default_db_path

__all__ = ["Store", "data_dir", "default_db_path"]
