from vae_desktop.core.run_clock import RunClock, format_duration


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pauses_do_not_count_as_elapsed_time_or_slow_the_eta():
    fake = FakeClock()
    clock = RunClock(fake)
    clock.start()
    fake.now += 10
    clock.add_steps(100)
    clock.pause()
    fake.now += 1000  # paused: ignored
    clock.resume()
    fake.now += 10
    clock.add_steps(100)
    assert clock.elapsed() == 20
    assert clock.eta(remaining_steps=50) == 5.0  # 0.1 s per step


def test_a_continued_run_keeps_its_elapsed_time_and_takes_its_pace_from_the_new_session():
    fake = FakeClock()
    clock = RunClock(fake)
    clock.start()
    fake.now += 30
    clock.stop()
    assert clock.elapsed() == 30
    clock.start(earlier=clock.elapsed())  # Continue
    assert clock.elapsed() == 30
    fake.now += 10
    clock.add_steps(100)
    assert clock.elapsed() == 40
    assert clock.eta(remaining_steps=50) == 5.0  # 0.1 s per step in this session, not 0.4


def test_eta_is_unknown_until_a_pace_exists():
    clock = RunClock(FakeClock())
    clock.start()
    assert clock.eta(100) is None


def test_durations_read_like_a_clock():
    assert format_duration(42) == "0:42"
    assert format_duration(725) == "12:05"
    assert format_duration(3723) == "1:02:03"
    assert format_duration(None) == "—"
    assert format_duration(float("inf")) == "—"
