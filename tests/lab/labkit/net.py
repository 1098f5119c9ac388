"""Free loopback ports for the lab, the tests and the benchmarks."""

from __future__ import annotations

import random
import socket


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1", taken: frozenset[int] = frozenset()) -> int:
    """A free port below the kernel's ephemeral range (32768+), so no outgoing connection takes it between
    now and the component's bind."""
    while True:
        port = random.randint(20000, 32000)
        if port not in taken and port_free(port, host):
            return port


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct free ports."""
    ports: list[int] = []
    while len(ports) < count:
        ports.append(free_port(host, frozenset(ports)))
    return ports
