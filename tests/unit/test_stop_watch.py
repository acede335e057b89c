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
