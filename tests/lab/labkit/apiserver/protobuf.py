"""Decode the protobuf request bodies that client-go's typed clients send (kubectl create namespace,
kubectl drain's Eviction and DeleteOptions, ...).

client-go encodes built-in types as protobuf (`application/vnd.kubernetes.protobuf`) and does not fall
back to JSON, so the lab reads the few kinds kubectl writes this way; others get a 415. Field numbers
are those of k8s.io/api and k8s.io/apimachinery generated.proto.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

MAGIC = b"k8s\x00"

# Schema: field number -> (json name, type); type is "string", "bytes", "int", "int?" (a Go pointer: zero
# is a value), "bool", "bool?", "intstr", a schema dict, ("repeated", type) or ("map", value type). Go
# always encodes its non-pointer fields, so empty strings, zero "int"s and false "bool"s are dropped, as
# JSON's omitempty would.
TIME = {1: ("seconds", "int"), 2: ("nanos", "int")}
OWNER_REF = {
    1: ("kind", "string"),
    3: ("name", "string"),
    4: ("uid", "string"),
    5: ("apiVersion", "string"),
    6: ("controller", "bool?"),
    7: ("blockOwnerDeletion", "bool?"),
}
OBJECT_META = {
    1: ("name", "string"),
    2: ("generateName", "string"),
    3: ("namespace", "string"),
    5: ("uid", "string"),
    6: ("resourceVersion", "string"),
    7: ("generation", "int"),
    8: ("creationTimestamp", TIME),
    9: ("deletionTimestamp", TIME),
    10: ("deletionGracePeriodSeconds", "int?"),
    11: ("labels", ("map", "string")),
    12: ("annotations", ("map", "string")),
    13: ("ownerReferences", ("repeated", OWNER_REF)),
    14: ("finalizers", ("repeated", "string")),
}
PRECONDITIONS = {1: ("uid", "string"), 2: ("resourceVersion", "string")}
DELETE_OPTIONS = {
    1: ("gracePeriodSeconds", "int?"),
    2: ("preconditions", PRECONDITIONS),
    3: ("orphanDependents", "bool?"),
    4: ("propagationPolicy", "string"),
    5: ("dryRun", ("repeated", "string")),
    6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "bool?"),
}
OBJECT_REF = {
    1: ("kind", "string"),
    2: ("namespace", "string"),
    3: ("name", "string"),
    4: ("uid", "string"),
    5: ("apiVersion", "string"),
    6: ("resourceVersion", "string"),
    7: ("fieldPath", "string"),
}
LABEL_SELECTOR = {
    1: ("matchLabels", ("map", "string")),
    2: ("matchExpressions", ("repeated", {1: ("key", "string"), 2: ("operator", "string"),
                                          3: ("values", ("repeated", "string"))})),
}  # fmt: skip
QUANTITY = {1: ("string", "string")}
CONTAINER = {
    1: ("name", "string"),
    2: ("image", "string"),
    3: ("command", ("repeated", "string")),
    4: ("args", ("repeated", "string")),
    5: ("workingDir", "string"),
    6: ("ports", ("repeated", {1: ("name", "string"), 2: ("hostPort", "int"), 3: ("containerPort", "int"),
                               4: ("protocol", "string"), 5: ("hostIP", "string")})),
    7: ("env", ("repeated", {1: ("name", "string"), 2: ("value", "string")})),
    8: ("resources", {1: ("limits", ("map", QUANTITY)), 2: ("requests", ("map", QUANTITY))}),
    13: ("terminationMessagePath", "string"),
    14: ("imagePullPolicy", "string"),
    16: ("stdin", "bool"),
    17: ("stdinOnce", "bool"),
    18: ("tty", "bool"),
    20: ("terminationMessagePolicy", "string"),
}  # fmt: skip
TOLERATION = {1: ("key", "string"), 2: ("operator", "string"), 3: ("value", "string"), 4: ("effect", "string"),
              5: ("tolerationSeconds", "int?")}  # fmt: skip
POD_SPEC = {
    2: ("containers", ("repeated", CONTAINER)),
    3: ("restartPolicy", "string"),
    4: ("terminationGracePeriodSeconds", "int?"),
    5: ("activeDeadlineSeconds", "int?"),
    6: ("dnsPolicy", "string"),
    7: ("nodeSelector", ("map", "string")),
    8: ("serviceAccountName", "string"),
    10: ("nodeName", "string"),
    11: ("hostNetwork", "bool"),
    14: ("securityContext", {2: ("runAsUser", "int?"), 3: ("runAsNonRoot", "bool?"), 6: ("runAsGroup", "int?")}),
    16: ("hostname", "string"),
    17: ("subdomain", "string"),
    19: ("schedulerName", "string"),
    20: ("initContainers", ("repeated", CONTAINER)),
    22: ("tolerations", ("repeated", TOLERATION)),
    24: ("priorityClassName", "string"),
    25: ("priority", "int?"),
}
POD_TEMPLATE = {1: ("metadata", OBJECT_META), 2: ("spec", POD_SPEC)}
KINDS: dict[str, dict[int, tuple[str, Any]]] = {
    "Eviction": {1: ("metadata", OBJECT_META), 2: ("deleteOptions", DELETE_OPTIONS)},
    "DeleteOptions": DELETE_OPTIONS,
    "Namespace": {1: ("metadata", OBJECT_META), 2: ("spec", {1: ("finalizers", ("repeated", "string"))})},
    "ConfigMap": {
        1: ("metadata", OBJECT_META),
        2: ("data", ("map", "string")),
        3: ("binaryData", ("map", "bytes")),
        4: ("immutable", "bool?"),
    },
    "Secret": {
        1: ("metadata", OBJECT_META),
        2: ("data", ("map", "bytes")),
        3: ("type", "string"),
        4: ("stringData", ("map", "string")),
        5: ("immutable", "bool?"),
    },
    "Binding": {1: ("metadata", OBJECT_META), 2: ("target", OBJECT_REF)},
    "ServiceAccount": {1: ("metadata", OBJECT_META)},
    "Pod": {1: ("metadata", OBJECT_META), 2: ("spec", POD_SPEC)},
    "Deployment": {
        1: ("metadata", OBJECT_META),
        2: (
            "spec",
            {
                1: ("replicas", "int?"),
                2: ("selector", LABEL_SELECTOR),
                3: ("template", POD_TEMPLATE),
                4: ("strategy", {1: ("type", "string")}),
                5: ("minReadySeconds", "int"),
                6: ("revisionHistoryLimit", "int?"),
                7: ("paused", "bool"),
                9: ("progressDeadlineSeconds", "int?"),
            },
        ),
    },
    "Job": {
        1: ("metadata", OBJECT_META),
        2: (
            "spec",
            {
                1: ("parallelism", "int?"),
                2: ("completions", "int?"),
                3: ("activeDeadlineSeconds", "int?"),
                4: ("selector", LABEL_SELECTOR),
                5: ("manualSelector", "bool?"),
                6: ("template", POD_TEMPLATE),
                7: ("backoffLimit", "int?"),
                8: ("ttlSecondsAfterFinished", "int?"),
                9: ("completionMode", "string"),
                10: ("suspend", "bool?"),
                14: ("podReplacementPolicy", "string"),
            },
        ),
    },
    "SelfSubjectAccessReview": {
        1: ("metadata", OBJECT_META),
        2: (
            "spec",
            {
                1: (
                    "resourceAttributes",
                    {
                        1: ("namespace", "string"),
                        2: ("verb", "string"),
                        3: ("group", "string"),
                        4: ("version", "string"),
                        5: ("resource", "string"),
                        6: ("subresource", "string"),
                        7: ("name", "string"),
                    },
                ),
                2: ("nonResourceAttributes", {1: ("path", "string"), 2: ("verb", "string")}),
            },
        ),
    },
    "SelfSubjectRulesReview": {1: ("metadata", OBJECT_META), 2: ("spec", {1: ("namespace", "string")})},
    "SelfSubjectReview": {1: ("metadata", OBJECT_META)},
    "TokenRequest": {
        1: ("metadata", OBJECT_META),
        2: (
            "spec",
            {
                1: ("audiences", ("repeated", "string")),
                3: (
                    "boundObjectRef",
                    {1: ("kind", "string"), 2: ("apiVersion", "string"), 3: ("name", "string"), 4: ("uid", "string")},
                ),
                4: ("expirationSeconds", "int?"),
            },
        ),
    },
    "PodDisruptionBudget": {
        1: ("metadata", OBJECT_META),
        2: (
            "spec",
            {
                1: ("minAvailable", "intstr"),
                2: ("selector", LABEL_SELECTOR),
                3: ("maxUnavailable", "intstr"),
                4: ("unhealthyPodEvictionPolicy", "string"),
            },
        ),
    },
}
UNKNOWN = {1: ("typeMeta", {1: ("apiVersion", "string"), 2: ("kind", "string")}), 2: ("raw", "bytes")}


class ProtobufError(ValueError):
    pass


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(data):
            raise ProtobufError("truncated varint")
        b = data[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def fields(data: bytes):
    """Yield (field number, wire type, value) of one message."""
    i = 0
    while i < len(data):
        tag, i = _varint(data, i)
        num, wire = tag >> 3, tag & 7
        value: int | bytes
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i : i + size], i + size
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        yield num, wire, value


def _scalar(kind, value):
    if kind == "string":
        return value.decode()
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind in ("int", "int?"):
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind in ("bool", "bool?"):
        return bool(value)
    if kind == "intstr":  # IntOrString: type 0 int, 1 string
        parts = {n: v for n, _w, v in fields(value)}
        return parts.get(3, b"").decode() if parts.get(1) == 1 else parts.get(2, 0)
    if kind is QUANTITY:
        return decode(value, QUANTITY).get("string", "0")
    if isinstance(kind, dict):
        return decode(value, kind)
    raise ProtobufError(f"unknown type {kind}")


def decode(data: bytes, schema: dict) -> dict:
    out: dict = {}
    for num, _wire, value in fields(data):
        if num not in schema:
            continue
        name, kind = schema[num]
        if isinstance(kind, tuple) and kind[0] == "repeated":
            out.setdefault(name, []).append(_scalar(kind[1], value))
        elif isinstance(kind, tuple) and kind[0] == "map":
            entry = {n: v for n, _w, v in fields(value)}
            out.setdefault(name, {})[entry.get(1, b"").decode()] = _scalar(kind[1], entry.get(2, b""))
        else:
            value = _scalar(kind, value)
            if value == "" or (kind == "int" and value == 0) or (kind == "bool" and not value):
                continue
            if kind is TIME:
                if not value.get("seconds"):
                    continue
                t = datetime.datetime.fromtimestamp(value["seconds"], datetime.timezone.utc)
                value = t.strftime("%Y-%m-%dT%H:%M:%SZ")
            out[name] = value
    return out


def decode_body(raw: bytes) -> dict:
    """A protobuf envelope (k8s\\0 + runtime.Unknown) -> the JSON-shaped object."""
    if not raw.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf prefix")
    unknown = decode(raw[len(MAGIC) :], UNKNOWN)
    type_meta = unknown.get("typeMeta") or {}
    kind = type_meta.get("kind", "")
    schema = KINDS.get(kind)
    if schema is None:
        raise ProtobufError(f"the lab cannot decode {kind or 'this kind'} from protobuf; send JSON")
    obj = decode(base64.b64decode(unknown.get("raw", "")), schema)
    obj["kind"] = kind
    if type_meta.get("apiVersion"):
        obj["apiVersion"] = type_meta["apiVersion"]
    return obj
