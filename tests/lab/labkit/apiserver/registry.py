"""Create, update, patch and delete with kube-apiserver's semantics on top of the watch cache and etcd."""

from __future__ import annotations

import datetime
import random
import re
import uuid
from typing import Callable

from . import errors
from .defaults import apply_defaults, normalize
from .errors import ApiError
from .patch import apply_patch
from .resources import BY_NAME, Resource
from .store import Entry, Store, make_entry
from .validation import validate

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end "
    "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
NAMESPACES = BY_NAME["namespaces"]
PODS = BY_NAME["pods"]
NODES = BY_NAME["nodes"]
NAMESPACE_PURGING = (
    "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will "
    "automatically be purged by the system."
)
IMMUTABLE_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")
RETRIES = 20
PHASE = ("status", "phase")


def now_iso(offset: float = 0.0) -> str:
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(n: int = 5) -> str:
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def _same(a: dict, b: dict) -> bool:
    """Equal apart from resourceVersion."""
    ma = {k: v for k, v in (a.get("metadata") or {}).items() if k != "resourceVersion"}
    mb = {k: v for k, v in (b.get("metadata") or {}).items() if k != "resourceVersion"}
    return ma == mb and {k: v for k, v in a.items() if k != "metadata"} == {
        k: v for k, v in b.items() if k != "metadata"
    }


