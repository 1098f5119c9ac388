"""JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch for the fields the lab uses."""

from __future__ import annotations

import copy

from .errors import ApiError, bad_request

# Lists merged by key in a strategic merge patch (patchMergeKey in the Kubernetes types), by field name.
MERGE_KEYS: dict[str, str | tuple[str, ...] | None] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "conditions": "type",
    "ownerReferences": "uid",
    "imagePullSecrets": "name",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
    "addresses": "type",
    "ports": ("containerPort", "port"),  # a container's ports, a Service's ports
    "hostAliases": "ip",
    "tolerations": None,
    "taints": None,
}
# Primitive lists merged as sets (patchStrategy:"merge").
MERGE_SETS = {"finalizers"}


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target, patch, field: str | None = None):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key == "$retainKeys":
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [v for v in result.get(name) or [] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        else:
            result[key] = strategic_merge_patch(result.get(key), value, key)
    return result


def _merge_list(field: str, current: list, patch: list) -> list:
    if field in MERGE_SETS:
        return list(dict.fromkeys([*current, *patch]))
    key = MERGE_KEYS.get(field)
    if isinstance(key, tuple):
        key = next((k for k in key if any(isinstance(x, dict) and k in x for x in patch)), key[0])
    if not key or not all(isinstance(x, dict) for x in patch):
        return copy.deepcopy([x for x in patch if not (isinstance(x, dict) and x.get("$patch"))])
    merged = list(current)
    for item in patch:
        if item.get("$patch") == "replace":
            return [dict(i) for i in patch if i.get("$patch") != "replace"]
        idx = next((i for i, cur in enumerate(merged) if isinstance(cur, dict) and cur.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                merged.pop(idx)
        elif idx is None:
            merged.append(strategic_merge_patch({}, item))
        else:
            merged[idx] = strategic_merge_patch(merged[idx], item)
    return merged


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"invalid JSON pointer: {path}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts: list[str]):
    cur = doc
    for part in parts:
        if isinstance(cur, list):
            cur = cur[int(part)]
        elif isinstance(cur, dict):
            cur = cur[part]
        else:
            raise KeyError(part)
    return cur


def json_patch(doc, ops: list):
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        try:
            doc = _apply_op(doc, op)
        except ApiError:
            raise
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ApiError(422, f"the server rejected our request due to an error in our request: {op}: {exc}",
                           "Invalid") from None  # fmt: skip
    return doc


def _apply_op(doc, op: dict):
    kind = op.get("op")
    parts = _pointer(op.get("path", ""))
    if kind == "test":
        if _walk(doc, parts) != op.get("value"):
            raise ApiError(422, f"testing value {op.get('path')} failed", "Invalid")
        return doc
    if kind in ("move", "copy"):
        value = copy.deepcopy(_walk(doc, _pointer(op["from"])))
        if kind == "move":
            doc = _remove(doc, _pointer(op["from"]))
        return _add(doc, parts, value)
    if kind == "add":
        return _add(doc, parts, copy.deepcopy(op.get("value")))
    if kind == "remove":
        return _remove(doc, parts)
    if kind == "replace":
        _walk(doc, parts)  # must exist
        if not parts:
            return copy.deepcopy(op.get("value"))
        parent = _walk(doc, parts[:-1])
        if isinstance(parent, list):
            parent[int(parts[-1])] = copy.deepcopy(op.get("value"))
        else:
            parent[parts[-1]] = copy.deepcopy(op.get("value"))
        return doc
    raise bad_request(f"unknown json patch operation {kind!r}")


def _add(doc, parts, value):
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            idx = int(last)
            if idx > len(parent):
                raise IndexError(idx)
            parent.insert(idx, value)
    else:
        parent[last] = value
    return doc


def _remove(doc, parts):
    parent = _walk(doc, parts[:-1])
    if isinstance(parent, list):
        parent.pop(int(parts[-1]))
    else:
        del parent[parts[-1]]
    return doc


def apply_patch(content_type: str, current: dict, patch) -> dict:
    ctype = content_type.split(";")[0].strip()
    if ctype == "application/json-patch+json":
        return json_patch(current, patch)
    if not isinstance(patch, dict):
        raise bad_request("patch body must be a JSON object")
    if ctype == "application/merge-patch+json":
        return merge_patch(current, patch)
    if ctype == "application/strategic-merge-patch+json":
        return strategic_merge_patch(current, patch)
    if ctype == "application/apply-patch+yaml":
        # Server-side apply is approximated as a merge of the applied configuration.
        return strategic_merge_patch(current, patch)
    raise ApiError(415, "the body of the request was in an unknown format - accepted media types include: "
                        "application/json-patch+json, application/merge-patch+json, "
                        "application/apply-patch+yaml, application/strategic-merge-patch+json",
                   "UnsupportedMediaType")  # fmt: skip
