# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes versions: every form users meet, parsed into one immutable, ordered value.

Accepted forms (a leading ``v`` is optional everywhere)::

    v1.30.2  1.30.2  1.30                 release, or a minor line (``1.30`` orders as ``1.30.0``)
    v1.31.0-rc.1  v1.29.0-alpha.2         pre-releases: alpha < beta < rc < release
    1.30.2-1.1  1.27.4-00  1.31.0~rc.1-1.1  package versions (pkgs.k8s.io, legacy apt.kubernetes.io)
    registry.k8s.io/kube-apiserver:v1.30.2[@sha256:...]   image references: the tag is the version
    v1.30.2+k3s1                          semver build metadata: accepted, kept in ``raw``, ignored in order

Anything else (vendor suffixes like ``-gke.100``, ``1.x``, ``banana``) raises ``InvalidInput`` naming the value.
A number (YAML reads an unquoted ``1.30`` as the float 1.3) is refused with a "quote it" hint, digits are ASCII
only (``v1.٣٠`` is no version), and a value longer than ``MAX_LENGTH`` characters is refused before any
pattern is tried, so no input costs more than a few microseconds.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import InvalidInput

PRE_RELEASES = ("alpha", "beta", "rc")
# The longest accepted text: an image reference with a registry, a path, a tag and a sha256 digest fits easily.
MAX_LENGTH = 256
_RELEASE_RANK = len(PRE_RELEASES)

_VERSION = re.compile(
    r"""
    ^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)
    (?:\.(?P<patch>0|[1-9]\d*)
      (?:[-~](?P<pre>alpha|beta|rc)\.(?P<pre_number>0|[1-9]\d*))?
      (?:-(?P<revision>\d+(?:\.\d+)*))?      # package revision: -1.1, -00, -150500.1.1
      (?:\+(?P<build>[0-9A-Za-z.-]+))?        # semver build metadata: +k3s1
    )?$
    """,
    re.VERBOSE | re.ASCII,
)
# An image reference: anything up to the last '/', a name, ':' and the tag; an optional digest.
_IMAGE = re.compile(r"^(?:[^\s@]*/)?[a-z0-9][a-z0-9._-]*:(?P<tag>[^\s:/@]+)(?:@sha256:[0-9a-f]{64})?$", re.ASCII)


