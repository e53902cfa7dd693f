"""On-screen viewer benchmark: open -> first pixels, scroll rate, W/L drag, VTK upload paths.

Runs the real viewer (QtViewer, imaging loader, VTK in a Qt window); needs a display
(``xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python benchmarks/viewer_screen_bench.py``).

Series: the 255-slice JPEG-Lossless CT of the shared test data (when present) and a
synthetic 500-slice 512x512 uncompressed CT.  Peer measured in the same run: plain pydicom
(``dcmread`` + ``pixel_array``) decoding the same files, single-threaded.

Figures printed per series:
- open -> first pixels on screen (ms; budget < 300), beside pydicom's time to decode the
  first file;
- scroll rate on screen with every slice decoded (images/s; budget >= 60), beside
  pydicom's decode rate (images/s) for the same files;
- window/level drag rate (re-window + draw per mouse step);
- the VTK 2-D paths, CPU ms per frame: numpy-windowed uint8 as a texture on a quad (the
  viewer's), the same through ``vtkImageActor``, and int16 with VTK's window/level.

``--quick`` uses a small synthetic series only (for the test that proves the script runs).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CT_255 = ROOT.parent / "shared" / "testdata" / "series" / "ct-chest-ricord-255sl-jpegll"


def write_synthetic_ct(folder: Path, n: int, size: int) -> list[Path]:
    from tests.viewer.synthetic import write_ct_series

    return write_ct_series(
        folder,
        n=n,
        rows=size,
        cols=size,
        spacing=(0.7, 0.7),
        slice_mm=1.0,
        shuffle=False,
        description=f"Synthetic {n}",
    )


def pydicom_reference(paths: list[Path], limit: int) -> tuple[float, float]:
    """(ms to decode the first file, images/s decoding up to `limit` files) with plain pydicom."""
    import pydicom

    t = time.perf_counter()
    pydicom.dcmread(paths[0]).pixel_array  # noqa: B018
    first_ms = (time.perf_counter() - t) * 1000
    sample = paths[:limit]
    t = time.perf_counter()
    for p in sample:
        pydicom.dcmread(p).pixel_array  # noqa: B018
    rate = len(sample) / (time.perf_counter() - t)
    return first_ms, rate


def _pump(app, until, timeout_s: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.perf_counter() + timeout_s
    while not until():
        app.processEvents()
        if time.perf_counter() > end:
            return False
        time.sleep(0.0005)
    app.processEvents()
    return True


def open_first_pixels(app, viewer, catalog, runs: int) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    """ms from open to first pixels for each run, and when the last open started."""
    from workstation.viewer import imaging_source

    times = []
    study = catalog.studies()[0]
    started = 0.0
    for _ in range(runs):
        started = time.perf_counter()
        if imaging_source._shared is not None:
            imaging_source._shared[1].clear()  # a cold cache each time (the OS cache is warm)
        shown: list[float] = []
        viewer.sig_first_image_shown.connect(shown.append)
        viewer.open_study(study)
        _pump(app, lambda shown=shown: bool(shown))
        viewer.sig_first_image_shown.disconnect(shown.append)
        times.append(shown[0])
    return times, started


def all_decoded_ms(app, viewer, t0: float) -> float:  # type: ignore[no-untyped-def]
    vp = viewer.model.viewports[0]
    _pump(app, lambda: vp.source.decoded_count() >= vp.count, 300)
    return (time.perf_counter() - t0) * 1000


def _xvfb_cpu_s() -> float:
    """CPU seconds used so far by the X server of $DISPLAY (Xvfb), 0 if not found."""
    display = os.environ.get("DISPLAY", "").split(".")[0]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
            if argv and argv[0].endswith(b"Xvfb") and display.encode() in argv:
                fields = (cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return 0.0


def scroll_rate(app, viewer, passes: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(images/s on screen, CPU ms per image in this process and the X server).

    The CPU figure hardly depends on how busy the machine is; the wall figure does.
    """
    view = viewer.views[0]
    vp = view.viewport
    n = vp.count
    t, cpu, xcpu = time.perf_counter(), time.process_time(), _xvfb_cpu_s()
    frames = 0
    for _ in range(passes):
        for i in range(n):
            vp.set_index(i)
            app.processEvents()  # the queued render runs here
            frames += 1
    wall = time.perf_counter() - t
    mine, xserver = time.process_time() - cpu, _xvfb_cpu_s() - xcpu
    print(
        f"    [{view.render_view.width()}x{view.render_view.height()}] CPU per image: viewer "
        f"{mine * 1000 / frames:.1f} ms, X server {xserver * 1000 / frames:.1f} ms"
    )
    return frames / wall, (mine + xserver) * 1000 / frames


