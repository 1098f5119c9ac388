"""What the lab's package repositories publish: five consecutive minors, four patches each."""

from __future__ import annotations

MINORS = ("1.33", "1.34", "1.35", "1.36", "1.37")
PATCHES = (0, 1, 2, 3)
OS_PACKAGE = "lab-kernel"  # the OS update whose installation asks for a reboot
OS_PACKAGE_INSTALLED, OS_PACKAGE_UPDATE = "1.0", "1.1"


def versions() -> list[str]:
    return [f"{minor}.{patch}" for minor in MINORS for patch in PATCHES]


def minor_of(version: str) -> str:
    return ".".join(version.lstrip("v").split(".")[:2])


def deb_version(version: str, legacy: bool = False) -> str:
    """``1.35.2-1.1`` as pkgs.k8s.io spells it, ``1.35.2-00`` as apt.kubernetes.io did."""
    return f"{version.lstrip('v')}-{'00' if legacy else '1.1'}"


def check_version(version: str, what: str = "--version") -> str:
    """The version without a leading v, or ValueError naming the bad value."""
    bare = version.strip().lstrip("v")
    if bare not in versions():
        raise ValueError(
            f"{what} {version!r} is not in the lab's repositories (v{MINORS[0]}.{PATCHES[0]} to "
            f"v{MINORS[-1]}.{PATCHES[-1]}: patches .{PATCHES[0]}-.{PATCHES[-1]} of each minor)"
        )
    return bare
