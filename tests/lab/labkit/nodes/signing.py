"""The lab's repository signing keys (real GnuPG, one keyring per lab) and the signatures apt checks.

Three keys, as three publishers would have: the pkgs.k8s.io-style repositories', the legacy apt.kubernetes.io
repository's and the OS updates repository's. gpg-agent is stopped after every use, so no process outlives a call.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

KEYS = {
    "pkgs": "cluster-ops lab pkgs.k8s.io <pkgs@lab.cluster-ops.invalid>",
    "legacy": "cluster-ops lab apt.kubernetes.io <legacy@lab.cluster-ops.invalid>",
    "os": "cluster-ops lab OS updates <os@lab.cluster-ops.invalid>",
}


class Signer:
    def __init__(self, home: Path):
        self.home = home

    def gpg(self, *args: str, input_bytes: bytes | None = None) -> bytes:
        argv = [
            "gpg",
            "--homedir",
            str(self.home),
            "--batch",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            *args,
        ]
        result = subprocess.run(argv, input=input_bytes, capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"gpg {' '.join(args[:2])} failed: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout

    def ensure_keys(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o700)
        try:
            for uid in KEYS.values():
                if not self.fingerprint(uid):
                    self.gpg("--quick-gen-key", uid, "ed25519", "sign", "never")
        finally:
            self.stop_agent()

    def fingerprint(self, uid: str) -> str | None:
        result = subprocess.run(
            ["gpg", "--homedir", str(self.home), "--batch", "--with-colons", "--list-keys", uid],
            capture_output=True,
            text=True,
        )
        for line in result.stdout.splitlines():
            if line.startswith("fpr:"):
                return line.split(":")[9]
        return None

    def public_key(self, key: str, armor: bool) -> bytes:
        return self.gpg(*(["--armor"] if armor else []), "--export", KEYS[key])

    def sign_release(self, key: str, release: Path) -> None:
        """``InRelease`` (clear-signed) and ``Release.gpg`` (detached) next to ``Release``, as apt fetches them."""
        try:
            uid = KEYS[key]
            self.gpg(
                "--yes", "--local-user", uid, "--clearsign", "-o", str(release.with_name("InRelease")), str(release)
            )
            self.gpg("--yes", "--local-user", uid, "-abs", "-o", str(release.with_name("Release.gpg")), str(release))
        finally:
            self.stop_agent()

    def stop_agent(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "all"], capture_output=True)
