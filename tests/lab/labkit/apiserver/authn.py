"""Authentication, as kube-apiserver's chain does it: client certificates (CN the user, O the groups), a static
token file, ServiceAccount tokens (TokenRequest JWTs and legacy Secret tokens, checked against the objects
they name), anonymous requests (``system:anonymous``), and impersonation (``Impersonate-*`` headers)."""

from __future__ import annotations

import csv
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import ApiError
from .resources import BY_NAME

log = logging.getLogger("apiserver.authn")
SERVICE_ACCOUNTS, SECRETS, PODS = BY_NAME["serviceaccounts"], BY_NAME["secrets"], BY_NAME["pods"]
TOKEN_CACHE_SECONDS = 10.0  # kube-apiserver caches token authentication too
UNAUTHORIZED = ApiError(401, "Unauthorized", "Unauthorized")


@dataclass
class User:
    name: str
    groups: list[str] = field(default_factory=list)
    uid: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """authentication.k8s.io/v1 UserInfo."""
        out: dict[str, Any] = {"username": self.name, "groups": list(self.groups)}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = self.extra
        return out


ANONYMOUS = User("system:anonymous", ["system:unauthenticated"])


def authenticated(name: str, groups: list[str], uid: str = "", extra: dict | None = None) -> User:
    """A user with ``system:authenticated`` added, as the authenticator chain does for every credential."""
    groups = [g for g in groups if g != "system:authenticated"] + ["system:authenticated"]
    return User(name, groups, uid, extra or {})


def load_tokens(path: str | None) -> dict[str, User]:
    """A --token-auth-file CSV: token,user,uid[,"group1,group2"]."""
    tokens: dict[str, User] = {}
    if not path:
        return tokens
    with open(path, newline="") as fh:
        for row in csv.reader(fh):
            if len(row) >= 3 and not row[0].startswith("#"):
                groups = [g for g in (row[3].split(",") if len(row) > 3 else []) if g]
                tokens[row[0].strip()] = authenticated(row[1].strip(), groups, row[2].strip())
    return tokens


def service_account_user(namespace: str, name: str, uid: str, extra: dict | None = None) -> User:
    groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
    return authenticated(f"system:serviceaccount:{namespace}:{name}", groups, uid, extra)


