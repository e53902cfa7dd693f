"""Viewer loading benchmark: our SeriesLoader against plain pydicom, same files, same run.

Series:
  * a synthetic uncompressed CT (500 slices of 512x512, written to a temp directory);
  * the 255-slice JPEG Lossless chest CT of the shared test data (when present).

For each: open -> first pixels decoded, open -> every slice decoded, peak memory of the
process while loading (resident-set high-water mark above the baseline) against the
series' int16 pixel bytes, and the same for plain pydicom (``dcmread(p).pixel_array``
in a loop, arrays kept). The decode pool is started (and warm) before "open", as it is
in the running application. Figures, not pass/fail: printed with the pydicom ratio.

    .venv/bin/python benchmarks/viewer_bench.py            # full
    .venv/bin/python benchmarks/viewer_bench.py --quick    # small, seconds (used by a test)

The viewer helper adds on-screen figures (first pixels on screen, scroll rate).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_FIRST_S = 0.300
TARGET_ALL_S = 2.0
TARGET_MEMORY_RATIO = 1.2


@dataclass
class Figures:
    series: str
    slices: int
    int16_mb: float
    first_s: float
    all_s: float
    peak_mb: float
    cache_peak_mb: float
    pydicom_first_s: float
    pydicom_all_s: float
    pydicom_peak_mb: float
    volume_s: float | None = None
    volume_extra_mb: float | None = None

    @property
    def memory_ratio(self) -> float:
        return self.peak_mb / self.int16_mb

    @property
    def pydicom_memory_ratio(self) -> float:
        return self.pydicom_peak_mb / self.int16_mb


# ----- memory -----------------------------------------------------------------------
def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak() -> int:
    """Reset the resident high-water mark (Linux) and return the current RSS in bytes."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    return _status_kb("VmRSS") * 1024


def peak_since(baseline: int) -> float:
    return max(0, _status_kb("VmHWM") * 1024 - baseline) / 1e6


