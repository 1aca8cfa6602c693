"""Command line: `vae-desktop` opens the GUI; `train` and `evaluate` run headless on the same core.

Heavy imports (torch, Qt) happen inside the command that needs them, so `--help` is instant and
the GUI can paint its first window before torch has finished importing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from vae_desktop import __version__


class _OneLineParser(argparse.ArgumentParser):
    """Argument errors print one line (and exit 2) instead of a usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def field_type(name: str) -> Callable[[str], int | float]:
    """An argparse type reading a setting's limits and words from `core.config.FIELDS`, so
    `--lr fast` is refused in the very words the window uses ("Learning rate must be a number ...")."""
    from vae_desktop.core.config import FIELDS  # no torch: --help stays instant
    from vae_desktop.core.errors import ConfigError

    spec = FIELDS[name]

    def parse(text: str) -> int | float:
        try:
            return spec.parse(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = spec.label  # argparse names the type in some messages
    return parse


def _field_help(name: str, text: str = "") -> str:
    from vae_desktop.core.config import FIELDS

    spec = FIELDS[name]
    default = f"{spec.default:g}" if not spec.whole else f"{spec.default}"
    return f"{text or spec.label}, {spec.limits()} (default {default})"


def _given(text: str) -> str:
    """A value that says something: an empty or blank one would silently mean a default (`--dataset ''`
    trained the built-in set) or the current folder (`--out ''`, `--data-root ''`)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _given_path(text: str) -> Path:
    return Path(_given(text))


def _keep_every(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of epochs, 0 for off (got {text!r})")
    return value


def _importance_samples(text: str) -> int:
    """K for --importance-samples: a whole number from 1 to MAX_IMPORTANCE_SAMPLES (core/likelihood.py)."""
    from vae_desktop.core.errors import ConfigError
    from vae_desktop.core.likelihood import check_importance_samples

    try:
        return check_importance_samples(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _process_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of processes, not {text!r}") from None
    if not 1 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"must be between 1 and 1024, not {value}")
    return value


def _process_label() -> str:
    """" (rank 1 of 2)" in a process torchrun started, so each process's one line says whose it is."""
    from vae_desktop.core.distributed import process_label

    return process_label()


def _run_to_follow(text: str) -> str:
    """A run folder (or a folder where a run is yet to start) or a remote address, checked before the
    window opens (one line when it is neither). A folder that does not exist is refused, not waited
    for: a mistyped path would wait forever without a word; the line says how to wait for one."""
    from vae_desktop.core.runs.errors import RunFolderError
    from vae_desktop.core.runs.opening import PathKind, classify_path  # no torch, no paramiko

    try:
        target = classify_path(_given(text))
    except RunFolderError as exc:  # ssh://host:port/ with a bad port, no host
        raise argparse.ArgumentTypeError(str(exc)) from None
    if target.kind is PathKind.CHECKPOINT:
        raise argparse.ArgumentTypeError(f"{text} is a checkpoint, not a run folder (open it with: vae-desktop {text})")
    if target.kind is PathKind.NEITHER:
        folder = Path(target.path)
        if not folder.exists() and folder.parent.is_dir():
            import shlex

            raise argparse.ArgumentTypeError(f"{target.reason[:-1]}: to follow a run that is yet to start there, "
                                             f"create the folder first (mkdir {shlex.quote(str(folder))}).")
        raise argparse.ArgumentTypeError(target.reason)
    return text


def build_parser() -> argparse.ArgumentParser:
    from vae_desktop.core.config import IMAGE_SIZES, LAYOUTS, STDDEVS  # no torch: --help stays instant

    parser = _OneLineParser(prog="vae-desktop", description="Train and explore variational autoencoders.")
    parser.add_argument("--version", action="version", version=f"vae-desktop {__version__}")
    setup = parser.add_mutually_exclusive_group()
    setup.add_argument("--install-launcher", action="store_true", help="add the app to the menu and desktop (Linux)")
    setup.add_argument("--uninstall-launcher", action="store_true", help="remove what --install-launcher added")
    setup.add_argument("--self-test", action="store_true", help="offscreen: build the window, train, save; exit 0 if OK")
    sub = parser.add_subparsers(dest="command", parser_class=_OneLineParser)

    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("checkpoint", nargs="?", type=_given,
                     help="a checkpoint to open, or a run folder (or user@host:/path) to follow live")

    watch = sub.add_parser("watch", help="follow run folders live in the window (local, synced, or user@host:/path)")
    watch.add_argument("runs", nargs="+", type=_run_to_follow, metavar="RUN",
                       help="a run folder, or a remote one as user@host:/path or ssh://user@host:port/path")

    train = sub.add_parser("train", help="train headless into a run folder (followable live, resumable)")
    train.add_argument("--dataset", type=_given, help="shapes (default), mnist, fashion-mnist, kmnist, cifar10 or folder:PATH")
    train.add_argument("--data-root", type=_given_path, help="folder holding (or receiving) dataset files")
    train.add_argument("--epochs", type=field_type("epochs"), help=_field_help("epochs", "total epochs to reach"))
    train.add_argument("--batch-size", type=field_type("batch_size"), help=_field_help("batch_size"))
    train.add_argument("--z-dim", type=field_type("z_dim"), help=_field_help("z_dim", "latent dimensions"))
    train.add_argument("--beta", type=field_type("beta"), help=_field_help("beta", "weight of the KL term"))
    train.add_argument("--lr", type=field_type("lr"), help=_field_help("lr", "Adam learning rate"))
    train.add_argument("--seed", type=field_type("seed"), help=_field_help("seed", "seed of the initial weights, "
                       "the shuffling and the noise: the same seed gives the same numbers"))
    train.add_argument("--device", type=_given, help="auto (default), cpu, cuda or mps")
    train.add_argument("--recon-loss", choices=["bernoulli", "gaussian"])
    train.add_argument("--base-width", type=field_type("base_width"),
                       help=_field_help("base_width", "channels of the first conv layer"))
    train.add_argument("--hidden", type=field_type("hidden"),
                       help=_field_help("hidden", "units of the fully connected layer of encoder and decoder"))
    train.add_argument("--image-size", type=int, choices=IMAGE_SIZES,
                       help="scale and centre-crop every image to this square size (default: the dataset's own, "
                       "28 or 32); each doubling from 64 adds an encoder and a decoder stage")
    train.add_argument("--layout", choices=LAYOUTS, help="which half of the encoder's outputs is the mean: "
                       "mean-first (default) or logstd-first (the same seed gives the same curves)")
    train.add_argument("--stddev", choices=STDDEVS, help="how the other half becomes σ: exp of log σ (default), "
                       "softplus, or raw (used as σ directly: fails once σ goes negative)")
    train.add_argument("--kl-warmup-epochs", type=field_type("kl_warmup_epochs"),
                       help=_field_help("kl_warmup_epochs", "epochs over which β ramps up from 0, step by step"))
    train.add_argument("--free-bits", type=field_type("free_bits"),
                       help=_field_help("free_bits", "nats per latent dimension below which the batch's mean KL "
                                        "is not pushed down (Kingma et al. 2016)"))
    train.add_argument("--resume", type=_given_path,
                       help="continue a run: a run folder (from its latest checkpoint, in that folder) or a checkpoint")
    train.add_argument("--out", type=_given_path,
                       help="the run folder to write (run.json, metrics.jsonl, metrics.csv, checkpoints/); "
                            "defaults to the run folder given to --resume")
    train.add_argument("--keep-every", type=_keep_every, default=0, metavar="N",
                       help="also keep checkpoints/epoch-NNNN.vaeckpt every N epochs (default 0: only latest and best)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace the run already in --out (without it, train refuses to overwrite one)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--nproc", type=_process_count, help="train as N processes on this machine (torchrun, "
                       "DistributedDataParallel); --batch-size stays the global batch")

    evaluate = sub.add_parser("evaluate", help="print test-set recon, KL and negative ELBO of a checkpoint or run folder")
    evaluate.add_argument("checkpoint", type=_given_path, help="a checkpoint file or a run folder")
    evaluate.add_argument("--which", choices=["latest", "best"], default="latest",
                          help="of a run folder: its latest checkpoint (default) or the best one")
    evaluate.add_argument("--dataset", type=_given, help="defaults to the dataset the model was trained on")
    evaluate.add_argument("--data-root", type=_given_path)
    evaluate.add_argument("--device", type=_given, default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    evaluate.add_argument("--importance-samples", type=_importance_samples, metavar="K",
                          help="also report the importance-weighted bound on log p(x) with K samples per image "
                          "(K = 1 is the ELBO)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object instead of a sentence")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (args_list[0] not in {"gui", "train", "evaluate", "watch"} and not args_list[0].startswith("-")):
        args_list.insert(0, "gui")
    args = build_parser().parse_args(args_list)
    from vae_desktop.core.errors import VaeDesktopError

    try:
        if args.install_launcher or args.uninstall_launcher:
            from vae_desktop import launcher

            return launcher.run_install_launcher() if args.install_launcher else launcher.run_uninstall_launcher()
        if args.self_test:
            from vae_desktop.selftest import run_self_test

            return run_self_test()
        if args.command == "train" and args.nproc is not None:
            from vae_desktop.commands.launch import launch_local

            return launch_local(args.nproc, args_list[args_list.index("train") + 1 :])
        if args.command == "train":
            from vae_desktop.commands.train import run_train

            return run_train(args)
        if args.command == "evaluate":
            from vae_desktop.commands.evaluate import run_evaluate

            return run_evaluate(args)
        from vae_desktop.ui.app import run_gui

        if args.command == "watch":
            return run_gui(follow=args.runs)
        return run_gui(getattr(args, "checkpoint", None))
    except VaeDesktopError as exc:
        print(f"vae-desktop{_process_label()}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"vae-desktop{_process_label()}: interrupted", file=sys.stderr)
        return 130
