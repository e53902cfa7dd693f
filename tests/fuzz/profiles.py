"""Hypothesis profiles for the fuzz tests: brief and derandomized in CI, long by hand.

The profiles are used per test (``@FUZZ``), never loaded globally, so they do not change
how other Hypothesis tests in the suite run.  ``KLINIKA_FULL=1`` selects the long one.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: Wall-clock budget of one example (a reader that loops or inflates without bound fails).
EXAMPLE_DEADLINE_MS = 5000

settings.register_profile(
    "klinika-fuzz-ci",
    max_examples=60,
    derandomize=True,
    deadline=EXAMPLE_DEADLINE_MS,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "klinika-fuzz-full",
    max_examples=5000,
    derandomize=False,
    deadline=EXAMPLE_DEADLINE_MS,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PROFILE = "klinika-fuzz-full" if os.environ.get("KLINIKA_FULL") == "1" else "klinika-fuzz-ci"
#: Decorator applying the active fuzz profile to one ``@given`` test.
FUZZ = settings(settings.get_profile(PROFILE))
