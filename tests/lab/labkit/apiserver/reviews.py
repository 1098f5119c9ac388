"""The create-only API objects that answer at once: access and rules reviews (``kubectl auth can-i``), who-am-I
(``kubectl auth whoami``), token reviews, and ``serviceaccounts/<name>/token`` (``kubectl create token``)."""

from __future__ import annotations

import datetime
from typing import Any

from . import errors
from .authn import Authenticator, User
from .authz import Attributes, Authorizer
from .registry import Registry, now_iso
from .resources import BY_NAME, Resource

TOKEN_REQUEST = Resource("serviceaccounts", "serviceaccount", "TokenRequest", "authentication.k8s.io", "v1", True, "-")
MIN_EXPIRATION = 600
DEFAULT_EXPIRATION = 3600


def _answer(kind: str, api_version: str, body: dict, status: dict) -> dict:
    meta = {k: v for k, v in (body.get("metadata") or {}).items() if k in ("name", "namespace")}
    return {"kind": kind, "apiVersion": api_version, "metadata": {**meta, "creationTimestamp": None},
            "spec": body.get("spec") or {}, "status": status}  # fmt: skip


def attributes_of(user: User, spec: dict, namespace: str | None = None) -> Attributes:
    resource = spec.get("resourceAttributes")
    if resource is not None:
        return Attributes(user, resource.get("verb", ""), True, namespace or resource.get("namespace", ""),
                          resource.get("group", ""), resource.get("version", ""), resource.get("resource", ""),
                          resource.get("subresource", ""), resource.get("name", ""))  # fmt: skip
    other = spec.get("nonResourceAttributes") or {}
    return Attributes(user, other.get("verb", ""), False, path=other.get("path", ""))


def access_status(authorizer: Authorizer, attrs: Attributes) -> dict[str, Any]:
    allowed, reason = authorizer.decide(attrs)
    status: dict[str, Any] = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return status


def rules_status(authorizer: Authorizer, user: User, namespace: str) -> dict[str, Any]:
    """SelfSubjectRulesReview: the RBAC rules that apply in the namespace (the Node authorizer lists none)."""
    resource_rules, other_rules = [], []
    if "AlwaysAllow" in authorizer.modes:
        resource_rules.append({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
        other_rules.append({"verbs": ["*"], "nonResourceURLs": ["*"]})
    if authorizer.rbac is not None:
        for rule, _ in authorizer.rbac.rules(user, namespace):
            if rule.get("nonResourceURLs"):
                other_rules.append({"verbs": rule["verbs"], "nonResourceURLs": rule["nonResourceURLs"]})
            else:
                entry = {k: rule[k] for k in ("verbs", "apiGroups", "resources", "resourceNames") if rule.get(k)}
                resource_rules.append(entry)
    return {"resourceRules": resource_rules, "nonResourceRules": other_rules, "incomplete": False}


def review(res: Resource, namespace: str | None, body: dict, user: User, authorizer: Authorizer,
           authenticator: Authenticator) -> dict:  # fmt: skip
    spec = body.get("spec") or {}
    if res.plural == "selfsubjectaccessreviews":
        return _answer(res.kind, res.api_version, body, access_status(authorizer, attributes_of(user, spec)))
    if res.plural == "selfsubjectrulesreviews":
        return _answer(res.kind, res.api_version, body, rules_status(authorizer, user, spec.get("namespace", "")))
    if res.plural in ("subjectaccessreviews", "localsubjectaccessreviews"):
        subject = User(spec.get("user", ""), list(spec.get("groups") or []), spec.get("uid", ""),
                       dict(spec.get("extra") or {}))  # fmt: skip
        if res.plural == "localsubjectaccessreviews":
            inner = (spec.get("resourceAttributes") or {}).get("namespace", namespace)
            if inner != namespace:
                raise errors.bad_request(f"spec.resourceAttributes.namespace must match namespace: {namespace}")
        return _answer(res.kind, res.api_version, body,
                       access_status(authorizer, attributes_of(subject, spec, namespace)))  # fmt: skip
    if res.plural == "selfsubjectreviews":
        return {"kind": res.kind, "apiVersion": res.api_version, "metadata": {"creationTimestamp": None},
                "status": {"userInfo": user.info()}}  # fmt: skip
    if res.plural == "tokenreviews":
        try:
            reviewed = authenticator.token_user(spec.get("token", ""))
        except errors.ApiError:
            reviewed = None
        status: dict[str, Any] = {"authenticated": reviewed is not None, "user": reviewed.info() if reviewed else {}}
        if reviewed is not None:
            status["audiences"] = list(spec.get("audiences") or authenticator.audiences)
        return _answer(res.kind, res.api_version, body, status)
    raise errors.ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed")


def token_request(registry: Registry, signer, issuer: str, audiences: list[str], namespace: str, name: str,
                  body: dict) -> dict:  # fmt: skip
    """TokenRequest for a ServiceAccount: a signed JWT for the requested audiences and lifetime, optionally
    bound to a Pod, Secret or Node that must exist."""
    sa = registry.get(BY_NAME["serviceaccounts"], namespace, name).obj
    spec = dict(body.get("spec") or {})
    seconds = int(spec.get("expirationSeconds") or DEFAULT_EXPIRATION)
    if seconds < MIN_EXPIRATION:
        raise errors.invalid(TOKEN_REQUEST, name, [errors.field_invalid(
            "spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes")])  # fmt: skip
    bound = None
    ref = spec.get("boundObjectRef")
    if ref:
        kind = ref.get("kind")
        res = {"Pod": BY_NAME["pods"], "Secret": BY_NAME["secrets"], "Node": BY_NAME["nodes"]}.get(kind)
        if res is None:
            raise errors.invalid(TOKEN_REQUEST, name, [errors.field_not_supported(
                "spec.boundObjectRef.kind", kind, ["Pod", "Secret", "Node"])])  # fmt: skip
        target = registry.get(res, None if kind == "Node" else namespace, ref.get("name", "")).obj
        if ref.get("uid") and ref["uid"] != target["metadata"]["uid"]:
            raise errors.conflict(res, ref.get("name", ""), "the UID in the bound object reference does not match")
        bound = {"kind": kind, "name": target["metadata"]["name"], "uid": target["metadata"]["uid"]}
    from .satokens import bound_claims

    wanted = list(spec.get("audiences") or audiences)
    claims = bound_claims(issuer, wanted, seconds, namespace, sa, bound if bound and bound["kind"] != "Node" else None,
                          bound if bound and bound["kind"] == "Node" else None)  # fmt: skip
    expires = datetime.datetime.fromtimestamp(claims["exp"], datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    spec.update({"audiences": wanted, "expirationSeconds": seconds, "boundObjectRef": ref or None})
    return {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": now_iso()}, "spec": spec,
            "status": {"token": signer.sign(claims), "expirationTimestamp": expires}}  # fmt: skip
