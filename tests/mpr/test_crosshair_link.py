"""The crosshair shared in LPS through :class:`CrosshairLink` (no Qt): MPR states of the
same Frame of Reference follow each other, others do not, nothing echoes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from workstation.mpr.viewing import MprViewState
from workstation.mpr.volume import MprVolume
from workstation.viewer.crosshair_link import CrosshairLink

pytestmark = pytest.mark.vtk


def test_link_keeps_the_last_point_per_frame_of_reference() -> None:
    link = CrosshairLink()
    heard: list[tuple[str, tuple[float, ...], object]] = []
    unsubscribe = link.subscribe(lambda f, p, s: heard.append((f, tuple(p), s)))
    link.publish("1.2.3", (1.0, 2.0, 3.0), "viewer")
    link.publish("", (9.0, 9.0, 9.0), "viewer")  # no Frame of Reference: not shared
    assert heard == [("1.2.3", (1.0, 2.0, 3.0), "viewer")]
    assert np.array_equal(link.point("1.2.3"), [1.0, 2.0, 3.0])  # type: ignore[arg-type]
    assert link.point("9.9") is None
    with pytest.raises(ValueError):
        link.publish("1.2.3", (np.nan, 0.0, 0.0), "viewer")
    unsubscribe()
    link.publish("1.2.3", (4.0, 5.0, 6.0), "viewer")
    assert len(heard) == 1
    link.forget("1.2.3")
    assert link.point("1.2.3") is None


def test_two_mpr_states_of_one_frame_of_reference_follow_each_other(
    axial_volume: MprVolume,
) -> None:
    link = CrosshairLink()
    first, second = MprViewState(axial_volume), MprViewState(axial_volume)
    other_frame = MprViewState(replace(axial_volume, frames=()))  # no Frame of Reference
    assert axial_volume.frame_of_reference_uid
    for state in (first, second, other_frame):
        state.link_to(link)
    calls: list[tuple[int, ...]] = []
    second.subscribe(calls.append)
    point = axial_volume.index_to_patient([5, 7, 9])
    first.set_crosshair(point)
    assert np.allclose(second.crosshair, point)
    assert calls  # the second window's planes moved
    for view in second.views:
        assert abs(float(view.plane.distance_mm(point))) < 1e-9
    assert np.allclose(other_frame.crosshair, axial_volume.centre_mm())
    # a point from another view (a 2-D viewport) moves both
    target = axial_volume.index_to_patient([20, 10, 3])
    link.publish(axial_volume.frame_of_reference_uid, target, "2-D viewer")
    assert np.allclose(first.crosshair, target) and np.allclose(second.crosshair, target)
    # a window opened later starts at the shared point
    third = MprViewState(axial_volume)
    third.link_to(link)
    assert np.allclose(third.crosshair, target)
    # closed: it hears nothing more
    third.close()
    first.scroll(0, 2)
    assert np.allclose(second.crosshair, first.crosshair)
    assert np.allclose(third.crosshair, target)
