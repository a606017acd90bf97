"""Messages a user or a downstream test sees in the admin keep upstream's text.

The fork's fuller explanations go into error attributes (``detail``, ``lookup``) or the log.
"""

import logging

import pytest

from core.models import Author, Book
from import_export.formats import base_formats

pytestmark = pytest.mark.django_db

FORMAT_INDEX = {fmt.__name__: str(i) for i, fmt in enumerate(base_formats.DEFAULT_FORMATS)}


def test_xlsx_export_of_illegal_characters_shows_upstreams_message(admin_client, caplog):
    Book.objects.create(name="bad\x0btext")
    data = {"format": FORMAT_INDEX["XLSX"], "bookresource_id": "on", "bookresource_name": "on"}
    with caplog.at_level(logging.WARNING, logger="import_export.admin"):
        response = admin_client.post("/admin/core/book/export/", data)
    assert response.status_code == 200
    html = response.content.decode()
    # Django's admin template capitalises the message's first letter.
    assert "Export failed due to IllegalCharacterError" in html
    assert "control characters" not in html
    # The details (row, column, the setting to change) are in the log.
    assert "row 1, column 'name'" in caplog.text


def test_action_export_gives_upstreams_deprecation_warning(admin_client):
    author = Author.objects.create(name="A")
    data = {
        "format": FORMAT_INDEX["CSV"],
        "authorresource_id": "on",
        "export_items": [str(author.pk)],
    }
    with pytest.warns(DeprecationWarning, match=r"'get_valid_export_item_pks\(\)' method in"):
        response = admin_client.post("/admin/core/author/export/", data)
    assert response.status_code == 200
