"""A TCP proxy a test can cut: a database "outage" as the service sees one (connections
reset, new ones refused) without stopping a server other tests share."""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading

from libs.launcher.ports import free_port

#: SO_LINGER on, zero seconds: close() sends a reset, as a crashed server's host would.
_RESET = struct.pack("ii", 1, 0)


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``. ``cut()`` drops every connection and
    refuses new ones until ``restore()``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._stopped = threading.Event()
        self._listen()
        self._pump = threading.Thread(target=self._forward, daemon=True)
        self._pump.start()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener and not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.setblocking(False)
            with self._lock:
                self._pairs.append((client, upstream))

    def _forward(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                pairs = list(self._pairs)
            if not pairs:
                self._stopped.wait(0.01)
                continue
            selector = selectors.DefaultSelector()
            for a, b in pairs:
                with contextlib.suppress(ValueError, OSError):
                    selector.register(a, selectors.EVENT_READ, (a, b))
                    selector.register(b, selectors.EVENT_READ, (b, a))
            try:
                ready = selector.select(timeout=0.05)
            except (OSError, ValueError):
                ready = []
            for key, _ in ready:
                source, sink = key.data
                try:
                    data = source.recv(65536)
                    if not data:
                        raise ConnectionError
                    sink.setblocking(True)
                    sink.sendall(data)
                    sink.setblocking(False)
                except OSError:
                    self._close_pair(source, sink)
            selector.close()

    def _close_pair(self, a: socket.socket, b: socket.socket) -> None:
        with self._lock:
            self._pairs = [p for p in self._pairs if a not in p]
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.close()

    def cut(self) -> None:
        """Reset every open connection and stop listening (connects are refused)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
                    s.close()

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self.cut()
        self._stopped.set()
        self._pump.join(5)
