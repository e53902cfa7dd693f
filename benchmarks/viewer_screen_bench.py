"""On-screen viewer benchmark: open -> first pixels, images drawn per second while
scrolling, W/L drag, VTK upload paths.

Runs the real viewer (QtViewer, imaging loader, VTK in a Qt window); needs a display
(``xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python benchmarks/viewer_screen_bench.py``).

Series: the 255-slice JPEG-Lossless CT of the shared test data (when present) and a
synthetic 500-slice 512x512 uncompressed CT.  Peer measured in the same run: plain pydicom
(``dcmread`` + ``pixel_array``) decoding the same files, single-threaded.

Figures printed per series (every slice decoded before scrolling starts):
- open -> first pixels on screen (ms; budget < 300), beside pydicom's time to decode the
  first file;
- **every step drawn**: one slice step per event-loop turn, each drawn before the next
  step (images/s on screen; budget >= 60), in the full-size viewport (~860x860) and in
  a small one, with CPU ms per image in the viewer and in the X server;
- **spun wheel**: wheel notches queued at a fixed rate faster than frames can be drawn
  (as a free-spinning wheel delivers them); *displayed* images/s (renders, each of a new
  slice) is reported apart from *stepped* images/s (slices passed) -- the viewer draws
  the newest slice once per loop turn and steps over the rest;
- pydicom's decode rate (images/s) for the same files as the reference ratio;
- window/level drag rate (re-window + draw per mouse step);
- the VTK 2-D paths, CPU ms per frame: numpy-windowed uint8 as a texture on a quad (the
  viewer's ``ImageQuad``), the same through ``vtkImageActor``, and int16 with VTK's
  window/level.

``--quick`` uses a small synthetic series only (for the test that proves the script runs).
"""

from __future__ import annotations

import argparse
import itertools
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
#: Wheel notches per second in the spun-wheel run: faster than any frame rate here.
NOTCHES_PER_S = 200.0


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
    from workstation.imaging import shared

    times = []
    study = catalog.studies()[0]
    started = 0.0
    for _ in range(runs):
        started = time.perf_counter()
        running = shared.running()
        if running is not None:
            running[1].clear()  # a cold cache each time (the OS cache is warm)
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


def _count_renders(view):  # type: ignore[no-untyped-def]
    """A list that gets (time, stack index) at the end of every render of `view`."""
    drawn: list[tuple[float, int]] = []
    window = view.render_view.GetRenderWindow()
    tag = window.AddObserver(
        "EndEvent", lambda *_: drawn.append((time.perf_counter(), view.viewport.index))
    )
    return drawn, lambda: window.RemoveObserver(tag)


def _settle(app, ms: float) -> None:  # type: ignore[no-untyped-def]
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)


def scroll_every_step(app, viewer, passes: int) -> dict:  # type: ignore[no-untyped-def]
    """One slice step per event-loop turn, each drawn before the next step.

    Returns images/s on screen (every one drawn) and CPU ms per image in this process and
    in the X server; the CPU figures hardly depend on how busy the machine is, the wall
    figure does.
    """
    view = viewer.views[0]
    vp = view.viewport
    n = vp.count
    _settle(app, 200)
    drawn, stop = _count_renders(view)
    t, cpu, xcpu = time.perf_counter(), time.process_time(), _xvfb_cpu_s()
    steps = 0
    for p in range(passes):
        for i in range(n) if p % 2 == 0 else range(n - 1, -1, -1):
            if vp.set_index(i):
                steps += 1
            app.processEvents()  # the queued render runs here
    wall = time.perf_counter() - t
    mine, xserver = time.process_time() - cpu, _xvfb_cpu_s() - xcpu
    stop()
    shown = len(drawn)
    return {
        "viewport_px": [view.render_view.width(), view.render_view.height()],
        "steps": steps,
        "images_drawn": shown,
        "images_per_s": shown / wall,
        "cpu_ms_per_image_viewer": mine * 1000 / max(shown, 1),
        "cpu_ms_per_image_xserver": xserver * 1000 / max(shown, 1),
    }


