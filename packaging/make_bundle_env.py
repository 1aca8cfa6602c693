"""Make (or update) the build environment for a small bundle: a venv with the torch you name, plus the app.

    python packaging/make_bundle_env.py build/bundle-env torch torchvision --index-url https://download.pytorch.org/whl/cpu
    make bundle BUNDLE_TORCH="torch torchvision --index-url https://download.pytorch.org/whl/cpu"   # the same, then the build

Everything after the folder is handed to `pip install` as it is (a requirement, a wheel file, index
options), so any source of a CPU torch works. The app's other requirements are then installed from
its own metadata, leaving out torch and torchvision: PyPI's Linux torchvision requires its CUDA torch
and would replace the CPU one. A torchvision that came with the torch goes into the bundle; without
one the bundle trains on shapes, image folders and MNIST-family files already on disk.
"""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH_PACKAGES = {"torch", "torchvision"}  # come from the named source only
BUNDLE_EXTRA = "bundle"


def env_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def pip(python: Path, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", "install", *args], check=True)


def app_requirements(python: Path) -> list[str]:
    """The app's run-time and bundle requirements, read from its installed metadata, minus torch/torchvision."""
    code = "import importlib.metadata as m; print('\\n'.join(m.requires('vae-desktop') or []))"
    listed = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.splitlines()
    wanted = []
    for line in listed:
        requirement, _, marker = line.partition(";")
        if marker.strip() and marker.replace(" ", "").replace("'", '"') != f'extra=="{BUNDLE_EXTRA}"':
            continue  # dev and other extras
        name = re.split(r"[<>=!~\[ (]", requirement.strip(), maxsplit=1)[0]
        if name.lower() not in TORCH_PACKAGES:
            wanted.append(requirement.strip())
    return wanted


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder, torch_source = Path(args[0]), args[1:]
    python = env_python(folder)
    if not python.exists():
        print(f"make_bundle_env: creating {folder}", flush=True)
        venv.create(folder, with_pip=True)
    pip(python, *torch_source)
    pip(python, "--no-deps", "-e", str(ROOT))
    pip(python, *app_requirements(python))
    print(f"make_bundle_env: {folder} is ready; build with: {python} packaging/build_bundle.py", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
