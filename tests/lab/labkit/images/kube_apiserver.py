"""``kube-apiserver`` image: kube-apiserver's flags -> the lab API server's settings file, then the lab API server."""

from __future__ import annotations

import json
import sys

from labkit.apiserver.__main__ import main as serve
from labkit.images.apiserver_flags import parse, settings
from labkit.images.flags import FlagError
from labkit.images.runtime_env import fail, image_version, lab_settings, private_dir


def main(argv: list[str]) -> int:
    try:
        config = settings(parse(argv), image_version(), float(lab_settings().get("time_factor", 0.05)))
    except FlagError as exc:
        fail(str(exc))
    target = private_dir("kube-apiserver") / "apiserver.json"
    target.write_text(json.dumps(config, indent=2) + "\n")
    return serve(["--config", str(target)])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
