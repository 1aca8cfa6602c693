"""Remote addresses as typed for ssh and scp; local paths are never mistaken for them."""

import pytest

from vae_desktop.core.runs.address import RemoteAddress, parse_remote_address
from vae_desktop.core.runs.errors import RunFolderError


@pytest.mark.parametrize("text, expected", [
    ("me@gpu-box:/scratch/run", RemoteAddress("gpu-box", "/scratch/run", "me")),
    ("gpu-box:runs/today", RemoteAddress("gpu-box", "runs/today")),
    ("gpu-box:", RemoteAddress("gpu-box", "")),
    ("ssh://me@gpu-box:2222/scratch/run", RemoteAddress("gpu-box", "/scratch/run", "me", 2222)),
    ("ssh://gpu-box/~/runs", RemoteAddress("gpu-box", "runs")),
    ("[::1]:/tmp/run", RemoteAddress("::1", "/tmp/run")),
    ("ssh://me@[::1]:2200/tmp/run", RemoteAddress("::1", "/tmp/run", "me", 2200)),
])
def test_remote_addresses(text, expected):
    assert parse_remote_address(text) == expected


@pytest.mark.parametrize("text", ["/scratch/run", "./a:b", "runs/today", "~/runs", "file:///x", "a b:c", ""])
def test_local_paths_are_not_remote(text):
    assert parse_remote_address(text) is None


def test_addresses_print_as_typed_and_parse_back():
    for text in ["me@gpu-box:/scratch/run", "gpu-box:runs", "ssh://me@gpu-box:2222/scratch/run"]:
        assert str(parse_remote_address(text)) == text
        assert parse_remote_address(str(parse_remote_address(text))) == parse_remote_address(text)


def test_a_bad_port_is_one_clear_error():
    with pytest.raises(RunFolderError, match="invalid port"):
        parse_remote_address("ssh://gpu-box:99999/x")
