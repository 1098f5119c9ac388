"""The lab's package repositories, laid out as the real ones and signed with the lab's keys.

Served by ``labkit.nodes.repo_server`` from ``<state dir>/repo``:

- ``core:/stable:/v1.NN/deb/`` for each minor, as pkgs.k8s.io: a flat repository (``deb [signed-by=...] URL /``)
  with ``InRelease``, ``Release``, ``Release.gpg``, ``Packages``, ``Packages.gz``, the .debs under ``amd64/`` and
  the ASCII-armoured ``Release.key``;
- ``legacy/``, what ``apt.kubernetes.io`` (``deb URL kubernetes-xenial main``) and
  ``packages.cloud.google.com/apt/`` served: every version with the ``-00`` revision, and ``doc/apt-key.gpg``;
- ``debian/``, the OS updates (``deb URL bookworm main``): the kernel stand-in (installed version and update) and
  Debian packages the nodes may install although they have no Debian mirror (etcd-client).

The .debs are built once per content (labkit's sources included) and cached; each lab links them into its own
tree and writes its own signed indexes.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from labkit.apiserver import schema
from labkit.nodes import catalog, debs, k8s_packages
from labkit.nodes.rootfs import CACHE_DIR
from labkit.nodes.signing import Signer

SUITE_LEGACY = "kubernetes-xenial"


def sources_digest() -> str:
    """What the built packages depend on: labkit's sources (shipped inside kubeadm and kubelet, with the API
    schemas the nodes' API servers validate fields with) and the catalog."""
    schema.load()  # generated from the host's kubernetes client: the nodes have none to generate it with
    digest = hashlib.sha256()
    for file in sorted([*k8s_packages.LABKIT.rglob("*.py"), *k8s_packages.LABKIT.rglob("schemas.json")]):
        digest.update(str(file.relative_to(k8s_packages.LABKIT)).encode() + b"\0" + file.read_bytes())
    digest.update(repr((catalog.MINORS, catalog.PATCHES, k8s_packages.OS_PACKAGES)).encode())
    return digest.hexdigest()[:12]


def built_packages(log=print) -> Path:
    """The cache directory with ``pkgs/<minor>/``, ``legacy/`` and ``os/`` .debs (built when missing)."""
    target = CACHE_DIR / f"debs-{sources_digest()}"
    if (target / "complete").exists():
        (target / "complete").touch()  # in use: not pruned
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / "debs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "complete").exists():
            return target
        log(f"building the lab's packages into {target} ...")
        work = target.with_name(target.name + ".building")
        shutil.rmtree(work, ignore_errors=True)
        scratch = work / "scratch"
        for version in catalog.versions():
            for make in k8s_packages.K8S_PACKAGES:
                debs.build(make(version, False), work / "pkgs" / catalog.minor_of(version), scratch)
                debs.build(make(version, True), work / "legacy", scratch)
        for version in k8s_packages.OS_PACKAGES:
            debs.build(k8s_packages.os_package(version), work / "os", scratch)
        shutil.rmtree(scratch)
        (work / "complete").write_text("")
        shutil.rmtree(target, ignore_errors=True)
        work.rename(target)
        prune(keep=target)
    return target


def prune(keep: Path, count: int = 5, idle: float = 3600.0) -> None:
    """Remove package builds beyond the ``count`` most recently used that nobody used for ``idle`` seconds (running
    labs have hard links of their packages, so removing a build harms none)."""
    builds = sorted((d for d in CACHE_DIR.glob("debs-*") if d.is_dir() and d != keep and (d / "complete").exists()),
                    key=lambda d: (d / "complete").stat().st_mtime, reverse=True)  # fmt: skip
    for old in builds[count - 1 :]:
        if time.time() - (old / "complete").stat().st_mtime > idle:
            shutil.rmtree(old, ignore_errors=True)


def link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def ftparchive(cwd: Path, *args: str) -> bytes:
    result = subprocess.run(["apt-ftparchive", *args], cwd=cwd, capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"apt-ftparchive {args[0]} in {cwd} failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


def write_index(directory: Path, packages: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Packages").write_bytes(packages)
    (directory / "Packages.gz").write_bytes(gzip.compress(packages, mtime=0))


def release(cwd: Path, where: str, options: dict[str, str]) -> bytes:
    args = [arg for key, value in options.items() for arg in ("-o", f"APT::FTPArchive::Release::{key}={value}")]
    return ftparchive(cwd, *args, "release", where)


def build_tree(repo: Path, signer: Signer, offered_debs: list[Path], log=print) -> None:
    """(Re)write the lab's served tree: links to the cached .debs, indexes, signatures, keys."""
    cache = built_packages(log)
    shutil.rmtree(repo, ignore_errors=True)
    pkgs_key = signer.public_key("pkgs", armor=True)
    for minor in catalog.MINORS:
        deb_dir = repo / "core:" / "stable:" / f"v{minor}" / "deb"
        for deb in sorted((cache / "pkgs" / minor).glob("*.deb")):
            link(deb, deb_dir / "amd64" / deb.name)
        write_index(deb_dir, ftparchive(deb_dir, "packages", "amd64"))
        options = {
            "Origin": f"obs://build.opensuse.org/isv:kubernetes:core:stable:v{minor}/deb",
            "Label": f"isv:kubernetes:core:stable:v{minor}",
            "Architectures": "amd64",
        }
        (deb_dir / "Release").write_bytes(release(deb_dir, ".", options))
        signer.sign_release("pkgs", deb_dir / "Release")
        (deb_dir / "Release.key").write_bytes(pkgs_key)
    legacy = repo / "legacy"
    for deb in sorted((cache / "legacy").glob("*.deb")):
        link(deb, legacy / "pool" / deb.name)
    write_dists(legacy, SUITE_LEGACY, "Google, Inc.", signer, "legacy")
    (legacy / "doc").mkdir(parents=True, exist_ok=True)
    (legacy / "doc" / "apt-key.gpg").write_bytes(signer.public_key("legacy", armor=False))
    debian = repo / "debian"
    for deb in [*sorted((cache / "os").glob("*.deb")), *offered_debs]:
        link(deb, debian / "pool" / "main" / deb.name)
    write_dists(debian, "bookworm", "Debian", signer, "os")


def write_dists(root: Path, suite: str, origin: str, signer: Signer, key: str) -> None:
    """A classic ``dists/<suite>/main/binary-amd64`` repository over ``pool/``."""
    index_dir = root / "dists" / suite / "main" / "binary-amd64"
    write_index(index_dir, ftparchive(root, "packages", "pool"))
    options = {
        "Origin": origin,
        "Label": origin,
        "Suite": suite,
        "Codename": suite,
        "Components": "main",
        "Architectures": "amd64",
    }
    suite_dir = root / "dists" / suite
    (suite_dir / "Release").write_bytes(release(suite_dir, ".", options))
    signer.sign_release(key, suite_dir / "Release")
