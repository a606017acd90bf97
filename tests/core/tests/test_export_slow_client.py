"""A slow client must not keep the database locked (issue 13, finding 5).

On SQLite an open cursor holds a read lock: while a streamed export's cursor stays open, every
writer waits and then fails with "database is locked" (with the test suite's shared in-memory
database: "database table is locked", at once).  The download runs under runserver's server
(wsgiref), which writes as the application yields, so a client that stops reading stops the
export where it is; waitress would buffer the whole body and hide the problem.
"""

import socket
import time

import pytest
from django.db import OperationalError
from django.test import override_settings

from core.models import Book

from .live_servers import session_cookie_for, wsgiref_server

BOOK_COUNT = 6000
EXPORT_URL = "/admin/core/book/export/"


@pytest.fixture
def cookie(transactional_db, admin_user):
    # About 600 kB of CSV: far more than the loopback socket buffers hold for a stalled client.
    Book.objects.bulk_create(
        Book(name=f"Book {index:05d} " + "x" * 80, author_email=f"a{index}@example.com")
        for index in range(BOOK_COUNT)
    )
    with override_settings(IMPORT_EXPORT_SKIP_ADMIN_EXPORT_UI=True):
        yield session_cookie_for(admin_user)


def start_slow_download(port: int, cookie: str) -> tuple[socket.socket, bytes]:
    """Send the export request, read the first bytes of the response, then stop reading."""
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: a slow link
    client.settimeout(20)
    client.connect(("127.0.0.1", port))
    client.sendall(
        f"GET {EXPORT_URL} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode()
    )
    received = b""
    while b"\r\n\r\n" not in received or len(received) < 1024:
        received += client.recv(1024)
    return client, received


def write_a_book(seconds: float) -> bool:
    """Whether a row could be written within ``seconds`` (retrying while the table is locked)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            Book.objects.create(name="written during the download")
            return True
        except OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def read_to_the_end(client: socket.socket) -> bytes:
    received = b""
    while chunk := client.recv(65536):
        received += chunk
    return received


def test_a_write_succeeds_while_a_slow_client_downloads(cookie):
    with wsgiref_server(send_buffer=4096) as port:
        client, start = start_slow_download(port, cookie)
        try:
            assert start.startswith(b"HTTP/1.1 200") or start.startswith(b"HTTP/1.0 200")
            written = write_a_book(seconds=8)
            rest = read_to_the_end(client)
        finally:
            client.close()
    assert written, "the download kept the database locked"
    body = (start + rest).split(b"\r\n\r\n", 1)[1]
    lines = body.split(b"\r\n")
    assert lines[0].startswith(b"id,name,") and lines[-1] == b""
    # Every book of the export, and only those: the export read the table as it was.
    assert len(lines) == BOOK_COUNT + 2
    assert b"written during the download" not in body
