"""``patch_module_args``: run a module's ``main()`` with the given arguments, on every claimed ansible-core."""

from __future__ import annotations

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    import contextlib
    import json
    from collections.abc import Iterator
    from typing import Any
    from unittest import mock

    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args: dict[str, Any]) -> Iterator[None]:
        with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()):
            yield


__all__ = ["patch_module_args"]