def window_drag_rate(app, viewer, steps: int) -> float:  # type: ignore[no-untyped-def]
    vp = viewer.model.viewports[0]
    t = time.perf_counter()
    for k in range(steps):
        vp.drag_window(3.0 if k % 40 < 20 else -3.0, 1.0)
        app.processEvents()
    return steps / (time.perf_counter() - t)


PATHS = ("uint8_texture_quad", "uint8_image_actor", "int16_image_actor_vtk_window")


def _path_scene(name: str, image):  # type: ignore[no-untyped-def]
    """An actor showing `image` the way path `name` does, and its property (or None)."""
    from vtkmodules.vtkFiltersSources import vtkPlaneSource
    from vtkmodules.vtkRenderingCore import (
        vtkActor,
        vtkImageActor,
        vtkPolyDataMapper,
        vtkTexture,
    )

    if name == "uint8_texture_quad":  # what the viewer does
        plane = vtkPlaneSource()
        cols, rows, _d = image.GetDimensions()
        plane.SetOrigin(-0.5, -0.5, 0)
        plane.SetPoint1(cols - 0.5, -0.5, 0)
        plane.SetPoint2(-0.5, rows - 0.5, 0)
        texture = vtkTexture()
        texture.SetInputData(image)
        texture.SetColorModeToDirectScalars()
        texture.InterpolateOn()
        mapper = vtkPolyDataMapper()
        mapper.SetInputConnection(plane.GetOutputPort())
        actor = vtkActor()
        actor.SetMapper(mapper)
        actor.SetTexture(texture)
        actor.GetProperty().SetLighting(False)
        return actor, None, plane
    actor = vtkImageActor()
    actor.GetMapper().SetInputData(image)
    prop = actor.GetProperty()
    prop.SetInterpolationTypeToLinear()
    if name == "uint8_image_actor":
        prop.SetColorWindow(255)
        prop.SetColorLevel(127.5)
    else:
        prop.SetColorWindow(400)
        prop.SetColorLevel(40)
    return actor, prop, None


def vtk_paths(values: list[np.ndarray], size: int = 800) -> dict[str, float]:
    """CPU ms per frame (offscreen, no X server): the ways to draw a changing 2-D frame.

    uint8 paths window in numpy (a lookup table) and upload 8 bits; the int16 path
    uploads modality values and lets VTK's image shader apply the window.
    """
    import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow

    from workstation.viewer.windowing import to_uint8

    out = {}
    for name in PATHS:
        win = vtkRenderWindow()
        win.SetSize(size, size)
        win.SetOffScreenRendering(1)
        win.SetMultiSamples(0)  # as the viewer does
        ren = vtkRenderer()
        win.AddRenderer(ren)
        image = vtkImageData()
        rows, cols = values[0].shape
        image.SetDimensions(cols, rows, 1)
        eight_bit = name.startswith("uint8")
        first = to_uint8(values[0], 40, 400) if eight_bit else np.ascontiguousarray(values[0])
        image.GetPointData().SetScalars(numpy_to_vtk(first.reshape(-1), deep=False))
        actor, prop, _source = _path_scene(name, image)
        ren.AddViewProp(actor)
        ren.ResetCamera()
        ren.GetActiveCamera().Zoom(1.4)  # fill the window, as a fitted image does
        win.Render()
        keep = [first]
        cpu = time.process_time()
        for k, v in enumerate(values):
            if eight_bit:
                arr = to_uint8(v, 40 + k % 7, 400)
            else:
                arr = np.ascontiguousarray(v)
                prop.SetColorLevel(40 + k % 7)
            keep = [arr]
            image.GetPointData().SetScalars(numpy_to_vtk(arr.reshape(-1), deep=False))
            image.Modified()
            win.Render()
        out[name] = (time.process_time() - cpu) * 1000 / len(values)
        del keep
        win.Finalize()
    return out


