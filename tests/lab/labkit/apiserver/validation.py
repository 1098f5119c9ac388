"""The validations of kube-apiserver that clients meet in the lab's scenarios (422 Invalid with field causes)."""

from __future__ import annotations

from . import errors
from .resources import Resource

JOB_RESTART_POLICIES = ["OnFailure", "Never"]


def _job(obj: dict) -> list[dict]:
    causes = []
    spec = obj.get("spec") or {}
    restart = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
    if restart not in JOB_RESTART_POLICIES:
        causes.append(errors.field_not_supported("spec.template.spec.restartPolicy", restart, JOB_RESTART_POLICIES))
    for field in ("parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished", "activeDeadlineSeconds"):
        value = spec.get(field)
        positive = field == "activeDeadlineSeconds"
        if isinstance(value, int) and value < (1 if positive else 0):
            bound = "must be greater than 0" if positive else "must be greater than or equal to 0"
            causes.append(errors.field_invalid(f"spec.{field}", value, bound))
    return causes


VALIDATORS = {"jobs": _job}


def validate(res: Resource, obj: dict) -> None:
    """Raise 422 Invalid when the object breaks a rule the real server checks."""
    check = VALIDATORS.get(res.plural)
    causes = check(obj) if check else []
    if causes:
        raise errors.invalid(res, obj["metadata"].get("name", ""), causes)
