"""100,000 signal emits in one process must not crash.

PySide6 6.12.0 dropped a reference to True on every Signal.emit under CPython 3.11 and aborted
("bool_dealloc") after a few hundred emits; pyproject.toml excludes that version. The emits run in
a child process so an abort shows up as a failed test instead of killing the test session.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

EMITS = 100_000

CHILD = textwrap.dedent(
    f"""
    import threading
    from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Qt

    class Source(QObject):
        flag = Signal(bool)
        number = Signal(float)
        payload = Signal(object)
        bare = Signal()

    app = QCoreApplication([])
    source = Source()
    received = {{"flag": 0, "number": 0, "payload": 0, "bare": 0}}
    source.flag.connect(lambda v: received.__setitem__("flag", received["flag"] + 1))
    source.number.connect(lambda v: received.__setitem__("number", received["number"] + 1))
    source.payload.connect(lambda v: received.__setitem__("payload", received["payload"] + 1))
    source.bare.connect(lambda: received.__setitem__("bare", received["bare"] + 1))
    quarter = {EMITS} // 4
    for i in range(quarter):
        source.flag.emit(i % 2 == 0)
        source.number.emit(i * 0.5)
        source.payload.emit((i, True, None))
        source.bare.emit()

    # Queued across threads too, the way the training worker talks to the window.
    class Sink(QObject):
        def __init__(self):
            super().__init__()
            self.count = 0
        def take(self, value):
            self.count += 1

    sink = Sink()
    emitter = Source()
    emitter.flag.connect(sink.take, Qt.ConnectionType.QueuedConnection)
    worker = threading.Thread(target=lambda: [emitter.flag.emit(True) for _ in range(5000)])
    worker.start(); worker.join()
    app.processEvents()
    print(received, sink.count)
    assert all(v == quarter for v in received.values()), received
    assert sink.count == 5000, sink.count
    """
)


def test_one_hundred_thousand_emits_do_not_crash():
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
