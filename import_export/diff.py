"""The before/after comparison shown for each imported row (``RowResult.diff``).

Values come from user files, so every fragment is escaped before it is marked safe for a template.
"""

from __future__ import annotations

from typing import Any

from diff_match_patch import diff_match_patch
from django.conf import settings
from django.utils.encoding import force_str
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

_INSERT = diff_match_patch.DIFF_INSERT
_DELETE = diff_match_patch.DIFF_DELETE

# Inline styles rather than classes, so the fragments read the same in the admin, in an e-mail
# or in a log viewer without any stylesheet.
_INSERT_STYLE = "background:#e6ffe6;"
_DELETE_STYLE = "background:#ffe6e6;"


def _export_values(resource: Any, instance: Any) -> list[str]:
    """The instance's value for each import field, as text in the export representation.

    Comparing export representations (not Python values) means the diff shows exactly what a
    person would see in a file; a missing instance (a row that deletes or is skipped) reads as
    empty.
    """
    fields = resource.get_import_fields()
    if instance is None:
        return ["" for _ in fields]
    return [force_str(field.export(instance)) for field in fields]


def _fragment_html(operation: int, text: str) -> str:
    escaped = escape(text).replace("\n", "&para;<br>")
    if operation == _INSERT:
        return f'<ins style="{_INSERT_STYLE}">{escaped}</ins>'
    if operation == _DELETE:
        return f'<del style="{_DELETE_STYLE}">{escaped}</del>'
    return f"<span>{escaped}</span>"


#: Setting: the most characters (before and after together) one cell's diff compares.
DIFF_MAX_CHARS_SETTING = "IMPORT_EXPORT_DIFF_MAX_CHARS"
DEFAULT_DIFF_MAX_CHARS = 4000
#: Seconds diff-match-patch may spend on one cell before it settles for a coarser diff.
DIFF_TIMEOUT = 0.1


def _diff_max_chars() -> int:
    value = getattr(settings, DIFF_MAX_CHARS_SETTING, None)
    return DEFAULT_DIFF_MAX_CHARS if value is None else int(value)


def html_diff(before: Any, after: Any) -> SafeString:
    """Escaped HTML that marks what changed between two values, character by character.

    Long text is not compared: a character diff of two long values costs up to a second of
    CPU per cell (a preview of many rows would take minutes), so when both values together
    exceed ``IMPORT_EXPORT_DIFF_MAX_CHARS`` a changed cell just says "changed".
    """
    before, after = force_str(before), force_str(after)
    if before != after and len(before) + len(after) > _diff_max_chars():
        return mark_safe(f'<span class="import-diff-changed">{escape(_("changed"))}</span>')
    matcher = diff_match_patch()
    matcher.Diff_Timeout = DIFF_TIMEOUT
    operations = matcher.diff_main(before, after)
    matcher.diff_cleanupSemantic(operations)
    return mark_safe("".join(_fragment_html(op, text) for op, text in operations))


class Diff:
    """Records an instance's field values before a row is applied and compares them afterwards.

    ``new`` says the instance was created by this row; its "before" values are then only the
    model's defaults, so a changed value is shown as wholly inserted rather than as an edit of a
    default nobody wrote.
    """

    def __init__(self, resource: Any, instance: Any, new: bool) -> None:
        self.left = self._read_field_values(resource, instance)
        self.right: list[str] = []
        self.new = new

    def compare_with(self, resource: Any, instance: Any) -> None:
        """Record the "after" values; ``instance`` is ``None`` when the row deleted it."""
        self.right = self._read_field_values(resource, instance)

    def as_html(self) -> list[SafeString]:
        fragments = []
        for before, after in zip(self.left, self.right):
            if self.new and before != after:
                before = ""
            fragments.append(html_diff(before, after))
        return fragments

    @classmethod
    def _read_field_values(cls, resource: Any, instance: Any) -> list[str]:
        return _export_values(resource, instance)
