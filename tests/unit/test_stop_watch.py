"""The stop watch ends a run only while its executor waits for a slot, never while a step ends.

The UI's *Terminate* sends two interrupts (the code server's and the run's cancellation
thread's); the second can land while the interrupted step is still ending and set the flag the
watch reads. Exiting then left the run "canceling" for ever (CI, test_services). The frames
below stand in for the executor's: the watch reads the main thread's stack by function name.
"""

from __future__ import annotations

import threading
import time

import pytest
from dagster._utils import interrupts

from orchestration import stop_watch


@pytest.fixture
def told_to_stop():
    interrupts._received_interrupt["received"] = True
    yield
    interrupts._received_interrupt["received"] = False


@pytest.fixture
def watching():
    """Start a watch with ``grace`` whose stop is recorded, not taken; ends with the test."""
    done = threading.Event()

    def start(grace: float) -> list[int]:
        stopped: list[int] = []
        threading.Thread(target=stop_watch.watch, args=(grace, 0.05, stopped.append, done), daemon=True).start()
        return stopped

    yield start
    done.set()


def dagster_event_sequence_for_step(seconds: float) -> None:   # a step ending after its interrupt
    time.sleep(seconds)


def sleep_til_ready(seconds: float) -> None:   # the executor waiting for the warehouse slot
    time.sleep(seconds)


def test_an_interrupt_while_a_step_ends_does_not_stop_the_process(told_to_stop, watching):
    stopped = watching(grace=0.3)
    dagster_event_sequence_for_step(1.2)
    assert stopped == []


def test_an_interrupt_left_unread_while_waiting_for_a_slot_stops_it(told_to_stop, watching):
    stopped = watching(grace=0.3)
    sleep_til_ready(1.2)
    assert stopped == [stop_watch.STOPPED_STATUS]


def test_no_interrupt_no_stop(watching):
    stopped = watching(grace=0.1)
    sleep_til_ready(0.6)
    assert stopped == []


class _Instance:
    """A stand-in for the run's Dagster instance: the run's status moves along ``statuses``, one
    step each time it is read (the last one stays)."""

    def __init__(self, statuses):
        self.statuses, self.reads = list(statuses), 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def get_run_by_id(self, run_id):
        import types

        status = self.statuses[min(self.reads, len(self.statuses) - 1)]
        self.reads += 1
        return types.SimpleNamespace(status=status)


def test_a_run_marked_canceling_that_goes_on_is_interrupted_until_it_ends():
    from dagster import DagsterRunStatus as S

    sent: list[float] = []
    instance = _Instance([S.STARTED] * 3 + [S.CANCELING] * 30 + [S.CANCELED])
    thread = stop_watch.watch_cancellation(lambda: instance, "run-1", poll=0.02, grace=0.1, again=0.2,
                                           interrupt=lambda: sent.append(time.monotonic()))
    thread.join(timeout=5)
    assert not thread.is_alive()   # the watch ends with the run
    assert 2 <= len(sent) <= 4     # after the grace, then again while it still ran
    assert all(b - a >= 0.2 - 1e-3 for a, b in zip(sent, sent[1:]))


def test_a_run_that_ends_by_itself_is_never_interrupted():
    from dagster import DagsterRunStatus as S

    sent: list[int] = []
    instance = _Instance([S.STARTED] * 5 + [S.CANCELING] * 2 + [S.CANCELED])   # Dagster's own path was quick
    thread = stop_watch.watch_cancellation(lambda: instance, "run-2", poll=0.02, grace=0.5,
                                           interrupt=lambda: sent.append(1))
    thread.join(timeout=5)
    assert not thread.is_alive() and sent == []
