"""HTML writer: the ``<table>`` that tablib builds with ElementTree, written one ``<tr>`` at a time.

tablib serialises an element tree with ``method="html"``: no whitespace between elements, cell
text escaped for ``&``, ``<`` and ``>`` only, ``None`` rendered as an empty cell and anything
else through ``str``.  The pieces below produce exactly that without building a tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from .base import StreamWriter


def _cell_text(value: Any) -> str:
    """The escaped text of one cell as ElementTree's HTML serialiser writes it."""
    if value is None:
        return ""
    return escape(str(value), quote=False)


class HTMLStreamWriter(StreamWriter):
    """An HTML ``<table>`` with a ``<thead>`` when there are headers and one ``<tbody>``."""

    def _open(self) -> None:
        opening = ["<table>"]
        if self.headers:
            opening.append("<thead><tr>")
            opening.extend(f"<th>{_cell_text(header)}</th>" for header in self.headers)
            opening.append("</tr></thead>")
        opening.append("<tbody>")
        self._emit("".join(opening))

    def _write_row(self, row: Sequence[Any]) -> None:
        cells = "</td><td>".join([_cell_text(value) for value in row])
        self._emit(f"<tr><td>{cells}</td></tr>" if row else "<tr></tr>")

    def _close(self) -> None:
        self._emit("</tbody></table>")
