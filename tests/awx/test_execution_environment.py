"""The execution environment: ansible-builder's build context (make ee, offline) and its introspection of the
collection installed from the tarball, which is how the image gets the collection's dependencies."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml
from awx_files import BIN, REPO, load_yaml

CONTEXT = REPO / "awx" / "ee" / "context"
TARBALL = REPO / ".build" / "ee" / "cluster_ops-kubeadm.tar.gz"


def requirement_names(path: Path) -> set[str]:
    """The package names of a pip requirements file (``-r`` lines followed)."""
    names: set[str] = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r"):
            names |= requirement_names(path.parent / line.split(None, 1)[1])
        elif line:
            names.add(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower())
    return names


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The tarball installed as the image's galaxy stage installs it."""
    assert TARBALL.is_file(), "run make ee first"
    root = tmp_path_factory.mktemp("ee-collections")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--force", "-p", str(root), str(TARBALL)],
                   check=True, capture_output=True, cwd=root)  # fmt: skip
    return root


@pytest.fixture(scope="module")
def introspection(installed) -> dict:
    done = subprocess.run([str(BIN / "ansible-builder"), "introspect", "--sanitize", str(installed)],
                          check=True, capture_output=True, text=True)  # fmt: skip
    return yaml.safe_load(done.stdout)


def test_the_collection_declares_its_dependencies_apart_from_the_test_ones():
    meta = load_yaml(REPO / "meta" / "execution-environment.yml")
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    runtime = requirement_names(REPO / "requirements.txt")
    assert runtime == {"kubernetes", "pyyaml"}
    assert not runtime & {"ansible", "ansible-core"}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        assert "<" not in line.split("#")[0] and "==" not in line.split("#")[0], line  # no upper pins


def test_the_build_context_installs_the_collection_from_its_tarball():
    definition = load_yaml(REPO / "awx" / "ee" / "execution-environment.yml")
    assert definition["version"] == 3
    dockerfile = (CONTEXT / "Dockerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"' in dockerfile
    galaxy = yaml.safe_load((CONTEXT / "_build" / "requirements.yml").read_text())
    assert galaxy == {"collections": [{"name": "/build/collections/cluster_ops-kubeadm.tar.gz", "type": "file"}]}
    assert (CONTEXT / "_build" / "collections" / "cluster_ops-kubeadm.tar.gz").read_bytes() == TARBALL.read_bytes()
    assert "COPY _build /build" in dockerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in dockerfile
    # the builder stage finds the collection's dependencies by introspection, the final stage installs them
    assert "introspect.py introspect --write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt" in (
        dockerfile
    )
    assert "/output/scripts/install-from-bindep" in dockerfile
    assert "ansible-core>=2.16" in dockerfile and "ansible-runner" in dockerfile


def test_the_tarball_is_the_collection_without_the_build_and_test_machinery():
    with tarfile.open(TARBALL) as archive:
        names = set(archive.getnames())
        member = archive.extractfile("MANIFEST.json")
        assert member is not None
        manifest = json.load(member)
    galaxy = load_yaml(REPO / "galaxy.yml")
    info = manifest["collection_info"]
    keys = ("namespace", "name", "version")
    assert [info[key] for key in keys] == [galaxy[key] for key in keys]
    assert {"meta/execution-environment.yml", "requirements.txt", "bindep.txt", "plugins/inventory/nodes.py",
            "playbooks/recover.yml", "awx/controller/job_templates.yml"} <= names  # fmt: skip
    machinery = ("awx/ee/context", "awx/rbac", "tests/awx", "tests/integration", "tests/lab", ".build")
    for absent in (*machinery, "requirements-dev.txt"):
        assert not any(name == absent or name.startswith(absent + "/") for name in names), absent


def test_introspection_lists_the_collections_runtime_dependencies_only(introspection):
    python = [line.split("#")[0].strip() for line in introspection["python"]]
    assert python == ["kubernetes>=24.2.0"]
    # PyYAML is declared (requirements.txt) but ansible-builder leaves it out: ansible-core, in every image, needs it.
    assert "pyyaml" in requirement_names(REPO / "requirements.txt")
    development = requirement_names(REPO / "requirements-dev.txt") - requirement_names(REPO / "requirements.txt")
    assert {"pytest", "ansible-lint", "ruff", "hypothesis", "ansible-runner"} <= development
    listed = {re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower() for line in python}
    assert not listed & (development | {"ansible", "ansible-core"})
    system = [line.split("#")[0].strip() for line in introspection["system"]]
    assert system == ["openssh-clients [platform:rpm]", "openssh-client [platform:dpkg]"]
    lines = introspection["python"] + introspection["system"]
    assert all("from collection cluster_ops.kubeadm" in line for line in lines)
