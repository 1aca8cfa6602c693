"""`make bundle` builds the ~800 MB CPU bundle, and refuses (before building anything) to make the
5.4 GB one from a CUDA torch unless asked. No bundle is built here: `--check` stops after the choice.

The torch the build sees is set by a real distribution record (a `torch-*.dist-info` folder put first
on the child's path), so the check reads installed metadata exactly as it does in a build environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "packaging" / "build_bundle.py"


def _torch_record(site: Path, version: str, requires: list[str]) -> Path:
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "__init__.py").write_text("")
    info = site / f"torch-{version}.dist-info"
    info.mkdir()
    lines = ["Metadata-Version: 2.1", "Name: torch", f"Version: {version}", *[f"Requires-Dist: {r}" for r in requires]]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    return site


def _build(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if k != "BUNDLE_CUDA"}
    child_env.update({"PYTHONPATH": str(site), **env})
    return subprocess.run([sys.executable, str(BUILD), "--dist", str(site.parent / "dist"), *args], capture_output=True,
                          text=True, env=child_env, cwd=REPO, timeout=120)


CUDA = ("2.14.1", ['nvidia-cublas==13.1.1.3.*; platform_system == "Linux"', "filelock"])


def test_a_cuda_torch_is_refused_with_both_ways_on(tmp_path):
    site = _torch_record(tmp_path / "site", *CUDA)
    done = _build(site)  # a real build request, no --check: it must stop before PyInstaller
    assert done.returncode == 2, done.stdout + done.stderr
    assert "5.4 GB" in done.stderr and "800 MB" in done.stderr and "Nothing was built" in done.stderr
    assert 'make bundle BUNDLE_TORCH="' in done.stderr and "make bundle BUNDLE_CUDA=1" in done.stderr
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize("how", [("--allow-cuda",), ()])
def test_the_cuda_bundle_when_asked(tmp_path, how):
    site = _torch_record(tmp_path / "site", *CUDA)
    done = _build(site, "--check", *how, **({} if how else {"BUNDLE_CUDA": "1"}))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the bundle will be about 5.4 GB" in done.stdout


def test_a_cpu_torch_goes_ahead(tmp_path):
    site = _torch_record(tmp_path / "site", "2.13.0+cpu", ["filelock", "sympy>=1.13.3"])
    done = _build(site, "--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2.13.0+cpu (cpu)" in done.stdout and "5.4 GB" not in done.stdout + done.stderr


def test_the_bundle_environment_gets_the_app_requirements_but_not_torch():
    sys.path.insert(0, str(REPO / "packaging"))
    try:
        import make_bundle_env
    finally:
        sys.path.pop(0)
    wanted = make_bundle_env.app_requirements(Path(sys.executable))
    names = {r.split(">")[0].split("=")[0].split("!")[0].lower() for r in wanted}
    assert {"pyside6-essentials", "pyqtgraph", "numpy", "pyinstaller"} <= names
    assert not names & {"torch", "torchvision", "pytest", "ruff"}
    assert any("!=6.12.0" in r for r in wanted)  # the broken PySide6 stays excluded in the bundle too
