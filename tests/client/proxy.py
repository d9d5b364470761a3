"""A fault-injecting TCP proxy for HTTP/1.1, written for the client tests. It reads each request whole
from the client and, by the fault chosen for it:

* ``pass``: forwards it and relays the answer;
* ``cut_before``: closes the client's connection without forwarding anything (the server never sees it);
* ``cut_after``: forwards it, reads the server's whole answer (the server has committed), then closes the
  client's connection without sending it;
* ``delay``: forwards it and relays the answer ``delay`` seconds late;
* ``duplicate``: sends it twice, at the same moment, on two server connections, and relays one answer;
* ``throttle``, ``unavailable``: answers 429 (``Retry-After: 1``) or 503 itself, forwarding nothing.

``faults`` is a function of (request number, method, path) returning the fault; every request and the
fault it got are recorded in ``log``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

Fault = str
CANNED = {
    "throttle": b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b'Content-Length: 62\r\n\r\n{"error": "throttled", "detail": "Request was throttled.    "}',
    "unavailable": b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\noops!",
}


def _read_until(sock: socket.socket, buffer: bytearray, marker: bytes) -> int:
    while (end := buffer.find(marker)) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk
    return end


def _read_exactly(sock: socket.socket, buffer: bytearray, size: int) -> None:
    while len(buffer) < size:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}


def read_message(sock: socket.socket, buffer: bytearray, *, response: bool) -> bytes:
    """One HTTP/1.1 message (Content-Length, chunked, or until close for answers), taken off ``buffer``."""
    end = _read_until(sock, buffer, b"\r\n\r\n") + 4
    headers = _headers(bytes(buffer[: end - 4]))
    if "content-length" in headers:
        total = end + int(headers["content-length"])
        _read_exactly(sock, buffer, total)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        position = end
        while True:
            line_end = _read_until_from(sock, buffer, b"\r\n", position)
            size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
            position = line_end + 2 + size + 2
            _read_exactly(sock, buffer, position)
            if size == 0:
                break
        total = position
    elif response:
        while chunk := sock.recv(65536):
            buffer += chunk
        total = len(buffer)
    else:
        total = end
    message = bytes(buffer[:total])
    del buffer[:total]
    return message


def _read_until_from(sock: socket.socket, buffer: bytearray, marker: bytes, start: int) -> int:
    while (end := buffer.find(marker, start)) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk
    return end


class FaultProxy:
    def __init__(
        self,
        upstream_port: int,
        port: int,
        faults: Callable[[int, str, str], Fault],
        delay: float = 1.0,
        on_cut_after: Callable[[], None] | None = None,
    ):
        self.on_cut_after = on_cut_after  # called once the answer is read and before the client is cut
        self.upstream = ("127.0.0.1", upstream_port)
        self.port = port
        self.faults = faults
        self.delay = delay
        self.log: list[tuple[str, str, Fault]] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", port))
        self._listener.settimeout(0.2)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/sync/"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join()
        self._listener.close()

    def counts(self) -> dict[Fault, int]:
        out: dict[Fault, int] = {}
        for _, _, fault in self.log:
            out[fault] = out.get(fault, 0) + 1
        return out

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        buffer = bytearray()
        with client:
            while True:
                try:
                    request = read_message(client, buffer, response=False)
                except (ConnectionError, OSError):
                    return
                method, path = request.split(b" ", 2)[:2]
                with self._lock:
                    number = len(self.log)
                    fault = self.faults(number, method.decode(), path.decode())
                    self.log.append((method.decode(), path.decode(), fault))
                if fault == "cut_before":
                    return
                if fault in CANNED:
                    client.sendall(CANNED[fault])
                    continue
                try:
                    if fault == "duplicate":
                        twin = threading.Thread(target=self._forward, args=(request,))
                        twin.start()
                        answer = self._forward(request)
                        twin.join()
                    else:
                        answer = self._forward(request)
                except (ConnectionError, OSError):
                    return  # the server is down: the client sees its connection closed
                if fault == "cut_after":
                    if self.on_cut_after is not None:
                        self.on_cut_after()
                    return
                if fault == "delay":
                    time.sleep(self.delay)
                try:
                    client.sendall(answer)
                except OSError:
                    return

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=60) as upstream:
            upstream.sendall(request)
            return read_message(upstream, bytearray(), response=True)
