"""The readiness probe of the broker: a real TCP connection, cached briefly."""

from __future__ import annotations

import socket

import pytest

from libs.launcher.ports import free_port
from libs.platform.broker_probe import BrokerProbe


def test_a_listening_broker_is_reachable_and_a_closed_port_is_not() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        BrokerProbe(f"127.0.0.1:{free_port()},127.0.0.1:{port}", ttl_s=0).check()
    with pytest.raises(RuntimeError, match="broker unreachable"):
        BrokerProbe(f"127.0.0.1:{free_port()}", ttl_s=0).check()
