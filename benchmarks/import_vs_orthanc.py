"""Import speed: ``workstation import`` vs Orthanc (SQLite index) STOW-RS, same files, same run.

Generates N synthetic CT instances (512x512 int16, Explicit VR Little Endian, ~0.5 MB
each) in a temp dir, then

1. runs ``workstation import DIR`` (a fresh data dir; durable: every file fsynced, every
   index batch committed with SQLite synchronous=FULL);
2. stores the same datasets with ``Archive.store_dataset`` from 4 threads (the C-STORE
   receive path, durable on return);
3. starts Orthanc 1.10 with its default SQLite index (``SyncStorageArea`` on, its
   default) and the DICOMweb plugin in a temp dir on 127.0.0.1, and sends the same files
   by STOW-RS in batches (default 50) from one client.

Prints instances/s of each and the ratios.  Target: import >= 2x Orthanc; store_dataset
>= 150 instances/s.  ``--quick`` uses 120 instances (a test runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"


def generate(folder: Path, n: int) -> list[Path]:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True)
    study, series = generate_uid(), generate_uid()
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[-256:256, -256:256]
    body = ((xx**2 + yy**2) < 200**2).astype(np.int16) * 1040 - 1000
    paths = []
    for i in range(1, n + 1):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = "BENCH^IMPORT", "BENCH1", "19700101"
        ds.StudyDate, ds.StudyTime, ds.Modality = "20240101", "120000", "CT"
        ds.AccessionNumber, ds.StudyID, ds.ReferringPhysicianName = "B1", "1", ""
        ds.SeriesNumber, ds.InstanceNumber = 1, i
        ds.ImagePositionPatient = [-128.0, -128.0, float(i)]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], 1.0
        ds.Rows = ds.Columns = 512
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
        ds.PixelRepresentation, ds.SamplesPerPixel = 1, 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        noise = rng.integers(-20, 20, (512, 512), dtype=np.int16)
        ds.PixelData = (body + noise).astype(np.int16).tobytes()
        path = folder / f"{i:06d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def run_workstation_import(folder: Path, home: Path) -> tuple[float, float, int]:
    env = {**os.environ, "WORKSTATION_HOME": str(home)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "workstation", "import", str(folder), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t0
    summary = json.loads(proc.stdout)
    return wall, summary["elapsed_seconds"], summary["stored"]


def run_store_dataset(paths: list[Path], home: Path, threads: int = 4) -> tuple[float, int]:
    from pydicom import dcmread

    from workstation.config import ensure_home, load_settings
    from workstation.pacs_node.archive import Archive, StoreStatus

    datasets = [dcmread(p) for p in paths]
    settings = load_settings(home=home, environ={})
    ensure_home(settings)
    archive = Archive.open(settings)
    try:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            results = list(
                pool.map(lambda ds: archive.store_dataset(ds, source="c-store"), datasets)
            )
        elapsed = time.perf_counter() - t0
    finally:
        archive.close()
    return elapsed, sum(r.status is StoreStatus.STORED for r in results)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Orthanc:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        storage = self.root / "storage"
        storage.mkdir(parents=True)
        config = {
            "Name": "bench",
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "HttpPort": self.port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomServerEnabled": False,
            "Plugins": [DICOMWEB_PLUGIN],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            "HttpThreadsCount": 8,
        }
        cfg = self.root / "orthanc.json"
        cfg.write_text(json.dumps(config))
        log = open(self.root / "orthanc.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen([ORTHANC, str(cfg)], stdout=log, stderr=subprocess.STDOUT)
        import requests

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/system", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("Orthanc did not start; see " + str(self.root / "orthanc.log"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stow(self, paths: list[Path], batch: int) -> float:
        import requests

        session = requests.Session()
        t0 = time.perf_counter()
        for i in range(0, len(paths), batch):
            boundary = uuid.uuid4().hex
            parts = []
            for p in paths[i : i + batch]:
                parts.append(
                    f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
                    + p.read_bytes()
                    + b"\r\n"
                )
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            r = session.post(
                f"{self.url}/dicom-web/studies",
                data=body,
                headers={
                    "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
                    "Accept": "application/dicom+json",
                },
                timeout=600,
            )
            r.raise_for_status()
        return time.perf_counter() - t0

    def count(self) -> int:
        import requests

        return int(requests.get(f"{self.url}/statistics", timeout=10).json()["CountInstances"])

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=2000, help="instances (default 2000)")
    ap.add_argument("--batch", type=int, default=50, help="STOW-RS batch size")
    ap.add_argument("--quick", action="store_true", help="120 instances")
    ap.add_argument("--no-orthanc", action="store_true", help="skip the Orthanc run")
    args = ap.parse_args(argv)
    n = 120 if args.quick else args.n
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        t0 = time.perf_counter()
        paths = generate(work / "in", n)
        print(
            f"generated {n} CT instances 512x512 int16 "
            f"({sum(p.stat().st_size for p in paths) / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s"
        )
        wall, inner, stored = run_workstation_import(work / "in", work / "ws-import")
        assert stored == n, f"workstation import stored {stored} of {n}"
        ws_rate = n / inner
        print(
            f"workstation import      : {ws_rate:7.1f} instances/s "
            f"({inner:.2f} s import, {wall:.2f} s with interpreter start)"
        )
        sd_time, sd_stored = run_store_dataset(paths, work / "ws-store")
        assert sd_stored == n
        sd_rate = n / sd_time
        print(
            f"store_dataset, 4 threads: {sd_rate:7.1f} instances/s (durable on return; target >= 150)"
        )
        if args.no_orthanc or not (Path(ORTHANC).exists() and Path(DICOMWEB_PLUGIN).exists()):
            print("Orthanc not run (missing or --no-orthanc): no ratio")
            return 0
        orthanc = Orthanc(work / "orthanc")
        orthanc.start()
        try:
            o_time = orthanc.stow(paths, args.batch)
            o_count = orthanc.count()
        finally:
            orthanc.stop()
        assert o_count == n, f"Orthanc stored {o_count} of {n}"
        o_rate = n / o_time
        print(f"Orthanc STOW-RS (SQLite): {o_rate:7.1f} instances/s (batches of {args.batch})")
        print(f"ratio import / Orthanc       : {ws_rate / o_rate:5.2f}x (target >= 2x)")
        print(f"ratio store_dataset / Orthanc: {sd_rate / o_rate:5.2f}x")
        print(f"ratio import (incl. start) / Orthanc: {(n / wall) / o_rate:5.2f}x")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