# ----- data -------------------------------------------------------------------------
def synthetic_ct(directory: Path, slices: int, size: int) -> list[Path]:
    """`slices` uncompressed CT slices (uint16, 12 bits stored, intercept -1024)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    directory.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:size, 0:size]
    body = ((xx - size / 2) ** 2 + (yy - size / 2) ** 2 < (0.45 * size) ** 2).astype(np.int32)
    series, study, frame_of_ref = generate_uid(), generate_uid(), generate_uid()
    paths = []
    for k in range(slices):
        hu = body * (40 + (xx * 7 + yy * 3 + k) % 200) - (1 - body) * 1000
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = (
            study,
            series,
            frame_of_ref,
        )
        ds.Modality, ds.InstanceNumber = "CT", k + 1
        ds.ImagePositionPatient = [-125.0, -125.0, -300.0 + 1.25 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.5, 0.5]
        ds.SliceThickness = 1.25
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
        ds.WindowCenter, ds.WindowWidth = 40, 400
        ds.set_pixel_data((hu + 1024).astype(np.uint16), "MONOCHROME2", 12)
        path = directory / f"ct{k:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def testdata_ct(quick: bool) -> list[Path] | None:
    root = Path(os.environ.get("KLINIKA_TESTDATA", ROOT.parent / "shared" / "testdata"))
    folder = root / "series" / "ct-chest-ricord-255sl-jpegll"
    if not folder.is_dir():
        return None
    paths = sorted(folder.glob("*.dcm"))
    return paths[:30] if quick else paths


def warm_page_cache(paths: list[Path]) -> None:
    for p in paths:
        with open(p, "rb") as fh:
            while fh.read(1 << 20):
                pass


# ----- measurements -----------------------------------------------------------------
def measure_loader(
    name: str, paths: list[Path], pool: object, *, volume: bool
) -> dict[str, float | None]:
    from workstation.imaging.cache import FrameCache
    from workstation.imaging.frame import FrameRef
    from workstation.imaging.loader import SeriesLoader
    from workstation.imaging.volume import Volume

    cache = FrameCache(budget_bytes=4 * 1024**3)
    first = threading.Event()
    stamps: dict[str, float] = {}

    def on_frame(index: int, _result: object) -> None:
        if index == 0 and not first.is_set():
            stamps["first"] = time.perf_counter()
            first.set()

    baseline = reset_peak()
    t0 = time.perf_counter()
    loader = SeriesLoader([FrameRef.of(p) for p in paths], pool, cache, on_frame=on_frame)  # type: ignore[arg-type]
    loader.start()
    if not loader.wait(600):
        raise RuntimeError(f"{name}: loading did not finish")
    t_all = time.perf_counter() - t0
    peak = peak_since(baseline)
    out: dict[str, float | None] = {
        "first_s": stamps["first"] - t0,
        "all_s": t_all,
        "peak_mb": peak,
        "cache_peak_mb": cache.peak_bytes / 1e6,
        "volume_s": None,
        "volume_extra_mb": None,
    }
    if volume:
        before = _status_kb("VmRSS") * 1024
        t1 = time.perf_counter()
        vol = loader.assemble_volume(timeout=600)
        out["volume_s"] = time.perf_counter() - t1
        gc.collect()
        out["volume_extra_mb"] = (_status_kb("VmRSS") * 1024 - before) / 1e6
        if not isinstance(vol, Volume):
            raise RuntimeError(f"{name}: no volume: {vol}")
        del vol
    loader.cancel()
    del loader, cache
    gc.collect()
    return out


def measure_pydicom(paths: list[Path]) -> dict[str, float]:
    import pydicom

    baseline = reset_peak()
    t0 = time.perf_counter()
    arrays = []
    first = None
    for p in paths:
        arrays.append(pydicom.dcmread(p).pixel_array)
        if first is None:
            first = time.perf_counter() - t0
    total = time.perf_counter() - t0
    peak = peak_since(baseline)
    del arrays
    gc.collect()
    return {"pydicom_first_s": float(first or 0.0), "pydicom_all_s": total, "pydicom_peak_mb": peak}


def run_case(name: str, paths: list[Path], pool: object, rows: int, cols: int) -> Figures:
    warm_page_cache(paths)
    ref = measure_pydicom(paths)
    ours = measure_loader(name, paths, pool, volume=True)
    int16_mb = len(paths) * rows * cols * 2 / 1e6
    return Figures(name, len(paths), int16_mb, **ours, **ref)  # type: ignore[arg-type]


def report(fig: Figures) -> None:
    def ok(flag: bool) -> str:
        return "ok" if flag else "OVER"

    print(f"\n{fig.series}: {fig.slices} slices, {fig.int16_mb:.0f} MB as int16")
    print(f"  {'':32s} {'ours':>10s} {'pydicom':>10s} {'pydicom/ours':>13s}")
    print(
        f"  {'open -> first pixels decoded':32s} {fig.first_s * 1000:8.0f}ms {fig.pydicom_first_s * 1000:8.0f}ms "
        f"{fig.pydicom_first_s / fig.first_s:12.1f}x   target <{TARGET_FIRST_S * 1000:.0f} ms: {ok(fig.first_s < TARGET_FIRST_S)}"
    )
    print(
        f"  {'open -> every slice decoded':32s} {fig.all_s:9.2f}s {fig.pydicom_all_s:9.2f}s "
        f"{fig.pydicom_all_s / fig.all_s:12.1f}x   target <{TARGET_ALL_S:.0f} s (500 uncompressed): "
        f"{ok(fig.all_s < TARGET_ALL_S)}"
    )
    print(
        f"  {'peak memory / int16 bytes':32s} {fig.memory_ratio:9.2f}x {fig.pydicom_memory_ratio:9.2f}x "
        f"{'':13s}   target <={TARGET_MEMORY_RATIO}x: {ok(fig.memory_ratio <= TARGET_MEMORY_RATIO)}"
    )
    print(f"  {'cache peak (MB)':32s} {fig.cache_peak_mb:9.0f}")
    if fig.volume_s is not None:
        print(
            f"  {'volume from the cache':32s} {fig.volume_s:9.2f}s, resident memory change "
            f"{fig.volume_extra_mb:+.0f} MB (held once)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small series, a few seconds")
    parser.add_argument(
        "--processes", type=int, default=None, help="decode worker processes (default: CPUs)"
    )
    parser.add_argument(
        "--slices", type=int, default=None, help="synthetic series length (default 500)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    from workstation.imaging.pool import DecodePool

    slices = args.slices or (40 if args.quick else 500)
    size = 256 if args.quick else 512
    workdir = Path(tempfile.mkdtemp(prefix="viewer-bench-"))
    results = []
    try:
        t = time.perf_counter()
        synthetic = synthetic_ct(workdir / "ct", slices, size)
        print(f"wrote {slices} synthetic slices in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        t = time.perf_counter()
        with DecodePool(args.processes) as pool:
            pool.wait_ready(120)
            print(
                f"decode pool ({pool.processes} workers) ready in {time.perf_counter() - t:.2f}s",
                file=sys.stderr,
            )
            results.append(
                run_case(f"synthetic uncompressed CT {size}x{size}", synthetic, pool, size, size)
            )
            jpeg = testdata_ct(args.quick)
            if jpeg is None:
                print("shared test data absent: JPEG Lossless CT skipped", file=sys.stderr)
            else:
                results.append(
                    run_case("chest CT, JPEG Lossless (shared test data)", jpeg, pool, 512, 512)
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps([asdict(r) | {"memory_ratio": r.memory_ratio} for r in results], indent=2))
    else:
        print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
        for fig in results:
            report(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