class Version:
    """An immutable Kubernetes version, ordered by release (package revision and build metadata ignored)."""

    __slots__ = ("_key", "major", "minor", "patch", "pre", "pre_number", "raw")

    major: int
    minor: int
    patch: int | None
    pre: str | None
    pre_number: int | None
    raw: str
    _key: tuple[int, int, int, int, int]

    def __init__(
        self,
        major: int,
        minor: int,
        patch: int | None = None,
        pre: str | None = None,
        pre_number: int | None = None,
        raw: str = "",
    ) -> None:
        if pre is not None and pre not in PRE_RELEASES:
            raise InvalidInput(f"pre-release {pre!r} is not one of {', '.join(PRE_RELEASES)}")
        values = {
            "major": major,
            "minor": minor,
            "patch": patch,
            "pre": pre,
            "pre_number": pre_number if pre is not None else None,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)
        rank = PRE_RELEASES.index(pre) if pre is not None else _RELEASE_RANK
        object.__setattr__(self, "_key", (major, minor, patch or 0, rank, pre_number or 0))
        object.__setattr__(self, "raw", raw or str(self))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Version is immutable (cannot set {name})")

    @classmethod
    def parse(cls, value: Any, what: str = "version") -> Version:
        """Parse any accepted form; ``what`` names the value in the error message (``versions.kubelet.node-1``)."""
        if isinstance(value, Version):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise InvalidInput(number_hint(what, value))
        if not isinstance(value, str):
            raise InvalidInput(f"{what} {shorten(value)} is not a Kubernetes version: give a string like 'v1.30.2'")
        if len(value) > MAX_LENGTH:
            raise InvalidInput(
                f"{what} {shorten(value, 60)} ({len(value)} characters) is too long to be a Kubernetes version "
                f"(at most {MAX_LENGTH})"
            )
        text = value.strip()
        image = _IMAGE.match(text)
        if image:
            text = image.group("tag")
        match = _VERSION.match(text)
        if not match:
            raise InvalidInput(
                f"{what} {shorten(value)} is not a Kubernetes version (expected forms like v1.30.2, 1.30, "
                "v1.31.0-rc.1, 1.30.2-1.1 or registry.k8s.io/kube-apiserver:v1.30.2)"
            )
        number = match.group("pre_number")
        patch = match.group("patch")
        return cls(
            int(match.group("major")),
            int(match.group("minor")),
            int(patch) if patch is not None else None,
            match.group("pre"),
            int(number) if number is not None else None,
            raw=value.strip(),
        )

    # -- forms ---------------------------------------------------------------------------------------------

    def __str__(self) -> str:
        """The canonical form: ``v1.30.2``, ``v1.31.0-rc.1``, or ``v1.30`` for a minor line."""
        text = f"v{self.major}.{self.minor}"
        if self.patch is not None:
            text += f".{self.patch}"
        if self.pre is not None:
            text += f"-{self.pre}.{self.pre_number}"
        return text

    def __repr__(self) -> str:
        return f"Version({str(self)!r})"

    @property
    def minor_line(self) -> str:
        """``1.30``: the minor, as pkgs.k8s.io names its repositories (``/core:/stable:/v1.30/``)."""
        return f"{self.major}.{self.minor}"

    @property
    def is_release(self) -> bool:
        """A full release (``v1.30.2``), not a pre-release and not a bare minor line."""
        return self.pre is None and self.patch is not None

    def upstream(self) -> str:
        """The version inside package names: ``1.30.2``, ``1.31.0~rc.1`` (Debian/RPM sort ``~`` before release)."""
        text = f"{self.major}.{self.minor}.{self.patch or 0}"
        if self.pre is not None:
            text += f"~{self.pre}.{self.pre_number}"
        return text

    def pkg(self, flavor: str = "apt") -> str:
        """The package version to install: apt ``1.30.2-*`` (any revision), dnf/yum ``1.30.2`` (``kubelet-1.30.2``).

        A minor line (``1.30``) gives the pattern of the whole minor: ``1.30.*`` for both.
        """
        if flavor not in ("apt", "dnf", "yum"):
            raise InvalidInput(f"package flavor {flavor!r} is not one of apt, dnf, yum")
        if self.patch is None:
            return f"{self.minor_line}.*"
        return f"{self.upstream()}-*" if flavor == "apt" else self.upstream()

    # -- order and distance --------------------------------------------------------------------------------

    def minors_newer_than(self, other: Version) -> int:
        """How many minors this version is ahead of ``other`` (negative when behind)."""
        if self.major != other.major:
            raise InvalidInput(f"cannot measure the minor distance between {self} and {other}: different majors")
        return self.minor - other.minor

    def same_minor(self, other: Version) -> bool:
        return (self.major, self.minor) == (other.major, other.minor)

    def next_minor(self) -> Version:
        """The next minor line: ``v1.30.2`` -> ``v1.31``."""
        return Version(self.major, self.minor + 1)

    def release_of_minor(self, patch: int = 0) -> Version:
        """``v1.31`` -> ``v1.31.0`` (or the given patch)."""
        return Version(self.major, self.minor, patch)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __lt__(self, other: Version) -> bool:
        return self._key < other._key

    def __le__(self, other: Version) -> bool:
        return self._key <= other._key

    def __gt__(self, other: Version) -> bool:
        return self._key > other._key

    def __ge__(self, other: Version) -> bool:
        return self._key >= other._key


def number_hint(what: str, value: float) -> str:
    """The message for a version that arrived as a number: YAML reads an unquoted ``1.30`` as the float 1.3."""
    if isinstance(value, float) and math.isfinite(value):
        shown = repr(value)
        whole, _dot, fraction = shown.partition(".")
        if "e" not in shown and len(fraction) == 1 and whole.lstrip("-").isdigit():
            meant = f"{shown}0"  # 1.3 was most likely 1.30: minors 1.1 to 1.9 are from 2015-2017
            return f'{what} {shown} arrived as a number (YAML reads {meant} as {shown}): quote it, e.g. "{meant}"'
        if "e" not in shown:
            return f'{what} {shown} arrived as a number: quote it, e.g. "{shown}"'
    return f'{what} {value!r} arrived as a number, not a version: quote it, e.g. "1.30"'


def shorten(value: Any, limit: int = MAX_LENGTH) -> str:
    """``repr(value)``, cut to about ``limit`` characters (a message names the value, it does not echo megabytes)."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "..."
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def parse(value: Any, what: str = "version") -> Version:
    """Shorthand for ``Version.parse``."""
    return Version.parse(value, what)


COMPARISONS = {
    "<": "__lt__",
    "lt": "__lt__",
    "<=": "__le__",
    "le": "__le__",
    ">": "__gt__",
    "gt": "__gt__",
    ">=": "__ge__",
    "ge": "__ge__",
    "==": "__eq__",
    "=": "__eq__",
    "eq": "__eq__",
    "!=": "__ne__",
    "<>": "__ne__",
    "ne": "__ne__",
}


def compare(left: Any, right: Any, operator: str = "==") -> bool:
    """``compare('v1.30.2', '1.31', '<')``: the operators of Ansible's ``version`` test."""
    if operator not in COMPARISONS:
        raise InvalidInput(f"comparison operator {operator!r} is not one of {', '.join(COMPARISONS)}")
    return bool(getattr(parse(left), COMPARISONS[operator])(parse(right)))
