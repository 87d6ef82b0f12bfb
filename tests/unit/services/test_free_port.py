"""Ports for the servers we start are outside the kernel's ephemeral range, so no outgoing connection takes one
between choosing it and the server listening on it (SeaweedFS's restart failed on exactly that)."""

from __future__ import annotations

import socket
from pathlib import Path

from services.local_servers import free_port


def test_a_free_port_is_below_the_ephemeral_range_and_can_be_bound() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(50)}
    assert all(10000 <= port < low for port in ports)
    assert len(ports) > 40  # spread, not one port handed to every caller
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports.pop()))
