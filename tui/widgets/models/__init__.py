"""The models pane: the list of model configs, and the modals it opens."""

from tui.widgets.models.model_list import ModelList

__all__ = ["ModelList"]