class Authenticator:
    def __init__(self, config: dict, store):
        self.store = store
        self.tokens = load_tokens(config.get("token_file"))
        self.anonymous = bool(config.get("anonymous_auth", True))
        self.issuer = config.get("service_account_issuer") or "https://kubernetes.default.svc.cluster.local"
        self.audiences = set(config.get("api_audiences") or [self.issuer])
        self.verifier = None
        if config.get("service_account_key_file"):
            try:
                from .satokens import Verifier

                self.verifier = Verifier(config["service_account_key_file"])
            except ImportError:
                log.warning("no cryptography package: ServiceAccount tokens are not accepted")
        self.cache: dict[str, tuple[float, User]] = {}
        self.lock = threading.Lock()

    def authenticate(self, authorization: str, peer_cert: dict | None) -> User:
        if authorization[:7].lower() == "bearer ":
            user = self.token_user(authorization[7:].strip())
            if user is None:
                raise UNAUTHORIZED
            return user
        if peer_cert:
            cn, orgs = "", []
            for rdn in peer_cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
                    elif k == "organizationName":
                        orgs.append(v)
            return authenticated(cn, orgs)
        if self.anonymous:
            return ANONYMOUS
        raise UNAUTHORIZED

    def token_user(self, token: str) -> User | None:
        static = self.tokens.get(token)
        if static is not None:
            return static
        now = time.monotonic()
        with self.lock:
            cached = self.cache.get(token)
        if cached and cached[0] > now:
            return cached[1]
        user = self.service_account(token)
        if user is not None:
            with self.lock:
                if len(self.cache) > 4096:
                    self.cache.clear()
                self.cache[token] = (now + TOKEN_CACHE_SECONDS, user)
        return user

    def _get(self, res, namespace: str, name: str) -> dict | None:
        entry = self.store.get(res, self.store.cache_key(res, namespace, name))
        return entry.obj if entry is not None else None

    def service_account(self, token: str) -> User | None:
        claims = self.verifier.claims(token) if self.verifier is not None else None
        if not claims:
            return None
        if claims.get("iss") == "kubernetes/serviceaccount":
            return self._legacy(token, claims)
        if claims.get("iss") != self.issuer:
            return None
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences or []
        now = time.time()
        if not self.audiences.intersection(audiences) or now > claims.get("exp", 0) or now + 60 < claims.get("nbf", 0):
            return None
        private = claims.get("kubernetes.io") or {}
        namespace, sa_ref = private.get("namespace", ""), private.get("serviceaccount") or {}
        sa = self._get(SERVICE_ACCOUNTS, namespace, sa_ref.get("name", ""))
        if sa is None or sa["metadata"].get("uid") != sa_ref.get("uid"):
            return None
        extra = {"authentication.kubernetes.io/credential-id": [f"JTI={claims.get('jti', '')}"]}
        for kind, res in (("pod", PODS), ("secret", SECRETS)):
            bound = private.get(kind)
            if bound:
                obj = self._get(res, namespace, bound.get("name", ""))
                if obj is None or obj["metadata"].get("uid") != bound.get("uid"):
                    return None
                extra[f"authentication.kubernetes.io/{kind}-name"] = [bound["name"]]
                extra[f"authentication.kubernetes.io/{kind}-uid"] = [bound["uid"]]
        return service_account_user(namespace, sa["metadata"]["name"], sa["metadata"]["uid"], extra)

    def _legacy(self, token: str, claims: dict) -> User | None:
        namespace = claims.get("kubernetes.io/serviceaccount/namespace", "")
        secret = self._get(SECRETS, namespace, claims.get("kubernetes.io/serviceaccount/secret.name", ""))
        if secret is None:
            return None
        import base64

        stored = base64.b64decode((secret.get("data") or {}).get("token", "")).decode(errors="replace")
        if stored != token:
            return None
        name = claims.get("kubernetes.io/serviceaccount/service-account.name", "")
        sa = self._get(SERVICE_ACCOUNTS, namespace, name)
        if sa is None or sa["metadata"].get("uid") != claims.get("kubernetes.io/serviceaccount/service-account.uid"):
            return None
        return service_account_user(namespace, name, sa["metadata"]["uid"])


def impersonate(user: User, headers, allowed: Callable[[User, str, str, str, str], None]) -> User:
    """Apply ``Impersonate-User`` / ``-Group`` (repeatable) / ``-Uid`` / ``-Extra-*``; ``allowed(user, resource,
    namespace, name, group)`` raises the 403 when the ``impersonate`` verb is not granted."""
    name = headers.get("Impersonate-User")
    groups = headers.get_all("Impersonate-Group") or []
    uid = headers.get("Impersonate-Uid")
    extras = {k[len("Impersonate-Extra-"):].lower(): headers.get_all(k) for k in set(headers)
              if k.lower().startswith("impersonate-extra-")}  # fmt: skip
    if not name:
        if groups or uid or extras:
            raise ApiError(500, "Internal error occurred: requested [...] without impersonating a user",
                           "InternalError")  # fmt: skip
        return user
    if name.startswith("system:serviceaccount:") and name.count(":") == 3:
        _, _, namespace, sa = name.split(":")
        allowed(user, "serviceaccounts", namespace, sa, "")
        base_groups = ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
    else:
        allowed(user, "users", "", name, "")
        base_groups = []
    for group in groups:
        allowed(user, "groups", "", group, "")
    if uid:
        allowed(user, "uids", "", uid, "authentication.k8s.io")
    for key, values in extras.items():
        for value in values:
            allowed(user, f"userextras/{key}", "", value, "authentication.k8s.io")
    all_groups = base_groups + [g for g in groups if g not in base_groups]
    unauthenticated = {"system:authenticated", "system:unauthenticated"} & set(all_groups)
    if name != "system:anonymous" and not unauthenticated:
        all_groups.append("system:authenticated")
    return User(name, all_groups, uid or "", dict(extras))
