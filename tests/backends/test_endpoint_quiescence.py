"""When the endpoint backend says the pipeline it drives is done: the S3 arrival scan must have looked after the
pipeline's last write, or a run settles while the scan is still reporting the last objects (seen under load:
25 delivered events counted as lost)."""

from __future__ import annotations

import time

from emulator.backends.endpoint import EndpointBackend


class Scans:
    """An S3 watcher (arrivals, or notifications): idle since ``t`` when its last clean scan (one that found
    nothing new) began at or after ``t``."""

    def __init__(self) -> None:
        self.clean_scan_started = -1.0

    def clean_scan(self) -> None:
        self.clean_scan_started = time.monotonic()

    def idle_since(self, since: float) -> bool:
        return self.clean_scan_started >= since


class Driver:
    """The client-side pipeline: quiescent or not as the test says, its invocations counted as they end, and its
    S3 notification scans."""

    def __init__(self) -> None:
        self.idle = False
        self.finished = 0
        self.notifications = Scans()
        self.notifications.clean_scan()

    def quiescent(self, since: float) -> bool:
        return self.idle

    def scans_idle_since(self, started: float) -> bool:
        return self.notifications.idle_since(started)


def backend() -> tuple[EndpointBackend, Driver, Scans]:
    b = EndpointBackend("http://127.0.0.1:9")  # never started: nothing is contacted
    driver, arrivals = Driver(), Scans()
    b.driver, b.arrivals = driver, arrivals  # type: ignore[assignment]
    return b, driver, arrivals


def scan_clean(driver: Driver, arrivals: Scans) -> None:
    """Both S3 watchers finish a scan that found nothing new."""
    arrivals.clean_scan()
    driver.notifications.clean_scan()


def test_a_clean_scan_from_before_the_pipeline_went_idle_does_not_settle_the_run() -> None:
    # GIVEN a replay that ended, and a clean arrival scan after it while the pipeline still ran
    b, driver, arrivals = backend()
    replay_done = time.monotonic()
    arrivals.clean_scan()
    assert not b.quiescent(replay_done)
    # WHEN the pipeline goes idle (its last invocations wrote objects the watcher has not reported yet)
    driver.idle = True
    # THEN it is not quiescent until a scan that began after that finds nothing new
    assert not b.quiescent(replay_done)
    assert not b.quiescent(replay_done)
    scan_clean(driver, arrivals)
    assert b.quiescent(replay_done)


def test_the_pipeline_working_again_needs_a_new_clean_scan() -> None:
    # GIVEN a pipeline seen idle, with a clean scan after that
    b, driver, arrivals = backend()
    replay_done = time.monotonic()
    driver.idle = True
    assert not b.quiescent(replay_done)
    scan_clean(driver, arrivals)
    assert b.quiescent(replay_done)
    # WHEN it works again (a retry), then goes idle again
    driver.idle = False
    assert not b.quiescent(replay_done)
    driver.idle = True
    # THEN the earlier clean scan no longer counts
    assert not b.quiescent(replay_done)
    scan_clean(driver, arrivals)
    assert b.quiescent(replay_done)


def test_a_new_run_does_not_inherit_the_last_run_s_idle_moment() -> None:
    # GIVEN a run that settled
    b, driver, arrivals = backend()
    driver.idle = True
    first = time.monotonic()
    assert not b.quiescent(first)
    scan_clean(driver, arrivals)
    assert b.quiescent(first)
    # WHEN the next run's replay ends (the pipeline is idle throughout)
    second = time.monotonic()
    # THEN it waits for a scan of its own after it found the pipeline idle
    assert not b.quiescent(second)
    scan_clean(driver, arrivals)
    assert b.quiescent(second)


def test_without_outputs_to_watch_the_pipeline_and_its_notification_scans_decide() -> None:
    b, driver, _ = backend()
    b.arrivals = None
    since = time.monotonic()
    assert not b.quiescent(since)
    driver.idle = True
    assert not b.quiescent(since)
    driver.notifications.clean_scan()
    assert b.quiescent(since)


def test_an_invocation_between_two_checks_needs_a_new_clean_scan() -> None:
    # GIVEN a pipeline seen idle, with clean scans after that
    b, driver, arrivals = backend()
    replay_done = time.monotonic()
    driver.idle = True
    assert not b.quiescent(replay_done)
    scan_clean(driver, arrivals)
    assert b.quiescent(replay_done)
    # WHEN a function runs and ends between two checks (an S3 notification's), so no check saw it busy
    driver.finished += 1
    # THEN what it wrote needs scans that began after it
    assert not b.quiescent(replay_done)
    scan_clean(driver, arrivals)
    assert b.quiescent(replay_done)


def test_a_notification_scan_from_before_the_pipeline_went_idle_does_not_settle_the_run() -> None:
    # GIVEN a pipeline gone idle, and an arrival scan after that, but the last notification scan before it
    b, driver, arrivals = backend()
    replay_done = time.monotonic()
    driver.idle = True
    assert not b.quiescent(replay_done)
    arrivals.clean_scan()
    # THEN an object written last may still start a function: not quiescent until a notification scan looked
    assert not b.quiescent(replay_done)
    driver.notifications.clean_scan()
    assert b.quiescent(replay_done)
