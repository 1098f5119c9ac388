"""The API load balancer of a lab with several control planes: Debian's haproxy, configured as kubeadm's
high-availability guide does (TCP, health check of each API server's /healthz over TLS, round robin).

The lab runs it on the host at the lab's own address (``127.0.N.2:6443``), in the foreground under the supervisor.
Client and server timeouts are longer than the guide's 20 s so watches are not cut every 20 s.
"""

from __future__ import annotations

from pathlib import Path

HAPROXY = "/usr/sbin/haproxy"


def config(address: str, servers: dict[str, str], port: int = 6443) -> str:
    backends = "".join(f"    server {name} {ip}:{port} check verify none\n" for name, ip in servers.items())
    return f"""\
# /etc/haproxy/haproxy.cfg as in kubeadm's HA guide (ha-considerations.md), for the lab
global
    log stderr format short local0 info

defaults
    mode                    http
    log                     global
    option                  httplog
    option                  dontlognull
    option                  http-server-close
    option                  redispatch
    retries                 1
    timeout http-request    10s
    timeout queue           20s
    timeout connect         5s
    timeout client          1h
    timeout server          1h
    timeout http-keep-alive 10s
    timeout check           2s

frontend apiserver
    bind {address}:{port}
    mode tcp
    option tcplog
    default_backend apiserverbackend

backend apiserverbackend
    option httpchk
    http-check connect ssl
    http-check send meth GET uri /healthz
    http-check expect status 200
    mode tcp
    balance     roundrobin
    default-server inter 1s fall 2 rise 1
{backends}"""


def argv(config_file: Path) -> list[str]:
    return [HAPROXY, "-db", "-f", str(config_file)]
