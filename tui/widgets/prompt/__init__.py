"""The prompt editor: what a run sends."""

from tui.widgets.prompt.editor import PromptEditor
from tui.widgets.prompt.params import PromptError

__all__ = ["PromptEditor", "PromptError"]
