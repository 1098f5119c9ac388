"""Kubernetes versions as kubeadm compares them (k8s.io/apimachinery/pkg/util/version, releases only)."""

from __future__ import annotations

import re
from dataclasses import dataclass

PATTERN = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = PATTERN.match(text.strip())
        if not match:
            raise ValueError(f'could not parse "{text}" as version')
        return cls(int(match[1]), int(match[2]), int(match[3]))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def v(self) -> str:
        return f"v{self}"

    @property
    def minor_line(self) -> str:
        return f"v{self.major}.{self.minor}"


def image_tag(image: str) -> str:
    return image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
