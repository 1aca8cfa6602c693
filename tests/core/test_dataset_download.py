"""Real downloads through torchvision, from a local HTTP mirror of the real Fashion-MNIST files."""

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from vae_desktop.core.datasets.torchvision_sets import MIRROR_ENV, load_torchvision_set
from vae_desktop.core.errors import DatasetError

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
pytestmark = pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")


@pytest.fixture
def serve(tmp_path):
    """Serve a folder over HTTP on 127.0.0.1; yields a function folder -> base URL."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_download_from_a_mirror_lands_complete_and_loads(tmp_path, serve, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, serve(DEBIAN_FASHION))
    target = tmp_path / "data"
    dataset = load_torchvision_set("fashion-mnist", target, download=True, search_system=False)
    assert dataset.num_train == 60_000 and dataset.num_test == 10_000
    assert (target / "FashionMNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file()
    assert not [p for p in target.iterdir() if p.name.startswith(".")]  # no staging folder left
    again = load_torchvision_set("fashion-mnist", target, download=False, search_system=False)
    assert again.num_train == 60_000


def test_a_broken_download_leaves_no_cache_that_breaks_the_next_start(tmp_path, serve, monkeypatch):
    broken = tmp_path / "broken-mirror"
    shutil.copytree(DEBIAN_FASHION, broken, ignore=shutil.ignore_patterns("*.md"))
    data = (broken / "train-images-idx3-ubyte.gz").read_bytes()
    (broken / "train-images-idx3-ubyte.gz").write_bytes(data[: len(data) // 3])  # a partial file
    monkeypatch.setenv(MIRROR_ENV, serve(broken))
    target = tmp_path / "data"
    with pytest.raises(DatasetError, match="Could not download fashion-mnist"):
        load_torchvision_set("fashion-mnist", target, download=True, search_system=False)
    assert list(target.iterdir()) == []  # nothing half-written
    monkeypatch.setenv(MIRROR_ENV, serve(DEBIAN_FASHION))
    assert load_torchvision_set("fashion-mnist", target, download=True, search_system=False).num_test == 10_000


def test_offline_download_says_where_to_put_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:9/")  # the discard port: connection refused
    with pytest.raises(DatasetError) as info:
        load_torchvision_set("fashion-mnist", tmp_path / "data", download=True, search_system=False)
    message = str(info.value)
    assert "not available offline" in message and "train-images-idx3-ubyte.gz" in message
    assert str(tmp_path / "data") in message
