"""Image order and wheel direction follow the reading convention (issue 10): an axial
stack starts head-most and the wheel turned down goes feet-ward; coronal starts
anterior, sagittal right; ``viewer.stack_order = "reversed"`` flips it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from workstation.viewer.catalog import InstanceEntry, sort_instances

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def _stack(orientation: tuple[float, ...], axis: int) -> list[InstanceEntry]:
    entries = []
    for k in range(8):
        pos = [0.0, 0.0, 0.0]
        pos[axis] = -40.0 + 5.0 * k
        entries.append(
            InstanceEntry(
                f"1.2.{k}",
                "1.2",
                Path(f"/x/{k}.dcm"),
                instance_number=k + 1,
                image_position=tuple(pos),
                image_orientation=orientation,
            )
        )
    random.Random(7).shuffle(entries)
    return entries


@pytest.mark.parametrize(
    ("orientation", "axis", "descending"),
    [(AXIAL, 2, True), (CORONAL, 1, False), (SAGITTAL, 0, False)],
    ids=["axial-head-first", "coronal-anterior-first", "sagittal-right-first"],
)
def test_reading_order_per_plane(orientation, axis: int, descending: bool) -> None:
    entries = _stack(orientation, axis)
    coords = [e.image_position[axis] for e in sort_instances(entries)]  # type: ignore[index]
    assert coords == sorted(coords, reverse=descending)
    flipped = [e.image_position[axis] for e in sort_instances(entries, reverse=True)]  # type: ignore[index]
    assert flipped == coords[::-1]


def test_order_without_planes_is_by_number_and_flips() -> None:
    entries = [InstanceEntry(f"1.{n}", "1", Path(f"/x/{n}"), instance_number=n) for n in (3, 1, 2)]
    assert [e.instance_number for e in sort_instances(entries)] == [1, 2, 3]
    assert [e.instance_number for e in sort_instances(entries, reverse=True)] == [3, 2, 1]


def test_real_chest_ct_starts_head_most(testdata: Path) -> None:
    from workstation.viewer.catalog import FileCatalog

    folder = testdata / "series" / "ct-lung-petctdx-30sl"
    catalog = FileCatalog(sorted(folder.iterdir()))
    (series,) = catalog.series(catalog.studies()[0])
    z = [e.image_position[2] for e in sort_instances(catalog.instances(series.series_instance_uid))]  # type: ignore[index]
    assert z[0] == max(z) and z[-1] == min(z) and z == sorted(z, reverse=True)


@pytest.mark.qt
@pytest.mark.vtk
@pytest.mark.parametrize("order", ["standard", "reversed"])
def test_wheel_down_goes_feet_ward(qtbot, ct_catalog, tmp_path: Path, order: str) -> None:
    pytest.importorskip("PySide6")
    import os

    from tests.viewer.gui_helpers import open_and_wait, wait_until, wheel
    from workstation.config import ensure_home, load_settings
    from workstation.viewer._qt.qt_viewer import QtViewer

    os.environ["WORKSTATION_HOME"] = str(tmp_path / "home")
    settings = load_settings({"viewer": {"stack_order": order}})
    ensure_home(settings)
    v = QtViewer(ct_catalog, settings)
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.show()
    qtbot.waitExposed(v)
    try:
        open_and_wait(qtbot, v, ct_catalog)
        view = v.views[0]
        vp = view.viewport
        z0 = vp.current_ref().geometry.image_position[2]
        wheel(view.render_view, -1)  # one notch towards the user: "wheel down"
        wait_until(qtbot, lambda: vp.index == 1)
        z1 = vp.current_ref().geometry.image_position[2]
        if order == "standard":
            assert z1 < z0  # feet-ward
            zs = [vp.source.ref(i).geometry.image_position[2] for i in range(vp.count)]
            assert z0 == max(zs)
        else:
            assert z1 > z0
    finally:
        v.close()
