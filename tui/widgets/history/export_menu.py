"""The history's export chooser: which format the selected run is written in."""

from __future__ import annotations

from textual.binding import Binding

from tui.screens.copy_menu import CopyMenu

EXPORT_CHOICES = (
    ("json", "j", "JSON — the whole run with its wire frames"),
    ("markdown", "m", "Markdown — prompt, answer, metrics, for an issue"),
    ("curl", "c", "curl — the request, key as $VARIABLE"),
)


class ExportMenu(CopyMenu):
    """Dismisses with "json", "markdown", "curl", or None."""

    HELP_GROUP = "Export"
    CHOICES = EXPORT_CHOICES
    BOX_TITLE = "Export the run to a file"
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        *(Binding(key, f"pick('{what}')", label.split(" — ")[0]) for what, key, label in EXPORT_CHOICES),
    ]
