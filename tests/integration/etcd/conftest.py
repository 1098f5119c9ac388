"""Real etcd for the etcd_snapshot / etcd_restore tests: kubeadm-like TLS, 1 and 3 members, 10,000 keys."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from etcdlab import Cluster, make_pki

KEYS = 10_000


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def items() -> dict[str, str]:
    """10,000 keys with distinct random values."""
    return {f"/registry/test/key-{i:05d}": f"value-{i}-{secrets.token_hex(12)}" for i in range(KEYS)}


def _cluster(tmp_path_factory, pki, items, size):
    cluster = Cluster(tmp_path_factory.mktemp(f"etcd{size}"), size, pki)
    cluster.start()
    cluster.put_many(items)
    return cluster


@pytest.fixture(scope="module")
def etcd1(tmp_path_factory, pki, items):
    cluster = _cluster(tmp_path_factory, pki, items, 1)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def etcd3(tmp_path_factory, pki, items):
    cluster = _cluster(tmp_path_factory, pki, items, 3)
    yield cluster
    cluster.stop()
