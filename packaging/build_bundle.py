"""Build the one-folder PyInstaller bundle into dist/vae-desktop and say how big it is and how long it took.

    python packaging/build_bundle.py            # with the interpreter whose packages go into the bundle
    make bundle                                 # the same, then the bundle's own self-test

Whatever torch the running interpreter has is what the bundle ships: the CPU build makes an
~800 MB folder, a CUDA build 5.4 GB (packaging/README.md). A CUDA torch is refused, with both ways
on, unless asked for (`--allow-cuda`, or `BUNDLE_CUDA=1`). Writes build/bundle-report.json.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "vae-desktop.spec"
APP_ID = "vae-desktop"
CPU_BUNDLE = "about 800 MB"  # measured sizes (packaging/README.md), said before anything is built
CUDA_BUNDLE = "about 5.4 GB (2.9 GB of it nvidia libraries)"
CPU_TORCH_EXAMPLE = "torch torchvision --index-url https://download.pytorch.org/whl/cpu"  # PyTorch's CPU wheels


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def torch_build() -> str:
    """'cpu', 'cuda <version>' or 'missing': what the bundle will carry."""
    if importlib.util.find_spec("torch") is None:
        return "missing"
    version = importlib.metadata.version("torch")
    requires = importlib.metadata.requires("torch") or []
    if "+cpu" in version or not any(r.startswith("nvidia-") for r in requires):
        return f"{version} (cpu)"
    return f"{version} (cuda: nvidia-* wheels are bundled too)"


def cuda_refusal(build: str) -> str:
    """What to say instead of silently building the big bundle."""
    return (
        f"build_bundle: {sys.executable} has torch {build.split(' (', 1)[0]}, a CUDA build: its bundle would be "
        f"{CUDA_BUNDLE}; with a CPU build of torch it is {CPU_BUNDLE}. Nothing was built.\n"
        f"  The small CPU bundle (builds in its own environment, build/bundle-env; any pip requirement for a CPU torch works):\n"
        f'    make bundle BUNDLE_TORCH="{CPU_TORCH_EXAMPLE}"\n'
        f"  The CUDA bundle, {CUDA_BUNDLE.split(' (', 1)[0]}:\n"
        f"    make bundle BUNDLE_CUDA=1        (or: python packaging/build_bundle.py --allow-cuda)"
    )


def check_build_tools() -> None:
    missing = [name for name in ("PyInstaller", "torch", "PySide6", "pyqtgraph") if importlib.util.find_spec(name) is None]
    if missing:
        raise SystemExit(
            f"build_bundle: {', '.join(missing)} not installed for {sys.executable}. "
            'Install with: pip install -e ".[bundle]" (see packaging/README.md for a CPU-only torch).'
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller", help="PyInstaller work folder")
    parser.add_argument("--without-torchvision", action="store_true", help="leave torchvision out (no downloads)")
    parser.add_argument("--allow-cuda", action="store_true", default=os.environ.get("BUNDLE_CUDA") == "1",
                        help=f"build with a CUDA torch: {CUDA_BUNDLE} (also BUNDLE_CUDA=1)")
    parser.add_argument("--check", action="store_true", help="only check which torch would be bundled, build nothing")
    args = parser.parse_args(argv)

    build = torch_build()
    print(f"build_bundle: torch {build}; Python {platform.python_version()} at {sys.executable}", flush=True)
    if "cuda" in build:
        if not args.allow_cuda:
            print(cuda_refusal(build), file=sys.stderr)
            return 2
        print(f"build_bundle: a CUDA torch, as asked: the bundle will be {CUDA_BUNDLE}", flush=True)
    if args.check:
        return 0
    check_build_tools()
    env = dict(os.environ)
    if args.without_torchvision:
        env["VAE_DESKTOP_BUNDLE_TORCHVISION"] = "0"
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
        "--distpath", str(args.dist), "--workpath", str(args.work), str(SPEC),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(f"build_bundle: PyInstaller failed (exit {done.returncode}) after {seconds:.0f} s", file=sys.stderr)
        return done.returncode

    bundle = args.dist / APP_ID
    size = folder_size(bundle)
    report = {
        "bundle": str(bundle),
        "executable": str(bundle / (f"{APP_ID}.exe" if sys.platform == "win32" else APP_ID)),
        "size_mb": round(size / 1e6, 1),
        "files": sum(1 for p in bundle.rglob("*") if p.is_file()),
        "build_seconds": round(seconds, 1),
        "torch": build,
        "torchvision": not args.without_torchvision and importlib.util.find_spec("torchvision") is not None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    report_path = args.work.parent / "bundle-report.json"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))
    print(f"build_bundle: {bundle} is {report['size_mb']:.0f} MB in {report['files']} files, built in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
