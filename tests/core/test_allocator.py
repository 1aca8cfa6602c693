import platform
import sys

from vae_desktop.core.allocator import tune_allocator


def test_tuning_the_allocator_is_safe_and_repeatable():
    first, second = tune_allocator(), tune_allocator()
    assert first == second
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert first is True


def test_the_users_own_malloc_settings_win(monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "0")
    assert tune_allocator() is False
