# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When to upgrade: the newest released minor, the minors still patched, and where a cluster stands.

Kubernetes patches the three newest minors (https://kubernetes.io/releases/). The newest minor is given by the
user (``newest_minor``) or found in the package repository: pkgs.k8s.io has one repository per minor and answers
403 for a minor that does not exist, so the probe asks ``<base>/v1.NN/deb/InRelease`` upward from the cluster's
minor until the first minor that is not there. The probe is bounded (``MAX_PROBES`` requests, one deadline) and
only runs when asked for, so offline use never touches the network.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ClusterOpsError, InvalidInput
from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._versions.version import Version, shorten

DEFAULT_REPO_BASE_URL = "https://pkgs.k8s.io/core:/stable:"
SUPPORTED_MINORS = 3  # the three newest minors get patch releases
MAX_PROBES = 16  # minors asked for at most: more than five years of releases above the cluster's minor
MAX_PROBE_TIMEOUT = 300.0
MISSING_STATUSES = (403, 404)  # pkgs.k8s.io answers 403 for a minor it does not have; plain mirrors 404

# An opener: (url, timeout in seconds) -> HTTP status; raises OSError (timeouts included) when no answer comes.
Opener = Callable[[str, float], int]


class ProbeFailed(ClusterOpsError):
    """The repository could not tell the newest minor (unreachable, timed out, unexpected answers)."""


def minor_url(base_url: str, major: int, minor: int) -> str:
    """The file whose presence says that a minor exists: ``<base>/v1.30/deb/InRelease``."""
    return f"{base_url.rstrip('/')}/v{major}.{minor}/deb/InRelease"


def check_base_url(value: Any) -> str:
    """``repo_base_url``, validated: an http(s) URL without spaces."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"repo_base_url {shorten(value)} is not a URL: give e.g. {DEFAULT_REPO_BASE_URL!r}")
    text = value.strip()
    scheme, _sep, rest = text.partition("://")
    if scheme.lower() not in ("http", "https") or not rest or any(c.isspace() for c in text) or len(text) > 2048:
        raise InvalidInput(f"repo_base_url {shorten(value)} is not an http(s) URL: give e.g. {DEFAULT_REPO_BASE_URL!r}")
    return text


def check_timeout(value: Any) -> float:
    """``probe_timeout``, validated: seconds, more than 0 and at most ``MAX_PROBE_TIMEOUT``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_PROBE_TIMEOUT:
        raise InvalidInput(
            f"probe_timeout {shorten(value)} must be a number of seconds above 0 and at most {MAX_PROBE_TIMEOUT:g}"
        )
    return float(value)


def http_status(url: str, timeout: float) -> int:
    """The status of a GET of ``url`` (redirects followed), the body left unread; OSError when no answer came."""
    from http.client import HTTPException
    from urllib.error import HTTPError, URLError

    from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
    from ansible.module_utils.urls import open_url

    try:
        response = open_url(url, method="GET", timeout=timeout, follow_redirects="urllib2")
    except HTTPError as exc:
        exc.close()
        return int(exc.code)
    except URLError as exc:
        raise OSError(str(exc.reason)) from exc
    except (UrlsConnectionError, HTTPException) as exc:
        raise OSError(str(exc) or type(exc).__name__) from exc
    try:
        return int(response.getcode() or 0)
    finally:
        response.close()


def probe_newest_minor(
    base_url: str,
    start: Version,
    timeout: float,
    opener: Opener = http_status,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Version, list[dict[str, Any]]]:
    """The newest minor the repository has, asking upward from ``start``'s minor; and the answers seen.

    Minors missing below the first one found are skipped (a mirror that starts above the cluster's minor, or a
    cluster older than pkgs.k8s.io's oldest repository); the first missing minor after one found ends the probe.
    """
    deadline = clock() + timeout
    probes: list[dict[str, Any]] = []
    newest: Optional[Version] = None
    for minor in range(start.minor, start.minor + MAX_PROBES):
        url = minor_url(base_url, start.major, minor)
        left = deadline - clock()
        if left <= 0:
            raise ProbeFailed(
                f"probing {base_url} for the newest minor did not finish within probe_timeout {timeout:g}s "
                f"(last asked: v{start.major}.{minor - 1}); give newest_minor instead",
                probes=probes,
            )
        try:
            status = opener(url, left)
        except (OSError, ValueError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ProbeFailed(
                f"probing {url} failed: {reason}; check repo_base_url or give newest_minor instead", probes=probes
            ) from exc
        probes.append({"minor": f"v{start.major}.{minor}", "url": url, "status": status})
        if 200 <= status < 300:
            newest = Version(start.major, minor)
        elif status in MISSING_STATUSES:
            if newest is not None:
                return newest, probes
        else:
            raise ProbeFailed(
                f"probing {url} answered HTTP {status} (expected 200, or 403/404 for a minor that does not exist); "
                "check repo_base_url or give newest_minor instead",
                probes=probes,
            )
    last = f"v{start.major}.{start.minor + MAX_PROBES - 1}"
    if newest is None:
        raise ProbeFailed(
            f"{base_url} has no minor from v{start.major}.{start.minor} to {last} (each answered 403/404); "
            "check repo_base_url or give newest_minor instead",
            probes=probes,
        )
    raise ProbeFailed(
        f"{base_url} answered for every minor up to {last}: not a repository with one directory per minor; "
        "check repo_base_url or give newest_minor instead",
        probes=probes,
    )


def minor_of(version: Version) -> Version:
    return Version(version.major, version.minor)


def support_window(
    cluster: Version,
    newest: Version,
    source: str,
    target: Optional[Version] = None,
    probes: Optional[list[dict[str, Any]]] = None,
) -> dict[str, Any]:
    """Where ``cluster`` (and ``target``) stand among the minors still patched; ``summary`` in one line."""
    newest = minor_of(newest)
    if cluster.major != newest.major:
        raise InvalidInput(f"newest_minor {newest} is not of the cluster's major {cluster.major}")
    if newest.minor < cluster.minor:
        what = "the probe found" if source == "probe" else "newest_minor"
        raise InvalidInput(
            f"{what} {newest} is older than the cluster's {cluster}: give the newest released minor as newest_minor"
        )
    oldest_supported = max(newest.minor - SUPPORTED_MINORS + 1, 0)
    supported_minors = [f"v{newest.major}.{m}" for m in range(oldest_supported, newest.minor + 1)]
    behind = newest.minor - cluster.minor
    supported = behind < SUPPORTED_MINORS
    cluster_minor = f"v{cluster.major}.{cluster.minor}"
    until = f"v{cluster.major}.{cluster.minor + SUPPORTED_MINORS}"
    if behind == 0:
        summary = f"{cluster_minor} is the newest minor; it is supported until {until} is released"
    elif supported:
        summary = (
            f"{cluster_minor} is supported until {until} is released; "
            f"{behind} minor{'s' if behind > 1 else ''} behind the newest ({newest})"
        )
    else:
        summary = (
            f"{cluster_minor} is no longer supported (since {until} was released); "
            f"{behind} minors behind the newest ({newest}), the supported minors are {', '.join(supported_minors)}"
        )
    return {
        "newest_minor": str(newest),
        "supported_minors": supported_minors,
        "cluster_minor": cluster_minor,
        "supported": supported,
        "minors_behind": behind,
        "supported_until": until,
        "target_supported": (oldest_supported <= target.minor <= newest.minor) if target is not None else None,
        "source": source,
        "probes": probes or [],
        "summary": summary,
    }
