"""How kubeadm talks: ``[phase] ...`` lines on stdout, klog lines on stderr, and errors as its cobra runner prints
them (``error: error execution phase <phase>: <message>`` and the stack-trace hint; exit status 1)."""

from __future__ import annotations

import datetime
import os
import sys
from typing import TextIO

STACK_TRACE_HINT = "To see the stack trace of this error execute with --v=5 or higher"


class KubeadmError(Exception):
    """A failure of a command, or of one of its phases (then printed with the phase)."""

    def __init__(self, message: str, phase: str | None = None):
        super().__init__(message)
        self.message = message
        self.phase = phase

    def render(self) -> str:
        text = f"error execution phase {self.phase}: {self.message}" if self.phase else self.message
        return f"error: {text}\n{STACK_TRACE_HINT}"


class Printer:
    """Info lines (silenced when a structured output was asked for, as kubeadm's ResourcePrinterWrapper does)."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, quiet: bool = False):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.quiet = quiet

    def line(self, text: str = "") -> None:
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def raw(self, text: str) -> None:
        """Output that is the command's result (a table, a JSON document): never silenced."""
        self.out.write(text)
        self.out.flush()

    def klog(self, severity: str, source: str, message: str) -> None:
        """``W1201 08:30:00.123456    4242 postupgrade.go:116] message`` on stderr."""
        now = datetime.datetime.now()
        stamp = f"{severity}{now:%m%d %H:%M:%S}.{now.microsecond:06d}"
        print(f"{stamp} {os.getpid():>7} {source}] {message}", file=self.err, flush=True)
