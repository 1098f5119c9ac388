"""Build Debian binary packages with dpkg-deb from a description: control fields, files, maintainer scripts."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class File:
    content: bytes
    mode: int = 0o644
    conffile: bool = False


@dataclass
class Package:
    name: str
    version: str
    description: str
    section: str = "admin"
    depends: list[str] = field(default_factory=list)
    recommends: list[str] = field(default_factory=list)
    files: dict[str, File] = field(default_factory=dict)  # absolute path in the installed system -> file
    trees: dict[str, Path] = field(default_factory=dict)  # absolute directory -> a source tree copied there
    scripts: dict[str, str] = field(default_factory=dict)  # postinst, prerm, postrm, preinst
    maintainer: str = "Kubernetes Authors <dev@kubernetes.io>"
    homepage: str = "https://kubernetes.io"

    @property
    def filename(self) -> str:
        return f"{self.name}_{self.version}_amd64.deb"

    def control(self, installed_size_kb: int) -> str:
        fields = {
            "Package": self.name,
            "Version": self.version,
            "Architecture": "amd64",
            "Maintainer": self.maintainer,
            "Installed-Size": str(installed_size_kb),
            "Depends": ", ".join(self.depends),
            "Recommends": ", ".join(self.recommends),
            "Section": self.section,
            "Priority": "optional",
            "Homepage": self.homepage,
            "Description": self.description,
        }
        return "".join(f"{key}: {value}\n" for key, value in fields.items() if value)


def build(package: Package, out_dir: Path, work_dir: Path) -> Path:
    """Write ``out_dir/<name>_<version>_amd64.deb`` (built in ``work_dir``) and return its path."""
    root = work_dir / f"{package.name}_{package.version}"
    shutil.rmtree(root, ignore_errors=True)
    for target, source in package.trees.items():
        shutil.copytree(source, root / target.lstrip("/"), ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for target, file in package.files.items():
        path = root / target.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file.content)
        path.chmod(file.mode)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) // 1024 + 1
    debian = root / "DEBIAN"
    debian.mkdir(parents=True)
    (debian / "control").write_text(package.control(size))
    conffiles = [target for target, file in package.files.items() if file.conffile]
    if conffiles:
        (debian / "conffiles").write_text("".join(f"{c}\n" for c in conffiles))
    for name, script in package.scripts.items():
        (debian / name).write_text(script)
        (debian / name).chmod(0o755)
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / package.filename
    argv = ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", str(root), str(deb)]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"dpkg-deb --build {package.filename} failed: {result.stderr.strip()}")
    shutil.rmtree(root)
    return deb