def bench_series(app, viewer, name: str, paths: list[Path], args) -> dict:  # type: ignore[no-untyped-def]
    """Figures for one series, shown in the app's one viewer (as in the workstation)."""
    from workstation.viewer.catalog import FileCatalog

    catalog = FileCatalog(paths)
    viewer.catalog = catalog
    runs = 2 if args.quick else 3
    firsts, last_open = open_first_pixels(app, viewer, catalog, runs)
    decoded_ms = all_decoded_ms(app, viewer, last_open)
    vp = viewer.model.viewports[0]
    rate, cpu_ms = scroll_rate(app, viewer, 1 if args.quick else 2)
    big = viewer.views[0].render_view.GetRenderWindow().GetSize()
    viewer.resize(760, 600)  # a smaller viewport (fill rate bounds software GL)
    _pump(app, lambda: viewer.views[0].render_view.width() < big[0] - 100, 5)
    small = (viewer.views[0].render_view.width(), viewer.views[0].render_view.height())
    rate_small, cpu_ms_small = scroll_rate(app, viewer, 1)
    viewer.resize(1280, 900)
    _pump(app, lambda: viewer.views[0].render_view.width() > small[0], 5)
    wl = window_drag_rate(app, viewer, 60 if args.quick else 300)
    ref_first, ref_rate = pydicom_reference(paths, 30 if args.quick else min(len(paths), 200))
    frames = [vp.source.frame(i) for i in range(min(vp.count, 40))]
    values = [f.values for f in frames if f is not None and f.values is not None]
    paths_ms = vtk_paths(values)
    count = vp.count
    viewer.close_study()
    result = {
        "series": name,
        "slices": count,
        "first_pixels_ms_median": statistics.median(firsts),
        "first_pixels_ms_runs": [round(x, 1) for x in firsts],
        "pydicom_first_decode_ms": ref_first,
        "open_to_all_decoded_ms": decoded_ms,
        "viewport_px": list(big),
        "scroll_images_per_s": rate,
        "scroll_cpu_ms_per_image": cpu_ms,
        "scroll_cpu_ms_per_image_small_viewport": cpu_ms_small,
        "small_viewport_px": list(small),
        "scroll_images_per_s_small_viewport": rate_small,
        "pydicom_decode_images_per_s": ref_rate,
        "window_drag_steps_per_s": wl,
        "vtk_ms_per_frame": paths_ms,
    }
    print(f"\n== {name}: {count} slices")
    print(
        f"open -> first pixels on screen: {result['first_pixels_ms_median']:.0f} ms (median of "
        f"{runs}; budget < 300) | plain pydicom decode of the first file: {ref_first:.0f} ms"
    )
    print(f"open -> every slice decoded (while the first is shown): {decoded_ms:.0f} ms")
    print(
        f"scroll on screen: {rate:.0f} images/s (budget >= 60) | plain pydicom decode: "
        f"{ref_rate:.0f} images/s | ratio {rate / ref_rate:.1f}x"
    )
    print(
        f"  viewport {big[0]}x{big[1]}: {cpu_ms:.1f} CPU ms per image (viewer + X server); "
        f"at {small[0]}x{small[1]}: {rate_small:.0f} images/s, {cpu_ms_small:.1f} CPU ms/image"
    )
    print(f"  load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"window/level drag: {wl:.0f} redraws/s")
    print(
        "VTK 2-D paths, CPU ms per frame at 800x800 offscreen: "
        + ", ".join(f"{k} {v:.1f}" for k, v in paths_ms.items())
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small synthetic series only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        print("needs a display: run under xvfb-run -a", file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from workstation.viewer import imaging_source
    from workstation.viewer._qt.qt_viewer import QtViewer

    viewer = QtViewer(None)
    viewer.resize(1280, 900)
    viewer.show()
    _pump(app, lambda: viewer.isVisible())
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = write_synthetic_ct(Path(tmp) / "warm", 8, 128)
        bench_series(
            app, viewer, "warm-up (imports, decode workers)", warm, argparse.Namespace(quick=True)
        )
        if args.quick:
            paths = write_synthetic_ct(Path(tmp) / "syn", 60, 256)
            results.append(
                bench_series(app, viewer, "synthetic CT 60 x 256^2 (quick)", paths, args)
            )
        else:
            if CT_255.is_dir():
                paths = sorted(CT_255.glob("*.dcm"))
                results.append(
                    bench_series(app, viewer, "CT 255 slices, JPEG Lossless", paths, args)
                )
            else:
                print("shared test data absent: skipping the 255-slice CT")
            paths = write_synthetic_ct(Path(tmp) / "syn", 500, 512)
            results.append(
                bench_series(app, viewer, "synthetic CT 500 x 512^2, uncompressed", paths, args)
            )
    viewer.close()
    viewer.close()
    imaging_source.shutdown()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
