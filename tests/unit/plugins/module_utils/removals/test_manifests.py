"""Manifests on disk and in Helm releases: files, documents, Lists, and what is not Kubernetes YAML."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals import manifests
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._removals.scan import run

INGRESS = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: shop\n"
DEPLOYMENT_V1 = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
CRONJOB = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: report\n"


def scan(paths, current="1.21.9", target="1.25", **extra):
    warnings = []
    params = {"target_version": target, "current_version": current, "manifest_paths": [str(p) for p in paths]}
    result = run({**params, **extra}, warn=warnings.append)
    return result, warnings


def where(result):
    return [(os.path.basename(f["file"]), f["document"], f["item"], f["kind"], f["name"]) for f in result["findings"]]


def test_multi_document_yaml_names_file_and_document(tmp_path):
    (tmp_path / "app.yaml").write_text(f"{DEPLOYMENT_V1}---\n{INGRESS}---\n---\n{CRONJOB}")
    result, warnings = scan([tmp_path])
    assert where(result) == [("app.yaml", 1, None, "Ingress", "web"), ("app.yaml", 3, None, "CronJob", "report")]
    assert [f["hop"] for f in result["findings"]] == ["v1.22.0", "v1.25.0"]
    assert result["by_hop"]["v1.22.0"][0]["namespace"] == "shop"
    assert result["sources"]["manifests"]["documents"] == 4
    assert result["sources"]["manifests"]["scanned"] == 3  # objects: the empty document is none
    assert warnings == []


def test_list_kinds_are_read_item_by_item(tmp_path):
    items = [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ok"}},
        {"apiVersion": "extensions/v1beta1", "kind": "Ingress", "metadata": {"name": "old"}},
        "not an object",
    ]
    (tmp_path / "list.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    (tmp_path / "typed.yml").write_text(
        "apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: RoleList\nitems:\n"
        "- apiVersion: rbac.authorization.k8s.io/v1beta1\n  kind: Role\n  metadata: {name: reader}\n"
    )
    result, _warnings = scan([tmp_path])
    assert where(result) == [("list.json", 0, 1, "Ingress", "old"), ("typed.yml", 0, 0, "Role", "reader")]
    assert result["findings"][0]["line"].startswith(
        f"manifests: extensions/v1beta1 Ingress old ({tmp_path / 'list.json'}, document 0, item 1), removed in v1.22"
    )


def test_non_kubernetes_yaml_is_ignored_with_a_warning(tmp_path):
    (tmp_path / "values.yaml").write_text("replicas: 3\nimage:\n  tag: v1\n")
    (tmp_path / "chart").mkdir()
    (tmp_path / "chart" / "ingress.yaml").write_text("apiVersion: {{ .Values.api }}\nkind: Ingress\n")
    (tmp_path / "notes.yaml").write_text("- a\n- b\n")
    (tmp_path / "app.yaml").write_text(INGRESS)
    result, warnings = scan([tmp_path])
    assert where(result) == [("app.yaml", 0, None, "Ingress", "web")]
    ignored = result["sources"]["manifests"]["ignored"]
    assert len(ignored) == 3
    assert any(
        line.startswith(f"{tmp_path / 'values.yaml'}: document 0 has no apiVersion and kind") for line in ignored
    )
    assert any(line.startswith(f"{tmp_path / 'notes.yaml'}: document 0 is a list") for line in ignored)
    template = next(line for line in ignored if "ingress.yaml" in line)
    assert f"{tmp_path / 'chart' / 'ingress.yaml'}: not valid YAML (line 1, column " in template
    assert len(warnings) == 3
    assert all(w.startswith("api_removals: ignored in ") and "\n" not in w for w in warnings)


def test_a_parse_error_keeps_the_documents_before_it(tmp_path):
    (tmp_path / "half.yaml").write_text(f"{INGRESS}---\nkey: [unclosed\n")
    result, warnings = scan([tmp_path])
    assert where(result) == [("half.yaml", 0, None, "Ingress", "web")]
    assert "not valid YAML after document 0" in warnings[0]


def test_hidden_directories_and_other_extensions_are_skipped_but_a_named_file_is_read(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "old.yaml").write_text(INGRESS)
    (tmp_path / "README.md").write_text(INGRESS)
    (tmp_path / "ingress.yaml.j2").write_text(INGRESS)
    result, _warnings = scan([tmp_path])
    assert result["findings"] == []
    assert result["sources"]["manifests"]["files"] == 0
    named, _warnings = scan([tmp_path / "ingress.yaml.j2"])
    assert where(named) == [("ingress.yaml.j2", 0, None, "Ingress", "web")]


def test_a_file_reached_twice_is_read_once(tmp_path):
    (tmp_path / "app.yaml").write_text(INGRESS)
    (tmp_path / "link.yaml").symlink_to(tmp_path / "app.yaml")
    result, _warnings = scan([tmp_path, tmp_path / "app.yaml"])
    assert len(result["findings"]) == 1


def test_odd_yaml_never_fails_the_scan(tmp_path):
    (tmp_path / "tags.yaml").write_text("!!python/object:os.system {}\n")
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "anchors.yaml").write_text("a: &a [1, 2]\nb: [*a, *a, *a]\n")
    (tmp_path / "scalar.yaml").write_text("just text\n")
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "nameless.yaml").write_text("apiVersion: extensions/v1beta1\nkind: Ingress\n")
    (tmp_path / "weird.json").write_text("{not json")
    result, warnings = scan([tmp_path])
    assert where(result) == [("nameless.yaml", 0, None, "Ingress", None)]
    assert "Ingress (no name)" in result["findings"][0]["line"]
    assert len(warnings) == 5  # tags, binary, anchors, scalar, weird.json; empty.yaml holds no document


def test_warnings_are_capped(tmp_path):
    for number in range(30):
        (tmp_path / f"values-{number:02}.yaml").write_text("replicas: 1\n")
    result, warnings = scan([tmp_path])
    assert len(warnings) == 21
    assert warnings[-1] == "api_removals: and 10 more files with ignored YAML (see sources.manifests)"
    assert result["sources"]["manifests"]["ignored_files"] == 30


@pytest.mark.parametrize(
    ("paths", "needle"),
    [
        (["/nonexistent/gitops"], "manifest_paths[0] '/nonexistent/gitops' does not exist"),
        ("/srv/gitops", "manifest_paths '/srv/gitops' is not a list of paths"),
        ([""], "manifest_paths[0] '' is not a path"),
        ([7], "manifest_paths[0] 7 is not a path"),
    ],
)
def test_bad_paths_are_refused_naming_them(paths, needle):
    with pytest.raises(InvalidInput) as caught:
        manifests.check_paths(paths)
    assert caught.value.message.startswith(needle)


def test_helm_documents_know_their_template():
    manifest = (
        "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
        "---\n# Source: web/templates/empty.yaml\n"
        "---\n# Source: web/templates/pdb.yaml\napiVersion: policy/v1beta1\nkind: PodDisruptionBudget\n"
        "metadata:\n  name: web\n"
    )
    docs = list(manifests.helm_documents(manifest, "release shop/web"))
    assert [(index, template) for index, _doc, template in docs] == [
        (0, "web/templates/svc.yaml"),
        (1, "web/templates/empty.yaml"),
        (2, "web/templates/pdb.yaml"),
    ]
    assert docs[1][1] is None
    assert docs[2][1]["kind"] == "PodDisruptionBudget"
