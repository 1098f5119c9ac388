"""Command lines as the Go components (pflag) take them."""

from __future__ import annotations


class FlagError(Exception):
    pass


def parse_flags(argv: list[str], known: set[str], component: str) -> dict[str, str]:
    """``--name=value``, ``--name value`` and bare boolean ``--name`` -> {name: value}; unknown flags refused."""
    flags: dict[str, str] = {}
    index = 0
    while index < len(argv):
        item = argv[index]
        if not item.startswith("--"):
            raise FlagError(f'unknown command "{item}" for "{component}"')
        name, sep, value = item[2:].partition("=")
        if name not in known:
            raise FlagError(f"unknown flag: --{name}")
        if not sep:
            following = argv[index + 1] if index + 1 < len(argv) else None
            if following is not None and not following.startswith("--"):
                value, index = following, index + 1
            else:
                value = "true"
        flags[name] = value
        index += 1
    return flags
