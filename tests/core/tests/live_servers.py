"""Real WSGI servers on 127.0.0.1 for the tests of what a client sees of a streamed download.

Django's test client iterates a streamed response in the test itself, so it cannot show what
a server does when the iterator fails half-way (abort the connection, or end the body as if it
were complete) or how long a slow client keeps the export's database cursor open.  These
helpers run the test project's WSGI application under a real server in a background thread,
sharing the test database (so the data must be committed: use ``transactional_db``).

* :func:`waitress_server`: HTTP/1.1 with chunked bodies, so an aborted stream reaches the client
  as an incomplete read; waitress buffers the body itself, so a slow client does not slow the
  application.
* :func:`wsgiref_server`: what ``manage.py runserver`` runs (Django's handler on wsgiref): it
  writes as the application yields, close-delimited (no chunked encoding).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Iterator

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler


@contextlib.contextmanager
def waitress_server() -> Iterator[int]:
    """Serve the project with waitress on a free loopback port; yields the port."""
    from waitress.server import create_server

    server = create_server(WSGIHandler(), host="127.0.0.1", port=0, threads=1)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        server.close()
        thread.join(timeout=10)


@contextlib.contextmanager
def wsgiref_server(send_buffer: int | None = None) -> Iterator[int]:
    """Serve the project as ``runserver`` does (Django's wsgiref handler); yields the port.

    ``send_buffer`` shrinks the kernel's send buffer of each connection (``SO_SNDBUF``), as a
    slow link would: otherwise the loopback buffers (megabytes) swallow a small export whole
    and the server never waits for the client.
    """
    from wsgiref.simple_server import make_server

    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

    class QuietHandler(WSGIRequestHandler):
        def setup(self):
            if send_buffer is not None:
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
            super().setup()

        def log_message(self, format, *args):  # no access log on the test output
            pass

    server = make_server(
        "127.0.0.1", 0, WSGIHandler(), server_class=WSGIServer, handler_class=QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="wsgiref", daemon=True
    )
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def session_cookie_for(user) -> str:
    """A ``Cookie`` header logging ``user`` in (the session row is committed to the database)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def get(port: int, path: str, cookie: str, timeout: float = 20) -> http.client.HTTPResponse:
    """Send ``GET path`` and return the response with its body still unread."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("GET", path, headers={"Cookie": cookie})
    return connection.getresponse()
