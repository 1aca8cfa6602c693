"""The window's run status as a plain value: transitions, progress from BatchMetrics, and what the
controls allow in each state (`controls_for`), all without Qt."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vae_desktop.core.metrics import BatchMetrics
from vae_desktop.core.trainer import TrainingProgress
from vae_desktop.core.training_status import TrainingState, TrainingStatus, controls_for

S = TrainingState


def batch(epoch: int, step: int, steps: int = 20, rate: float = 900.0) -> BatchMetrics:
    return BatchMetrics(epoch=epoch, step=step, steps_per_epoch=steps, global_step=(epoch - 1) * steps + step,
                        recon=50.0, kl=3.0, total=53.0, samples_per_s=rate)


def test_the_state_words_are_the_ones_the_window_and_logs_always_used():
    assert [s.value for s in S] == ["starting", "idle", "ready", "loading", "training", "paused", "stopping"]
    assert S.PAUSED == "paused" and f"{S.TRAINING.value}" == "training"


@pytest.mark.parametrize(("state", "start", "pause", "stop", "replace_run", "form"), [
    (S.STARTING, False, False, False, False, True),
    (S.IDLE, True, False, False, True, True),
    (S.READY, True, False, False, True, True),
    (S.LOADING, False, False, True, False, False),  # Stop cancels a slow dataset load
    (S.TRAINING, False, True, True, False, True),
    (S.PAUSED, False, True, True, False, True),
    (S.STOPPING, False, False, False, False, True),
])
def test_which_controls_work_in_each_state(state, start, pause, stop, replace_run, form):
    controls = controls_for(TrainingStatus(state, has_run=True), form_valid=True)
    assert (controls.start, controls.pause, controls.stop, controls.replace_run, controls.form) == (
        start, pause, stop, replace_run, form)
    assert controls.settings_fixed_by_training == (state.busy or state is S.LOADING)


def test_texts_follow_the_state():
    assert controls_for(TrainingStatus(S.READY, has_run=True), True).start_text == "Continue"
    assert controls_for(TrainingStatus(S.IDLE), True).start_text == "Start"
    assert controls_for(TrainingStatus(S.PAUSED, has_run=True), True).pause_text == "Resume"
    assert controls_for(TrainingStatus(S.TRAINING, has_run=True), True).pause_text == "Pause"
    assert controls_for(TrainingStatus(), True).start_tip.startswith("Loading PyTorch")
    assert controls_for(TrainingStatus(S.STOPPING, has_run=True), True).state_text == "Stopping…"


def test_an_invalid_form_or_no_run_turns_off_what_needs_them():
    assert not controls_for(TrainingStatus(S.IDLE), form_valid=False).start
    no_run = controls_for(TrainingStatus(S.IDLE), form_valid=True)
    assert not no_run.save and not no_run.export
    run = controls_for(TrainingStatus(S.TRAINING, has_run=True), form_valid=True)
    assert run.save and run.export
    assert not controls_for(TrainingStatus(S.STOPPING, has_run=True), True).save  # the thread is ending


def test_a_pause_waits_for_the_worker_the_state_changes_only_when_it_confirms():
    training = TrainingStatus(S.TRAINING, has_run=True).with_batch(batch(1, 5))
    asked = replace(training, awaiting_worker=True)  # what the controller publishes on Pause
    assert asked.state is S.TRAINING  # still training: the worker has not paused yet
    assert not controls_for(asked, True).pause  # and Pause cannot be pressed twice meanwhile
    paused = asked.with_state(S.PAUSED)  # the worker said so
    assert paused.state is S.PAUSED and not paused.awaiting_worker and controls_for(paused, True).pause
    assert paused.images_per_s is None  # nothing trains while paused: no rate
    resumed = paused.with_state(S.TRAINING)
    assert resumed.global_step == training.global_step == 5


def test_progress_is_what_the_batch_carries():
    status = TrainingStatus(S.TRAINING, has_run=True, epochs=3).with_batch(batch(2, 20))
    assert (status.epoch, status.step, status.steps_per_epoch, status.global_step) == (2, 20, 20, 40)
    assert status.images_per_s == 900.0 and status.total_steps == 60 and status.remaining_steps == 20
    loading = TrainingStatus(S.PAUSED, has_run=True).with_batch(batch(1, 3))
    assert loading.images_per_s is None  # the batches a pause flushes are not a rate to show


@pytest.mark.parametrize(("progress", "shown"), [
    (TrainingProgress(), (1, 0)),  # a new run: epoch 1, nothing done
    (TrainingProgress(epoch=1, step_in_epoch=0, global_step=20), (1, 20)),  # an epoch just ended
    (TrainingProgress(epoch=1, step_in_epoch=7, global_step=27), (2, 7)),
])
def test_progress_of_a_trainer_or_checkpoint_reads_like_its_last_batch(progress, shown):
    status = TrainingStatus(S.READY).with_progress(progress, steps_per_epoch=20, epochs=3)
    assert (status.epoch, status.step) == shown and status.has_run and status.global_step == progress.global_step



@pytest.mark.parametrize("state", [TrainingState.IDLE, TrainingState.READY])
def test_following_another_run_turns_off_everything_that_trains_or_replaces_the_run(state):
    status = TrainingStatus(state, has_run=state is TrainingState.READY, following=True)
    controls = controls_for(status, form_valid=True)
    assert not (controls.start or controls.pause or controls.stop or controls.replace_run or controls.save)
    assert not controls.form and controls.settings_fixed_by_training
    assert controls.export  # what the window shows can still be exported
    assert controls.state_text == "Following" and "Stop following" in controls.start_tip
    # the same status, no longer following: the controls are the window's own run's again
    assert controls_for(replace(status, following=False), form_valid=True) == controls_for(
        TrainingStatus(state, has_run=status.has_run), form_valid=True)
    assert replace(status, following=True).with_state(TrainingState.READY).following
