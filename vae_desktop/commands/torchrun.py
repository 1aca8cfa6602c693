"""torchrun for `train --nproc`: PyTorch's launcher itself, with its failure report cut to one line.

`python -m vae_desktop.commands.torchrun ARGS` is `python -m torch.distributed.run ARGS` (the same
parser and `run`), except that when a process fails torchrun's multi-screen report (its traceback and
the failure table) becomes one line naming the first process that failed: every process has already
printed its own line saying why it stopped.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    # The agent logs each closing signal and failure as a warning or error; the line below says it once.
    for name in [*logging.root.manager.loggerDict, "torch.distributed"]:
        if name.startswith("torch.distributed"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        run(parse_args(list(sys.argv[1:] if argv is None else argv)))
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        how = (f"was killed by {failure.signal_name()}" if failure.exitcode < 0
               else f"exited with status {failure.exitcode}")
        print(f"vae-desktop: error: process rank {rank} (pid {failure.pid}) {how}; torchrun stopped the others.",
              file=sys.stderr)
        return failure.exitcode if failure.exitcode > 0 else 1
    except (SignalException, KeyboardInterrupt):
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