class Registry:
    def __init__(self, store: Store):
        self.store = store

    # --- reads -----------------------------------------------------------------------------------------------

    def key(self, res: Resource, namespace: str | None, name: str) -> str:
        return self.store.cache_key(res, namespace, name)

    def get(self, res: Resource, namespace: str | None, name: str) -> Entry:
        entry = self.store.get(res, self.key(res, namespace, name))
        if entry is None:
            raise errors.not_found(res, name)
        return entry

    def namespace_terminating(self, namespace: str) -> bool:
        ns = self.store.get(NAMESPACES, namespace)
        return ns is not None and ns.fields[PHASE] == "Terminating"

    def check_namespace_for_create(self, res: Resource, namespace: str | None, name: str) -> None:
        """The NamespaceLifecycle admission plugin: no new content in a missing or terminating namespace."""
        # None (a namespaced POST on the all-namespaces path): no such namespace either.
        ns = self.store.get(NAMESPACES, namespace) if namespace is not None else None
        if ns is None:
            raise errors.not_found(NAMESPACES, namespace)
        if ns.fields[PHASE] == "Terminating":
            cause = {
                "reason": "NamespaceTerminating",
                "message": f"namespace {namespace} is being terminated",
                "field": "metadata.namespace",
            }
            why = f"unable to create new content in namespace {namespace} because it is being terminated"
            raise errors.forbidden(res, name, why, [cause])

    # --- create ----------------------------------------------------------------------------------------------

    def create(self, res: Resource, namespace: str | None, body, dry_run: bool = False) -> Entry:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request is not a JSON object")
        obj = dict(body)  # the decoded request body is ours: only its top levels are replaced below
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        meta = obj["metadata"] = dict(obj.get("metadata") or {})
        name = meta.get("name")
        if not name and meta.get("generateName"):
            name = meta["name"] = meta["generateName"] + random_suffix()
        if not name:
            raise errors.invalid(res, "", [{"reason": "FieldValueRequired",
                                            "message": "Required value: name or generateName is required",
                                            "field": "metadata.name"}])  # fmt: skip
        self.validate_name(res, name)
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
            self.check_namespace_for_create(res, namespace, name)
        else:
            meta.pop("namespace", None)
        for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(field, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_iso()
        if res.generation:
            meta["generation"] = 1
        apply_defaults(res.plural, obj)
        normalize(res.plural, obj)
        validate(res, obj)
        key = self.key(res, namespace, name)
        if dry_run:
            return make_entry(res.plural, key, obj, 0)
        result = self.store.put(res, key, obj, 0)
        if not isinstance(result, Entry):
            raise errors.already_exists(res, name)
        return result

    @staticmethod
    def validate_name(res: Resource, name: str) -> None:
        if res.group == "rbac.authorization.k8s.io":  # ValidateRBACName: any path segment (system:discovery)
            bad = next((f"may not contain '{c}'" for c in ("/", "%") if c in name), None)
            if name in (".", ".."):
                bad = f"may not be '{name}'"
            if bad:
                raise errors.invalid(res, name, [errors.field_invalid("metadata.name", name, bad)])
            return
        label_only = res.plural in ("namespaces", "services")
        pattern, msg = (DNS1123_LABEL, LABEL_MSG) if label_only else (DNS1123_SUBDOMAIN, SUBDOMAIN_MSG)
        if len(name) > (63 if label_only else 253) or not pattern.match(name):
            raise errors.invalid(res, name, [errors.field_invalid("metadata.name", name, msg)])

    # --- update and patch ------------------------------------------------------------------------------------

    def prepare_update(self, res: Resource, old: dict, new: dict, sub: str | None) -> dict:
        """What would be stored: the status strategy keeps spec, the main strategy keeps status.

        old is a fresh parse and new a decoded body or patch result: both are ours, so the result shares
        their parts; only top-level dicts that change are copied (callers may retry with the same new).
        """
        if sub == "status":
            out = dict(old, metadata=dict(old["metadata"]))
            out["status"] = new.get("status")
            if res.plural == "nodes":  # the kubelet also updates labels and annotations through nodes/status
                for field in ("labels", "annotations"):
                    if field in (new.get("metadata") or {}):
                        out["metadata"][field] = new["metadata"][field]
            return out
        if sub == "finalize":
            out = dict(old, spec=dict(old.get("spec") or {}))
            out["spec"]["finalizers"] = list((new.get("spec") or {}).get("finalizers") or [])
            return out
        out = dict(new)
        out["apiVersion"], out["kind"] = res.api_version, res.kind
        meta = out["metadata"] = dict(out.get("metadata") or {})
        old_meta = old["metadata"]
        meta["name"] = old_meta["name"]
        if res.namespaced:
            meta["namespace"] = old_meta["namespace"]
        for field in IMMUTABLE_META:
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        if res.has_status or res.plural == "namespaces":
            if "status" in old:
                out["status"] = old["status"]
            else:
                out.pop("status", None)
        if res.plural == "namespaces":
            out["spec"] = old.get("spec") or {}
        if res.generation and out.get("spec") != old.get("spec"):
            meta["generation"] = int(old_meta.get("generation") or 0) + 1
        if res.plural == "pods" and old.get("spec", {}).get("nodeName") and not out.get("spec", {}).get("nodeName"):
            out.setdefault("spec", {})["nodeName"] = old["spec"]["nodeName"]
        return out

    def _finished(self, res: Resource, obj: dict) -> bool:
        """Marked for deletion and nothing holds it any more: remove it from storage."""
        meta = obj["metadata"]
        if not meta.get("deletionTimestamp") or meta.get("finalizers"):
            return False
        if res.plural == "namespaces":
            return not (obj.get("spec") or {}).get("finalizers")
        return res.plural != "pods" or meta.get("deletionGracePeriodSeconds") in (0, None)

    def write(self, res: Resource, current: Entry, new: dict, name: str) -> Entry:
        """Store new in place of current, or remove the object when its deletion is complete."""
        normalize(res.plural, new)
        if _same(current.obj, new):
            return current
        if self._finished(res, new):
            rev = self.store.remove(res, current.key, current.rv)
            if rev is None:
                raise errors.conflict(res, name, errors.MODIFIED)
            return make_entry(res.plural, current.key, new, rev)
        result = self.store.put(res, current.key, new, current.rv)
        if not isinstance(result, Entry):
            if result == 0:
                raise errors.not_found(res, name)
            raise errors.conflict(res, name, errors.MODIFIED)
        return result

    def update(self, res: Resource, namespace: str | None, name: str, body, sub: str | None = None) -> Entry:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request is not a JSON object")
        body_name = (body.get("metadata") or {}).get("name")
        if body_name and body_name != name:
            raise errors.bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL ({name})"
            )
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        for _ in range(RETRIES):
            current = self.get(res, namespace, name)
            if wanted and str(wanted) != str(current.rv):
                raise errors.conflict(res, name, errors.MODIFIED)
            new = self.prepare_update(res, current.obj, body, sub)
            try:
                return self.write(res, current, new, name)
            except ApiError as exc:
                if exc.reason != "Conflict" or wanted:
                    raise
        raise errors.conflict(res, name, errors.MODIFIED)

    def patch(self, res: Resource, namespace: str | None, name: str, ctype: str, patch, sub: str | None = None,
              check: Callable[[dict], dict] | None = None):  # fmt: skip
        """check(patched) -> what to store (field validation of the patched object)."""
        for _ in range(RETRIES):
            current = self.get(res, namespace, name)
            patched = apply_patch(ctype, current.obj, patch)
            if not isinstance(patched, dict):
                raise errors.bad_request("the patch did not produce an object")
            if check is not None:
                patched = check(patched)
            wanted = (patched.get("metadata") or {}).get("resourceVersion")
            if wanted and str(wanted) != str(current.rv):
                raise errors.conflict(res, name, errors.MODIFIED)
            new = self.prepare_update(res, current.obj, patched, sub)
            try:
                return self.write(res, current, new, name)
            except ApiError as exc:
                if exc.reason != "Conflict":
                    raise
                if isinstance(patch, dict) and (patch.get("metadata") or {}).get("resourceVersion"):
                    raise
        raise errors.conflict(res, name, errors.MODIFIED)

    # --- delete ----------------------------------------------------------------------------------------------

    def _grace_for(self, res: Resource, obj: dict, options: dict) -> int:
        if res.plural != "pods":
            return 0
        grace = options.get("gracePeriodSeconds")
        if grace is None:
            grace = (obj.get("spec") or {}).get("terminationGracePeriodSeconds")
            grace = 30 if grace is None else grace
        node = (obj.get("spec") or {}).get("nodeName")
        if not node or self.store.get(NODES, node) is None:  # unscheduled, or its node is gone: nothing to stop
            grace = 0
        if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            grace = 0
        return max(int(grace), 0) if int(grace) >= 0 else 1

    def delete(self, res: Resource, namespace: str | None, name: str, options: dict, mutate=None) -> tuple[Entry, dict]:
        """Delete gracefully. Returns (entry still present or last state, Status details when removed).

        mutate(obj), when given, changes the object in the same write that starts a graceful deletion.
        """
        for _ in range(RETRIES):
            current = self.get(res, namespace, name)
            meta = current.obj["metadata"]
            pre = options.get("preconditions") or {}
            if pre.get("uid") and pre["uid"] != meta.get("uid"):
                why = f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.get('uid')}"
                raise errors.conflict(res, name, why)
            if pre.get("resourceVersion") and str(pre["resourceVersion"]) != str(current.rv):
                why = (
                    f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                    f"ResourceVersion in object meta: {current.rv}"
                )
                raise errors.conflict(res, name, why)
            purging = res is NAMESPACES and meta.get("deletionTimestamp")
            if purging and (current.obj.get("spec") or {}).get("finalizers"):
                raise errors.conflict(res, name, NAMESPACE_PURGING)  # deleted already: the controller is at work
            try:
                return self._delete_once(res, current, name, options, mutate)
            except ApiError as exc:
                if exc.reason != "Conflict" or pre.get("resourceVersion"):
                    raise
        raise errors.conflict(res, name, errors.MODIFIED)

    def _delete_once(self, res: Resource, current: Entry, name: str, options: dict, mutate=None):
        obj = current.obj
        if mutate is not None:
            mutate(obj)
        meta = obj["metadata"]
        if res.plural == "namespaces":
            if not meta.get("deletionTimestamp"):
                meta["deletionTimestamp"] = now_iso()
                meta["deletionGracePeriodSeconds"] = 0
                obj["status"] = dict(obj.get("status") or {}, phase="Terminating")
                return self.write(res, current, obj, name), {}
            return current, {}
        propagation = options.get("propagationPolicy")
        if propagation is None and "orphanDependents" in options:
            propagation = "Orphan" if options["orphanDependents"] else "Background"
        if propagation is None and res.plural == "jobs":
            propagation = "Orphan"  # the batch/v1 Job strategy's DefaultGarbageCollectionPolicy
        if propagation in ("Foreground", "Orphan"):
            finalizer = "foregroundDeletion" if propagation == "Foreground" else "orphan"
            if not meta.get("deletionTimestamp"):
                meta.setdefault("finalizers", [])
                if finalizer not in meta["finalizers"]:
                    meta["finalizers"].append(finalizer)
        if meta.get("deletionTimestamp"):
            existing = meta.get("deletionGracePeriodSeconds")
            grace = options.get("gracePeriodSeconds")
            if existing and grace is not None and int(grace) < existing:
                # Only a shorter grace period may be given: deletionTimestamp moves earlier by the difference.
                meta["deletionTimestamp"] = _shift(meta["deletionTimestamp"], int(grace) - existing)
                meta["deletionGracePeriodSeconds"] = int(grace)
            elif existing:  # graceful deletion already pending
                return current, {}
        else:
            grace = self._grace_for(res, obj, options)
            meta["deletionTimestamp"] = now_iso(grace)
            meta["deletionGracePeriodSeconds"] = grace
            if grace == 0 and not meta.get("finalizers"):
                meta.pop("deletionTimestamp")
                meta.pop("deletionGracePeriodSeconds")
                return self._remove(res, current, name)
        if self._finished(res, obj):
            return self._remove(res, current, name)
        return self.write(res, current, obj, name), {}

    def _remove(self, res: Resource, current: Entry, name: str):
        rev = self.store.remove(res, current.key, current.rv)
        if rev is None:
            raise errors.conflict(res, name, errors.MODIFIED)
        details = {"name": name, "kind": res.plural, "uid": current.uid}
        if res.group:
            details["group"] = res.group
        return current, details


def _shift(timestamp: str, seconds: int) -> str:
    t = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return (t + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
