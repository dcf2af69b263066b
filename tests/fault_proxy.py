"""A TCP proxy that injects the faults a service behind it can have.

Put it between a client and a real server (moto, a JWKS host) and switch it at will:

- ``pass``: relays bytes both ways, untouched;
- ``down``: nothing listens on its port (connections are refused);
- ``slow``: accepts, reads the request and never answers (past any client timeout);
- ``500`` / ``503``: answers every request with that status and an HTML body, as a
  failing load balancer in front of S3 or DynamoDB would.

Switching closes every open connection, so a client's pooled keep-alive connection cannot
carry on in the old mode. Nothing in the code under test is mocked: its own HTTP clients
(TileDB's, botocore's, urllib's) meet these faults on real sockets.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

MODES = ("pass", "down", "slow", "500", "503")


class FaultProxy:
    def __init__(self, target: str) -> None:
        host, _, port = target.removeprefix("http://").partition(":")
        self.target = (host, int(port.rstrip("/")))
        self.mode = "pass"
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._closed = False
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = int(probe.getsockname()[1])
        probe.close()
        self._listen()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set(self, mode: str) -> None:
        assert mode in MODES, mode
        with self._lock:
            self.mode = mode
            for conn in list(self._open):
                _close(conn)
            self._open.clear()
        if mode == "down":
            self._unlisten()
        elif self._listener is None:
            self._listen()

    def close(self) -> None:
        self._closed = True
        self.set("down")

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing
    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _unlisten(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # the listener was closed: the proxy is down
            with self._lock:
                mode = self.mode
                self._open.add(conn)
            threading.Thread(target=self._serve, args=(conn, mode), daemon=True).start()

    def _serve(self, conn: socket.socket, mode: str) -> None:
        try:
            if mode == "pass":
                self._relay(conn)
            elif mode == "slow":
                _read_request(conn)
                conn.recv(1)  # blocks until the client gives up or the mode changes
            else:
                while _read_request(conn):
                    body = f"<html><body><h1>{mode} injected fault</h1></body></html>".encode()
                    reason = "Internal Server Error" if mode == "500" else "Service Unavailable"
                    head = (
                        f"HTTP/1.1 {mode} {reason}\r\nContent-Type: text/html\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n"
                    )
                    conn.sendall(head.encode() + body)
        except OSError:
            pass
        finally:
            self._forget(conn)

    def _relay(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(self.target, timeout=10)
        upstream.settimeout(None)
        with self._lock:
            self._open.add(upstream)

        def pump(source: socket.socket, sink: socket.socket) -> None:
            """Copy until the source's end of stream, then pass the half-close on (moto
            closes after each answer; closing both sides at once could lose its tail)."""
            try:
                while chunk := source.recv(65536):
                    sink.sendall(chunk)
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        back = threading.Thread(target=pump, args=(upstream, conn), daemon=True)
        back.start()
        pump(conn, upstream)
        back.join()
        self._forget(upstream)

    def _forget(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.discard(conn)
        _close(conn)


def _read_request(conn: socket.socket) -> bool:
    """Read one HTTP request (head and a Content-Length body); False at end of stream."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        body += chunk
    return True


def _close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()
