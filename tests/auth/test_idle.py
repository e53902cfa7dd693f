from __future__ import annotations

from workstation.auth.clock import ManualClock
from workstation.auth.idle import IdleLock


def test_idle_lock_runs_out_and_input_restarts_it() -> None:
    clock = ManualClock()
    idle = IdleLock(10, clock)
    clock.advance(9 * 60)
    assert not idle.due() and 59 <= idle.remaining() <= 60
    idle.touch()
    clock.advance(9 * 60 + 59)
    assert not idle.due()
    clock.advance(1)
    assert idle.due() and idle.remaining() == 0


def test_zero_minutes_disables_the_lock() -> None:
    clock = ManualClock()
    idle = IdleLock(0, clock)
    clock.advance(10**6)
    assert not idle.enabled and not idle.due()
