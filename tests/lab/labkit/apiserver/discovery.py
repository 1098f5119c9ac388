"""Discovery documents: legacy (/api, /apis, APIResourceList) and aggregated (apidiscovery.k8s.io/v2)."""

from __future__ import annotations

from .resources import RESOURCES, group_versions

AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def api_versions(server_address: str) -> dict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> dict:
    gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list() -> dict:
    groups = [_group(g, vs) for g, vs in group_versions().items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name: str) -> dict | None:
    versions = group_versions().get(name)
    if not name or not versions:
        return None
    return dict(_group(name, versions), kind="APIGroup", apiVersion="v1")


def resource_list(group: str, version: str) -> dict | None:
    resources = [r for r in RESOURCES if r.group == group and r.version == version]
    if not resources:
        return None
    out = []
    for r in resources:
        item = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced, "kind": r.kind,
                "verbs": r.verbs}  # fmt: skip
        if r.short_names:
            item["shortNames"] = r.short_names
        if r.categories:
            item["categories"] = r.categories
        out.append(item)
        for s in r.subresources:
            sub = {"name": f"{r.plural}/{s.name}", "singularName": r.singular, "namespaced": r.namespaced}
            if s.group is not None:
                sub["group"], sub["version"] = s.group, s.version
            sub["kind"], sub["verbs"] = s.kind, s.verbs
            out.append(sub)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}


def aggregated(core: bool) -> dict:
    """APIGroupDiscoveryList for /api (core=True) or /apis."""
    items = []
    for group, versions in group_versions().items():
        if bool(group) == core:
            continue
        vlist = []
        for v in versions:
            resources = []
            for r in RESOURCES:
                if r.group != group or r.version != v:
                    continue
                item: dict[str, object] = {
                    "resource": r.plural,
                    "responseKind": {"group": group, "version": v, "kind": r.kind},
                    "scope": "Namespaced" if r.namespaced else "Cluster",
                    "singularResource": r.singular,
                    "verbs": r.verbs,
                }
                if r.short_names:
                    item["shortNames"] = r.short_names
                if r.categories:
                    item["categories"] = r.categories
                subs = []
                for s in r.subresources:
                    kind_group = s.group if s.group is not None else group
                    kind_version = s.version if s.version is not None else v
                    subs.append({
                        "subresource": s.name,
                        "responseKind": {"group": kind_group, "version": kind_version, "kind": s.kind},
                        "verbs": s.verbs,
                    })  # fmt: skip
                if subs:
                    item["subresources"] = subs
                resources.append(item)
            vlist.append({"version": v, "resources": resources, "freshness": "Current"})
        meta = {"name": group, "creationTimestamp": None} if group else {"creationTimestamp": None}
        items.append({"metadata": meta, "versions": vlist})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}
