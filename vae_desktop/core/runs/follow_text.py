"""What the window says about a followed run, in one sentence: "Following my-run on gpu1: running,
epoch 7 of 50, last update 2 s ago". Pure, so the wording is tested without Qt and one place owns it.
"""

from __future__ import annotations

from dataclasses import dataclass

from vae_desktop.core.runs.state import FAILED, FINISHED, MISSING, RUNNING, STALLED, STOPPED, UNKNOWN, RunStatus


@dataclass(frozen=True)
class FollowText:
    text: str
    kind: str  # "info", "warning" or "error": how the banner colours it
    can_continue: bool  # the run is not running any more: "Continue here" may take it over


def ago(seconds: float | None) -> str:
    if seconds is None:
        return "no update yet"
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"last update {seconds:.0f} s ago"
    if seconds < 5400:
        return f"last update {seconds / 60:.0f} min ago"
    return f"last update {seconds / 3600:.0f} h ago"


def follow_text(name: str, where: str, status: RunStatus, last_update_s: float | None,
                restarted: bool = False, problems: tuple[str, ...] = (), malformed_lines: int = 0,
                waiting: bool = False) -> FollowText:
    """The banner for `status`; `last_update_s`: seconds since anything new arrived (None: nothing yet);
    `restarted`: the log was read again from its start (replaced or truncated) since the last banner;
    `problems`: this poll's sentences (damaged files, lost connection), said after the state;
    `malformed_lines`: skipped so far, said until the run is followed no more (a poll's own sentence
    about them says it in its place); `waiting`: the folder holds nothing of a run yet (no run.json,
    no rows, no checkpoint): it was followed before its run started."""
    info = status.info
    head = f"Following {name} on {where}" if where else f"Following {name}"
    progress = ""
    if info is not None:
        planned = info.progress.epochs_planned
        epoch = info.progress.epoch
        if epoch:
            progress = f", epoch {epoch} of {planned}" if planned else f", epoch {epoch}"
    state = status.state
    kind = "info"
    if state == RUNNING:
        words = "running"
    elif state == STALLED:
        words, kind = f"stalled ({status.message.rstrip('.')})" if status.message else "stalled", "warning"
    elif state == FINISHED:
        words = "finished"
    elif state == STOPPED:
        words = "stopped"
    elif state == FAILED:
        words, kind = (f"failed: {status.message.rstrip('.')}" if status.message else "failed"), "error"
    elif state == MISSING:
        words, kind = "the run folder is gone", "error"
    elif state == UNKNOWN and waiting:
        words = "waiting for a run to start there"
    elif state == UNKNOWN:
        words = "waiting for run.json"
    else:
        words = state
    when = "" if state == UNKNOWN and waiting else f", {ago(last_update_s)}"
    text = f"{head}: {words}{progress}{when}."
    if restarted:
        text += " Restarted: its metrics log was replaced, so it was read again from the start."
        kind = "warning" if kind == "info" else kind
    shown = [p for p in problems if p and p != status.message]
    if malformed_lines and not any("malformed" in p for p in shown):
        plural = "s" if malformed_lines != 1 else ""
        shown.append(f"{malformed_lines} malformed line{plural} skipped so far.")
    if shown:
        text += " " + " ".join(shown)
        kind = "warning" if kind == "info" else kind
    can_continue = state in (STALLED, FINISHED, STOPPED, FAILED)
    return FollowText(text, kind, can_continue)
