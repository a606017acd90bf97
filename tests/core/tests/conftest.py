"""Fixtures shared by the test project's tests."""

import sys
from pathlib import Path

import pytest
from django.test import Client

# The checkout's root, for ``benchmarks`` (imported by the memory tests).  Appended, not
# prepended: the ``import_export`` found first must stay the installed one when the suite runs
# against the installed package.
_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)


class ClosingClient(Client):
    """A test client that closes the responses it returned when the test ends.

    A WSGI server closes every response, which closes a streamed export's row iterator and its
    database cursor.  Django's test client only does so for a streamed body read to the end;
    a test that looks at the headers alone would otherwise leave the cursor to the garbage
    collector, which may close it during a later test, inside that test's transaction.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.responses = []

    def request(self, **request):
        response = super().request(**request)
        self.responses.append(response)
        return response

    def close_responses(self):
        while self.responses:
            self.responses.pop().close()


@pytest.fixture
def client():
    client = ClosingClient()
    yield client
    client.close_responses()


@pytest.fixture
def admin_client(db, admin_user):
    client = ClosingClient()
    client.force_login(admin_user)
    yield client
    client.close_responses()
