# Copyright: cluster_ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where domain errors become ``fail_json``: modules stay argspec and wiring."""

from __future__ import annotations

import math
import traceback
from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule, _load_params, missing_required_lib

from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._errors import ClusterOpsError


def new_module(**kwargs: Any) -> AnsibleModule:
    """``AnsibleModule(**kwargs)``; a number ansible-core cannot convert (YAML's ``.inf`` or ``.nan`` given for an
    integer option raises inside its argument validation) fails with one line naming the option, not a
    traceback."""
    try:
        return AnsibleModule(**kwargs)
    except (OverflowError, ValueError) as exc:
        params = _load_params()  # documented for modules that read their parameters themselves
        bad = [name for name, value in params.items() if isinstance(value, float) and not math.isfinite(value)]
        named = ", ".join(f"{name} {params[name]!r}" for name in sorted(bad)) or f"an option ({exc})"
        # A module that accepts every given option as it is, only to fail through the usual channel.
        options = {name: {"type": "raw"} for name in params if not name.startswith("_ansible_")}
        AnsibleModule(argument_spec=options, supports_check_mode=True).fail_json(msg=f"{named}: not a finite number")
        raise  # not reached: fail_json exits


def run_module(
    module: AnsibleModule,
    logic: Callable[[], dict[str, Any]],
    needs_kubernetes: bool = False,
) -> None:
    """Run ``logic`` and exit with its result, or fail with one clear line (and the details) on a domain error."""
    if needs_kubernetes:
        from ansible_collections.cluster_ops.kubeadm.plugins.module_utils._k8s.connection import (
            HAS_KUBERNETES,
            KUBERNETES_IMPORT_ERROR,
        )

        if not HAS_KUBERNETES:
            module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    try:
        result = logic()
    except ClusterOpsError as exc:
        module.fail_json(msg=exc.message, **exc.details)
    except Exception as exc:  # a bug or an unforeseen failure: one line, the traceback in `exception`
        reason = (str(exc).strip().splitlines() or [""])[0]
        module.fail_json(msg=f"unexpected error: {type(exc).__name__}: {reason}", exception=traceback.format_exc())
    module.exit_json(**result)
