"""Background workers (the latent map, the gradients) yield the CPU to training and the GUI (Linux: a per-thread nice value)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from vae_desktop.ui.coalescing_worker import BACKGROUND_THREAD_NICE, _yield_cpu


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are a Linux feature")
def test_only_the_worker_thread_is_niced() -> None:
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[int] = []

    def worker() -> None:
        _yield_cpu()
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [max(main_before, BACKGROUND_THREAD_NICE)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before  # the GUI thread keeps its own
    assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == main_before
