"""Security, as a checked fact about the source: nothing the app loads can unpickle arbitrary objects.

Every `torch.load` passes `weights_only=True`, every `np.load` passes `allow_pickle=False`, nobody calls
`pickle.load(s)` or other code-running loaders, and torchvision's CIFAR10 class (which unpickles the
batches with plain `pickle.load`) is never instantiated. The one unpickler in the app,
core/datasets/cifar.py, overrides `find_class` to allow numpy arrays only (tested in test_cifar.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "vae_desktop"
RESTRICTED_UNPICKLER = PACKAGE / "core" / "datasets" / "cifar.py"
UNSAFE_CALLS = {
    ("pickle", "load"), ("pickle", "loads"), ("marshal", "load"), ("marshal", "loads"), ("shelve", "open"),
    ("dill", "load"), ("dill", "loads"), ("joblib", "load"), ("yaml", "load"), ("yaml", "unsafe_load"),
}


def _calls() -> list[tuple[Path, ast.Call, str]]:
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                found.append((path, node, ast.unparse(node.func)))
    return found


def _keyword(call: ast.Call, name: str) -> object:
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            return keyword.value.value
    return None


def test_every_torch_load_refuses_pickled_code():
    loads = [(p, c) for p, c, name in _calls() if name == "torch.load"]
    assert loads, "expected the checkpoint loader to call torch.load"
    for path, call in loads:
        assert _keyword(call, "weights_only") is True, f"{path}:{call.lineno} torch.load without weights_only=True"


def test_every_numpy_load_refuses_pickles():
    for path, call, name in _calls():
        if name in ("np.load", "numpy.load"):
            assert _keyword(call, "allow_pickle") is False, f"{path}:{call.lineno} np.load without allow_pickle=False"


def test_no_code_running_loader_is_called():
    for path, call, name in _calls():
        parts = tuple(name.rsplit(".", 1)) if "." in name else ("", name)
        assert parts not in UNSAFE_CALLS, f"{path}:{call.lineno} calls {name}"
        assert not name.endswith("CIFAR10"), f"{path}:{call.lineno} builds torchvision's CIFAR10 (it unpickles)"


def test_the_only_unpickler_restricts_what_it_builds():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any("Unpickler" in ast.unparse(base) for base in node.bases):
                assert path == RESTRICTED_UNPICKLER, f"{path}: an unpickler outside the reviewed one"
                methods = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
                assert "find_class" in methods
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("pickle.Unpickler", "pickle._Unpickler"):
                raise AssertionError(f"{path}:{node.lineno} uses an unrestricted pickle.Unpickler")