def _post_notch(widget, down: bool) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    pos = QPointF(widget.width() / 2, widget.height() / 2)
    ev = QWheelEvent(
        pos,
        widget.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, -120 if down else 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.postEvent(widget, ev)


def scroll_spun_wheel(app, viewer, notches_per_s: float, seconds: float) -> dict:  # type: ignore[no-untyped-def]
    """Wheel notches queued at `notches_per_s` (down the stack, then back up) while Qt's
    event loop runs as in the application (sleeping when idle), as a spun wheel
    delivers them.  Displayed images/s counts renders that showed a new slice; stepped
    images/s counts slices passed."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    view = viewer.views[0]
    vp = view.viewport
    widget = view.render_view
    _settle(app, 200)
    vp.set_index(0)
    _settle(app, 200)
    drawn, stop = _count_renders(view)
    state = {"down": True, "posted": 0, "passed": 0, "last": vp.index}
    t0 = time.perf_counter()

    def count() -> None:
        state["passed"] += abs(vp.index - state["last"])
        state["last"] = vp.index

    def feed() -> None:  # posts the notches due by now (catching up when late)
        count()
        due = int((time.perf_counter() - t0) * notches_per_s)
        while state["posted"] < due:
            if state["down"] and vp.index >= vp.count - 1:
                state["down"] = False
            elif not state["down"] and vp.index <= 0:
                state["down"] = True
            _post_notch(widget, state["down"])
            state["posted"] += 1

    loop = QEventLoop()
    feeder = QTimer()
    feeder.setTimerType(Qt.TimerType.PreciseTimer)
    feeder.setInterval(max(1, round(1000 / notches_per_s)))
    feeder.timeout.connect(feed)
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    feeder.start()
    loop.exec()
    feeder.stop()
    count()
    passed = state["passed"]
    wall = time.perf_counter() - t0
    stop()
    shown = [i for k, (_t, i) in enumerate(drawn) if k == 0 or drawn[k - 1][1] != i]
    gaps = [abs(b - a) for a, b in itertools.pairwise(shown)] or [0]
    return {
        "viewport_px": [widget.width(), widget.height()],
        "notches_per_s": notches_per_s,
        "displayed_images_per_s": len(shown) / wall,
        "stepped_images_per_s": passed / wall,
        "renders_per_s": len(drawn) / wall,
        "mean_slices_per_displayed_image": statistics.mean(gaps),
    }


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
    from vtkmodules.vtkRenderingCore import vtkImageActor

    if name == "uint8_texture_quad":  # what the viewer does
        from workstation.viewer._vtk.vtk_layers import ImageQuad

        quad = ImageQuad()
        cols, rows, _d = image.GetDimensions()
        quad.set_pixels(image.GetPointData().GetScalars(), cols, rows, 1)
        quad.texture.SetInputData(image)
        quad.texture.InterpolateOn()
        quad.actor.SetVisibility(True)
        return quad.actor, None, quad
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

    from workstation.imaging.render import values_to_u8

    out = {}
    for name in PATHS:
        win = vtkRenderWindow()
        win.SetSize(size, size)
        win.SetOffScreenRendering(1)
        win.SetMultiSamples(0)  # as the viewer does
        win.SetFrameBlitModeToBlitToCurrent()
        ren = vtkRenderer()
        win.AddRenderer(ren)
        image = vtkImageData()
        rows, cols = values[0].shape
        image.SetDimensions(cols, rows, 1)
        eight_bit = name.startswith("uint8")
        first = values_to_u8(values[0], (40, 400)) if eight_bit else np.ascontiguousarray(values[0])
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
                arr = values_to_u8(v, (40 + k % 7, 400))
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
    passes = 1 if args.quick else 2
    wheel_s = 1.0 if args.quick else 2.5
    big = scroll_every_step(app, viewer, passes)
    spun = scroll_spun_wheel(app, viewer, NOTCHES_PER_S, wheel_s)
    full_px = big["viewport_px"]
    viewer.resize(760, 600)  # a smaller viewport (fill rate bounds software GL)
    _pump(app, lambda: viewer.views[0].render_view.width() < full_px[0] - 100, 5)
    small = scroll_every_step(app, viewer, 1)
    spun_small = scroll_spun_wheel(app, viewer, NOTCHES_PER_S, wheel_s)
    viewer.resize(1280, 900)
    _pump(app, lambda: viewer.views[0].render_view.width() > small["viewport_px"][0], 5)
    wl = window_drag_rate(app, viewer, 60 if args.quick else 300)
    ref_first, ref_rate = pydicom_reference(paths, 30 if args.quick else min(len(paths), 200))
    frames = [vp.source.frame(i) for i in range(min(vp.count, 40))]
    values = [f.values for f in frames if f is not None and f.values is not None]
    paths_ms = vtk_paths(values)
    count = vp.count
    viewer.close_study()
    load = os.getloadavg()[0]
    result = {
        "series": name,
        "slices": count,
        "first_pixels_ms_median": statistics.median(firsts),
        "first_pixels_ms_runs": [round(x, 1) for x in firsts],
        "pydicom_first_decode_ms": ref_first,
        "open_to_all_decoded_ms": decoded_ms,
        "every_step": big,
        "every_step_small_viewport": small,
        "spun_wheel": spun,
        "spun_wheel_small_viewport": spun_small,
        # The headline figures: images drawn per second in each viewport.
        "scroll_images_per_s": big["images_per_s"],
        "scroll_images_per_s_small_viewport": small["images_per_s"],
        "pydicom_decode_images_per_s": ref_rate,
        "window_drag_steps_per_s": wl,
        "vtk_ms_per_frame": paths_ms,
        "load_average": load,
    }
    w, h = full_px
    sw, sh = small["viewport_px"]
    print(f"\n== {name}: {count} slices")
    print(
        f"open -> first pixels on screen: {result['first_pixels_ms_median']:.0f} ms (median of "
        f"{runs}; budget < 300) | plain pydicom decode of the first file: {ref_first:.0f} ms"
    )
    print(f"open -> every slice decoded (while the first is shown): {decoded_ms:.0f} ms")
    for label, step, wheel in ((f"{w}x{h}", big, spun), (f"{sw}x{sh}", small, spun_small)):
        print(
            f"scroll in a {label} viewport: every step drawn {step['images_per_s']:.0f} "
            f"images/s (budget >= 60; CPU ms per image: viewer "
            f"{step['cpu_ms_per_image_viewer']:.1f}, X server "
            f"{step['cpu_ms_per_image_xserver']:.1f}) | spun wheel at "
            f"{wheel['notches_per_s']:.0f} notches/s: displayed {wheel['displayed_images_per_s']:.0f}"
            f" images/s, stepped {wheel['stepped_images_per_s']:.0f} images/s"
        )
    print(
        f"plain pydicom decode: {ref_rate:.0f} images/s | ratio drawn on screen / pydicom "
        f"decode: {big['images_per_s'] / ref_rate:.2f}x"
    )
    print(f"  load average during the run: {load:.1f} on {os.cpu_count()} cores")
    print(f"window/level drag: {wl:.0f} redraws/s")
    print(
        "VTK 2-D paths, CPU ms per frame at 800x800 offscreen: "
        + ", ".join(f"{k} {v:.1f}" for k, v in paths_ms.items())
    )
    return result


def print_summary(results: list[dict]) -> None:
    """One line per series with the figures the README quotes."""
    print("\n== summary (images/s on screen; spun wheel: displayed / stepped)")
    for r in results:
        big, small = r["every_step"], r["every_step_small_viewport"]
        spun, spun_small = r["spun_wheel"], r["spun_wheel_small_viewport"]
        print(
            f"{r['series']}: open -> first pixels {r['first_pixels_ms_median']:.0f} ms | "
            f"{big['viewport_px'][0]}x{big['viewport_px'][1]}: every step "
            f"{big['images_per_s']:.0f}, spun wheel {spun['displayed_images_per_s']:.0f} / "
            f"{spun['stepped_images_per_s']:.0f} | {small['viewport_px'][0]}x"
            f"{small['viewport_px'][1]}: every step {small['images_per_s']:.0f}, spun wheel "
            f"{spun_small['displayed_images_per_s']:.0f} / "
            f"{spun_small['stepped_images_per_s']:.0f} | plain pydicom decode "
            f"{r['pydicom_decode_images_per_s']:.0f} images/s | load {r['load_average']:.1f}"
        )


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
    print_summary(results)
    viewer.close()
    viewer.close()
    imaging_source.shutdown()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
