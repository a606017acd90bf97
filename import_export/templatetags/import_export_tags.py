"""Template tags for import/export pages: ``{% load import_export_tags %}``."""

from django import template
from django.utils.safestring import SafeString

from ..diff import html_diff

register = template.Library()


@register.simple_tag
def compare_values(value1, value2) -> SafeString:
    """Escaped HTML marking what changed from ``value1`` to ``value2``.

    Lets a customised preview template show an edit inline, e.g. an old and a new price.
    """
    return html_diff(value1, value2)
