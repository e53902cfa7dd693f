"""Progressive loading through real worker processes: order, cache, volume, crashes."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import RLELossless

from tests.imaging.synthetic import compressed, ct_series, ct_slice, ramp, save
from workstation.imaging.cache import FrameCache
from workstation.imaging.errors import CannotDisplay
from workstation.imaging.frame import Frame, FrameRef
from workstation.imaging.loader import SeriesLoader
from workstation.imaging.pool import DecodePool
from workstation.imaging.volume import Volume


@pytest.fixture(scope="module")
def pool() -> Iterator[DecodePool]:
    with DecodePool(2, job_timeout_s=20) as p:
        assert p.wait_ready(60)
        yield p


class Recorder:
    def __init__(self) -> None:
        self.order: list[int] = []
        self.results: dict[int, Frame | CannotDisplay] = {}
        self.lock = threading.Lock()

    def __call__(self, index: int, result: Frame | CannotDisplay) -> None:
        with self.lock:
            self.order.append(index)
            self.results[index] = result


def _rle_series(directory: Path, count: int) -> list[Path]:
    directory.mkdir()
    paths = []
    for k in range(count):
        ds = ct_slice(ramp(24, 24, -500, 500, "int16") + k, position=(0, 0, 2.0 * k))
        paths.append(save(compressed(ds, RLELossless), directory / f"{k:03d}.dcm"))
    return paths


@pytest.mark.parametrize("kind", ["native", "rle"])
def test_focus_first_then_nearest(tmp_path: Path, pool: DecodePool, kind: str) -> None:
    paths = ct_series(tmp_path / "s", 30) if kind == "native" else _rle_series(tmp_path / "s", 30)
    record = Recorder()
    finished = threading.Event()
    loader = SeriesLoader(
        [FrameRef.of(p) for p in paths],
        pool,
        FrameCache(),
        focus=20,
        on_frame=record,
        on_finished=finished.set,
    )
    loader.start()
    assert loader.wait(60) and finished.wait(5)
    assert record.order[0] == 20
    assert sorted(record.order) == list(range(30))
    # nearest first: the mean distance of the first third is smaller than of the last third
    distances = [abs(i - 20) for i in record.order]
    assert np.mean(distances[:10]) < np.mean(distances[-10:])
    for k, result in record.results.items():
        assert isinstance(result, Frame)
        expected = (
            ramp(32, 32, -1000, 1000, "int16") + 10 * k
            if kind == "native"
            else ramp(24, 24, -500, 500, "int16") + k
        )
        assert np.array_equal(result.modality_values(), expected)


def test_request_get_and_cached_reopen(tmp_path: Path, pool: DecodePool) -> None:
    paths = ct_series(tmp_path / "s", 12)
    refs = [FrameRef.of(p) for p in paths]
    cache = FrameCache()
    loader = SeriesLoader(refs, pool, cache).start()
    frame = loader.request(7).result(30)
    assert isinstance(frame, Frame) and frame.info.instance_number == 8
    assert loader.wait(30) and loader.decoded == 12
    assert isinstance(loader.get(3), Frame)
    again = Recorder()
    second = SeriesLoader(refs, pool, cache, on_frame=again).start()  # all from the cache
    assert second.wait(1) and sorted(again.order) == list(range(12))


def test_budget_limits_prefetch_to_the_focus_neighbourhood(
    tmp_path: Path, pool: DecodePool
) -> None:
    paths = ct_series(tmp_path / "s", 40)
    frame_bytes = 32 * 32 * 2
    cache = FrameCache(budget_bytes=int(10 * frame_bytes / 0.9) + 1)  # room for 10 frames
    loader = SeriesLoader([FrameRef.of(p) for p in paths], pool, cache, focus=30).start()
    assert loader.wait(30)
    present = [i for i, r in enumerate(loader.results()) if r is not None]
    assert len(present) == 10 and all(abs(i - 30) <= 5 for i in present)
    assert cache.nbytes <= cache.budget_bytes
    loader.set_focus(2)
    assert loader.wait(30)
    present = [i for i, r in enumerate(loader.results()) if r is not None]
    assert set(range(10)) <= set(present)  # the ten nearest to slice 2 came in
    assert cache.nbytes <= cache.budget_bytes  # and old ones made room
    assert isinstance(loader.assemble_volume(), CannotDisplay)


def test_cancel_stops_the_work(tmp_path: Path, pool: DecodePool) -> None:
    paths = _rle_series(tmp_path / "s", 60)
    record = Recorder()
    loader = SeriesLoader(
        [FrameRef.of(p) for p in paths], pool, FrameCache(), on_frame=record
    ).start()
    loader.cancel()
    time.sleep(0.5)
    assert len(record.order) < 60
    assert loader.wait(0)


def test_volume_is_held_once(tmp_path: Path, pool: DecodePool) -> None:
    paths = ct_series(tmp_path / "s", 20, rows=16, cols=16)
    cache = FrameCache()
    refs = [FrameRef.of(p) for p in paths[::-1]]  # display order need not be spatial
    loader = SeriesLoader(refs, pool, cache).start()
    volume = loader.assemble_volume(timeout=30)
    assert isinstance(volume, Volume) and volume.voxels.dtype == np.int16
    assert volume.shape == (20, 16, 16)
    for ref in refs:
        cached = cache.peek(ref)
        assert isinstance(cached, Frame)
        assert np.shares_memory(cached.pixels, volume.voxels)  # the cache holds views, not copies
    k0 = volume.frames.index(cache.peek(refs[0]).info)  # type: ignore[union-attr]
    assert np.array_equal(volume.voxels[k0], cache.peek(refs[0]).pixels)  # type: ignore[union-attr]


def test_broken_frames_are_results_not_errors(tmp_path: Path, pool: DecodePool) -> None:
    paths = ct_series(tmp_path / "s", 5)
    paths[2].write_bytes(paths[2].read_bytes()[:400])
    loader = SeriesLoader([FrameRef.of(p) for p in paths], pool, FrameCache()).start()
    assert loader.wait(30)
    results = loader.results()
    assert isinstance(results[2], CannotDisplay) and results[2].reason
    assert all(isinstance(r, Frame) for i, r in enumerate(results) if i != 2)
    volume = loader.assemble_volume()
    assert isinstance(volume, CannotDisplay) and "Slice 3" in volume.reason


def _hanging_frame(tmp_path: Path) -> Path:
    """A path a worker blocks on forever: opening a FIFO waits for a writer."""
    fifo = tmp_path / "hang.dcm"
    os.mkfifo(fifo)
    return fifo


def test_a_crashed_worker_is_replaced(tmp_path: Path) -> None:
    good = save(ct_slice(ramp(8, 8, 0, 100, "int16"), position=(0, 0, 0)), tmp_path / "good.dcm")
    with DecodePool(1, in_process_lane=False, job_timeout_s=30) as pool:
        assert pool.wait_ready(60)
        hung = pool.submit(FrameRef.of(_hanging_frame(tmp_path)))
        queued = pool.submit(FrameRef.of(good))  # sent to the same worker behind the hung one
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not hung.done():
            time.sleep(0.2)
            if pool.worker_pids:
                os.kill(pool.worker_pids[0], signal.SIGKILL)  # the decoder "crashes" mid-job
                break
        result = hung.result(30)
        assert isinstance(result, CannotDisplay) and "crashed" in result.reason
        assert pool.restarts == 1
        assert isinstance(queued.result(60), Frame)  # the innocent job was decoded after all
        after = pool.submit(FrameRef.of(good)).result(60)  # a fresh worker takes over
        assert isinstance(after, Frame)


def test_a_stuck_worker_times_out_and_is_replaced(tmp_path: Path) -> None:
    good = save(ct_slice(ramp(8, 8, 0, 100, "int16"), position=(0, 0, 0)), tmp_path / "good.dcm")
    with DecodePool(1, in_process_lane=False, job_timeout_s=1.0) as pool:
        assert pool.wait_ready(60)
        result = pool.submit(FrameRef.of(_hanging_frame(tmp_path))).result(30)
        assert isinstance(result, CannotDisplay) and "too long" in result.reason
        assert isinstance(pool.submit(FrameRef.of(good)).result(60), Frame)


def test_in_process_only_pool(tmp_path: Path) -> None:
    paths = ct_series(tmp_path / "s", 4)
    with DecodePool(0) as pool:
        loader = SeriesLoader([FrameRef.of(p) for p in paths], pool, FrameCache()).start()
        assert loader.wait(30) and all(isinstance(r, Frame) for r in loader.results())
