"""DICOMweb client: QIDO-RS search, WADO-RS retrieve into the archive, STOW-RS upload.

Built on ``dicomweb_client.DICOMwebClient`` (URL building, Accept negotiation, STOW
encoding), with three changes of our own:

- every request carries ``Authorization: Bearer`` from a :class:`TokenProvider`; a 401
  or 403 tells the provider and the request is sent once more with its new token;
- QIDO query strings are built by :mod:`workstation.pacs_node.dicomweb.qido` (Orthanc
  DICOMweb 1.7 does not percent-decode values);
- multipart answers are read by :mod:`workstation.pacs_node.dicomweb.multipart`, which
  caps every part before buffering it.

Errors become :mod:`workstation.pacs_node.dicomweb.errors` exceptions at this boundary;
per-instance outcomes are values in a :class:`TransferResult`.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlsplit

import requests
from dicomweb_client.api import DICOMwebClient
from dicomweb_client.web import _Transaction
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from workstation.i18n import _
from workstation.pacs_node.dicomweb import link_errors, qido
from workstation.pacs_node.dicomweb.errors import (
    DicomWebError,
    NotAuthorized,
    ResponseTooLarge,
    ServerUnreachable,
    TruncatedResponse,
)
from workstation.pacs_node.dicomweb.multipart import boundary_of, iter_parts
from workstation.pacs_node.dicomweb.stow import parse_stow_response
from workstation.pacs_node.dicomweb.tokens import StaticTokenProvider, TokenProvider
from workstation.pacs_node.remote import (
    CancelToken,
    InstanceOutcome,
    Matches,
    Outcome,
    ProgressCallback,
    ProgressTracker,
    QueryLevel,
    TransferResult,
)

if TYPE_CHECKING:
    from workstation.pacs_node.archive.archive import Archive
    from workstation.pacs_node.archive.results import StoreResult

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Transport failures of requests that mean "the link failed; retry later".
_LINK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)

#: Return keys asked for per level (QIDO returns its defaults plus these).
INCLUDE_FIELDS: dict[QueryLevel, tuple[str, ...]] = {
    QueryLevel.STUDY: ("StudyDescription", "ModalitiesInStudy", "NumberOfStudyRelatedSeries",
                       "NumberOfStudyRelatedInstances", "PatientBirthDate", "PatientSex",
                       "InstitutionName"),
    QueryLevel.SERIES: ("SeriesDescription", "BodyPartExamined", "SeriesDate",
                        "NumberOfSeriesRelatedInstances"),
    QueryLevel.IMAGE: ("InstanceNumber", "NumberOfFrames", "Rows", "Columns"),
}  # fmt: skip

#: Ask for instances as stored: no transcoding on the server.
ACCEPT_AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*'
#: A WADO-RS retrieve keeps this many instances (and bytes) written but not yet
#: committed, so that they share group commits; it waits for the oldest beyond that.
RETRIEVE_WINDOW = 64
RETRIEVE_WINDOW_BYTES = 256 * 1024**2


class BearerAuth(requests.auth.AuthBase):
    """Adds the provider's token; on 401/403 tells the provider and retries once.

    403 counts too: Orthanc's token filter can only answer 403, also for an expired
    token.  The retry happens only when the provider hands out a different token.
    """

    def __init__(self, tokens: TokenProvider) -> None:
        self.tokens = tokens

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = self.tokens.access_token()
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
            request.register_hook("response", self._on_response)
        return request

    def _on_response(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        request = response.request
        if response.status_code not in (401, 403) or getattr(request, "_klinika_retried", False):
            return response
        sent = str(request.headers.get("Authorization", "")).removeprefix("Bearer ")
        self.tokens.token_rejected(sent)
        token = self.tokens.access_token()
        if not token or token == sent or not _replayable(request):
            return response
        response.content  # noqa: B018 - drain so the connection can be reused
        response.close()
        retry = request.copy()
        retry.headers["Authorization"] = f"Bearer {token}"
        retry._klinika_retried = True  # type: ignore[attr-defined]
        new = response.connection.send(retry, **kwargs)
        new.history.append(response)
        new.request = retry
        return new  # type: ignore[no-any-return]


def _replayable(request: requests.PreparedRequest) -> bool:
    return request.body is None or isinstance(request.body, bytes | str)


class _CappedClient(DICOMwebClient):
    """dicomweb-client with our capped multipart reader."""

    max_part_bytes: int = 2 * 1024**3

    def _decode_multipart_message(  # type: ignore[override]
        self, response: requests.Response, stream: bool
    ) -> Iterator[bytes]:
        boundary = boundary_of(response.headers.get("content-type", ""))
        with response:
            chunks = response.iter_content(chunk_size=1024 * 1024)
            if boundary is None:
                yield _read_capped(chunks, self.max_part_bytes)
                return
            yield from (
                part for part in iter_parts(chunks, boundary, max_part_bytes=self.max_part_bytes)
                if part
            )  # fmt: skip

    def iter_raw_instances(
        self, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None
    ) -> Iterator[bytes]:
        """Each instance of a study, a series or one instance as the server stores it
        (Part-10 bytes), part by part as the response streams in, each part capped."""
        if sop_uid:
            url = self._get_instances_url(_Transaction.RETRIEVE, study_uid, series_uid, sop_uid)
        elif series_uid:
            url = self._get_series_url(_Transaction.RETRIEVE, study_uid, series_uid)
        else:
            url = self._get_studies_url(_Transaction.RETRIEVE, study_uid)
        response = self._http_get(url, headers={"Accept": ACCEPT_AS_STORED}, stream=True)
        yield from self._decode_multipart_message(response, stream=True)


def _read_capped(chunks: Iterable[bytes], cap: int) -> bytes:
    buf = bytearray()
    for chunk in chunks:
        buf += chunk
        if len(buf) > cap:
            raise ResponseTooLarge(_("The server's answer exceeds {n} bytes.").format(n=cap))
    return bytes(buf)


class DicomWebNode:
    """A DICOMweb server (see the module docstring); implements ``RemoteNode``."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenProvider | None = None,
        *,
        archive: Archive | None = None,
        name: str = "dicomweb",
        verify: bool | str = True,
        timeout_s: float = 30.0,
        max_instance_bytes: int = 2 * 1024**3,
        max_json_bytes: int = 64 * 1024**2,
        max_results: int = 5000,
        stow_batch_instances: int = 50,
        stow_batch_bytes: int = 64 * 1024**2,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.archive = archive
        self.timeout_s = timeout_s
        self.max_json_bytes = max_json_bytes
        self.max_results = max(1, max_results)
        self.stow_batch_instances = max(1, stow_batch_instances)
        self.stow_batch_bytes = stow_batch_bytes
        self.session = requests.Session()
        self.tokens = tokens or StaticTokenProvider()
        self.session.auth = BearerAuth(self.tokens)
        self.session.verify = verify
        self.client = _CappedClient(self.base_url, session=self.session, timeout=timeout_s)
        self.client.max_part_bytes = max_instance_bytes
        # Larger than any batch: Orthanc 1.10 answers chunked uploads poorly, and our
        # batches are capped anyway.
        self.client.set_chunk_size(max(stow_batch_bytes * 2, 1024**2))
        self.client.set_http_retry_params(retry=False)

    def close(self) -> None:
        self.session.close()

    # -- QIDO-RS -----------------------------------------------------------------------
    def find(
        self,
        level: QueryLevel,
        filters: Mapping[str, str],
        *,
        limit: int | None = None,
        cancel: CancelToken | None = None,
        offset: int = 0,
    ) -> Matches:
        """QIDO-RS search; results are data sets filtered exactly as asked.

        Without ``limit`` at most ``max_results`` matches are kept (one more is asked
        for, to tell the caller the answer was ``truncated``).
        """
        level = QueryLevel(level)
        filters = dict(filters)
        path = self._qido_path(level, filters)
        cap = limit if limit is not None else self.max_results
        ask = cap if limit is not None else cap + 1
        query, recheck = qido.build_query(
            filters, include=INCLUDE_FIELDS.get(level, ()), limit=ask, offset=offset
        )
        url = f"{self.base_url}/{path}" + (f"?{query}" if query else "")
        payload = self._call(lambda: self._get_json(url))
        out = Matches(cap=cap)
        # The server may ignore ``limit``: never decode more than we keep.
        for item in payload[:ask]:
            ds = Dataset.from_json(item)
            if qido.matches(ds, recheck):
                out.append(ds)
        if len(payload) > cap:
            out.truncated = limit is None
            del out[cap:]
        return out

    @staticmethod
    def _qido_path(level: QueryLevel, filters: dict[str, str]) -> str:
        if level is QueryLevel.STUDY:
            return "studies"
        study = filters.pop("StudyInstanceUID", "")
        if level is QueryLevel.SERIES:
            return f"studies/{_uid(study)}/series" if study else "series"
        series = filters.pop("SeriesInstanceUID", "")
        if level is QueryLevel.IMAGE and study and series:
            return f"studies/{_uid(study)}/series/{_uid(series)}/instances"
        if study:
            filters["StudyInstanceUID"] = study
        if series:
            filters["SeriesInstanceUID"] = series
        if level is QueryLevel.IMAGE:
            return "instances"
        raise ValueError(f"QIDO-RS has no {level} level")

    def _get_json(self, url: str) -> list[dict[str, Any]]:
        headers = {"Accept": "application/dicom+json, application/json"}
        with self.session.get(url, headers=headers, stream=True, timeout=self.timeout_s) as rsp:
            rsp.raise_for_status()
            body = _read_capped(rsp.iter_content(64 * 1024), self.max_json_bytes)
        if not body.strip():
            return []
        import json

        data = json.loads(body)
        return [data] if isinstance(data, dict) else list(data)

    # -- WADO-RS -----------------------------------------------------------------------
    def metadata(
        self, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None
    ) -> list[Dataset]:
        """WADO-RS metadata (bulk data left as URIs)."""

        def _fetch() -> list[dict[str, Any]]:
            if sop_uid and series_uid:
                return [self.client.retrieve_instance_metadata(study_uid, series_uid, sop_uid)]
            if series_uid:
                return self.client.retrieve_series_metadata(study_uid, series_uid)
            return self.client.retrieve_study_metadata(study_uid)

        return [
            Dataset.from_json(item, bulk_data_uri_handler=_leave_bulk_data)
            for item in self._call(_fetch)
        ]

    def frames(
        self, study_uid: str, series_uid: str, sop_uid: str, numbers: Iterable[int]
    ) -> list[bytes]:
        """Uncompressed frames (1-based numbers) as raw little-endian pixel bytes."""
        media = (("application/octet-stream", "1.2.840.10008.1.2.1"),)
        return self._call(
            lambda: list(
                self.client.iter_instance_frames(
                    study_uid, series_uid, sop_uid, list(numbers), media_types=media
                )
            )
        )

    def retrieve(
        self,
        study_uid: str,
        series_uid: str | None = None,
        sop_uids: Iterable[str] | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        total: int | None = None,
    ) -> TransferResult:
        """WADO-RS into the local archive, instance by instance as they stream in.

        Each part is stored as sent (no decode, no re-encode) and the parts share group
        commits (see :data:`RETRIEVE_WINDOW`); a part the archive refuses is reported
        with its reason (and kept in quarantine when it looks like DICOM) and the rest
        go on.  Every instance reported is durable on return, also when the stream
        breaks off.
        """
        if self.archive is None:
            raise ValueError("retrieve needs an archive to store into")
        uids = list(sop_uids or ())
        if uids and not series_uid:
            raise ValueError(_("Instances can only be retrieved within a series."))
        tracker = ProgressTracker(progress, total=len(uids) or total)
        result = TransferResult()
        try:
            self._store_parts(self._parts(study_uid, series_uid, uids), result, tracker, cancel)
        except DicomWebError as exc:
            result.error = str(exc)
        return tracker.finish(result)

    def _parts(self, study_uid: str, series_uid: str | None, uids: list[str]) -> Iterator[bytes]:
        """The instances asked for, as stored: one stream for a study or series, one
        request per instance when instances are named."""
        named: list[str | None] = list(uids) or [None]
        for uid in named:
            yield from self._open(
                partial(self.client.iter_raw_instances, study_uid, series_uid, uid)
            )

    def _store_parts(
        self,
        parts: Iterator[bytes],
        result: TransferResult,
        tracker: ProgressTracker,
        cancel: CancelToken | None,
    ) -> None:
        """Submit each part to the archive; settle (count, or wait for) the oldest ones
        once durable or while more than the window are in flight, and all of them before
        returning."""
        assert self.archive is not None
        window: deque[tuple[Future[StoreResult], int]] = deque()
        in_flight = 0
        try:
            for part in parts:
                if cancel is not None and cancel.cancelled:
                    result.cancelled = True
                    break
                window.append((self._submit(part), len(part)))
                in_flight += len(part)
                # Count what is durable already (progress moves as instances land), and
                # wait for the oldest while too many are in flight.
                while window and (
                    window[0][0].done()
                    or len(window) > RETRIEVE_WINDOW
                    or in_flight > RETRIEVE_WINDOW_BYTES
                ):
                    in_flight -= self._settle(*window.popleft(), result, tracker)
        finally:
            while window:
                self._settle(*window.popleft(), result, tracker)

    def _submit(self, part: bytes) -> Future[StoreResult]:
        assert self.archive is not None
        try:
            return self.archive.submit_bytes(part, source="wado-rs", origin=f"WADO-RS {self.name}")
        except Exception as exc:  # noqa: BLE001 - reported as this instance's failure
            failed: Future[StoreResult] = Future()
            failed.set_exception(exc)
            return failed

    @staticmethod
    def _settle(
        future: Future[StoreResult], nbytes: int, result: TransferResult, tracker: ProgressTracker
    ) -> int:
        from workstation.pacs_node.dimse.receive import outcome_of

        try:
            outcome = outcome_of(future.result())
        except Exception as exc:  # the archive reports values; this is a last resort
            logger.error("Storing a WADO-RS instance failed (%s)", type(exc).__name__)
            logger.debug("Storing a WADO-RS instance failed", exc_info=True)
            outcome = InstanceOutcome("", Outcome.FAILED, str(exc))
        result.add(outcome)
        tracker.step(ok=outcome.ok, nbytes=nbytes)
        return nbytes

    def _open(self, open_stream: Callable[[], Iterator[T]]) -> _IterGuard[T]:
        return self._call(lambda: _IterGuard(open_stream(), self._unreachable, self._http_failure))

    # -- STOW-RS -----------------------------------------------------------------------
    def send(
        self,
        files: Iterable[Path],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> TransferResult:
        """STOW-RS in batches; each instance's outcome is the server's answer for it."""
        paths = list(files)
        tracker = ProgressTracker(progress, total=len(paths))
        result = TransferResult()
        for batch in _batches(paths, self.stow_batch_instances, self.stow_batch_bytes):
            if cancel is not None and cancel.cancelled:
                result.cancelled = True
                break
            outcomes, nbytes = self._send_batch(batch, result)
            for outcome in outcomes:
                result.add(outcome)
                tracker.step(ok=outcome.ok)
            tracker.bytes_done += nbytes
            if result.error:
                for path in paths[paths.index(batch[-1]) + 1 :]:
                    result.add(InstanceOutcome(str(path), Outcome.FAILED, result.error))
                break
        return tracker.finish(result)

    def _send_batch(
        self, batch: list[Path], result: TransferResult
    ) -> tuple[list[InstanceOutcome], int]:
        datasets, outcomes, nbytes = [], [], 0
        for path in batch:
            try:
                ds = dcmread(path)
                datasets.append(ds)
                nbytes += path.stat().st_size
            except (OSError, InvalidDicomError, ValueError) as exc:
                reason = _("Not a DICOM file we can send: {error}").format(error=exc)
                outcomes.append(InstanceOutcome(str(path), Outcome.FAILED, reason))
        if not datasets:
            return outcomes, 0
        sent = [str(ds.SOPInstanceUID) for ds in datasets]
        try:
            response = self._call(lambda: self.client.store_instances(datasets))
        except DicomWebError as exc:
            body = getattr(exc, "stow_response", None)
            if body is None:
                result.error = str(exc)
                return outcomes + [InstanceOutcome(u, Outcome.FAILED, str(exc)) for u in sent], 0
            response = body
        return outcomes + parse_stow_response(response, sent), nbytes

    # -- errors ------------------------------------------------------------------------
    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except requests.HTTPError as exc:
            raise self._http_failure(exc) from exc
        except _LINK_ERRORS as exc:
            raise self._unreachable(exc) from exc
        except requests.RequestException as exc:
            raise DicomWebError(str(exc)) from exc

    def _http_failure(self, exc: requests.HTTPError) -> DicomWebError:
        """An HTTP error; a refusal while the login cannot be renewed says why."""
        err = _http_error(exc)
        renewal = getattr(self.tokens, "renewal_problem", None)
        why = renewal() if isinstance(err, NotAuthorized) and callable(renewal) else ""
        if not why:
            return err
        refused = NotAuthorized(
            _(
                "The central archive refused access (HTTP {code}) because your login "
                "could not be renewed: {why}"
            ).format(code=err.http_status, why=why),
            http_status=err.http_status,
        )
        if hasattr(err, "stow_response"):
            refused.stow_response = err.stow_response  # type: ignore[attr-defined]
        return refused

    def _unreachable(self, exc: Exception) -> ServerUnreachable:
        """The link failed (DNS, refused, no answer in time, broke off): retry later."""
        host = urlsplit(self.base_url).hostname or self.base_url
        why = link_errors.describe(exc, host=host, timeout_s=self.timeout_s)
        return ServerUnreachable(
            _("The central archive cannot be reached: {error}").format(error=why)
        )


class _IterGuard(Generic[T]):
    """Iterate a dicomweb-client generator, translating transport errors as they occur."""

    def __init__(
        self,
        it: Iterator[T],
        unreachable: Callable[[Exception], DicomWebError],
        http_failure: Callable[[requests.HTTPError], DicomWebError],
    ) -> None:
        self._it = it
        self._unreachable = unreachable
        self._http_failure = http_failure

    def __iter__(self) -> _IterGuard[T]:
        return self

    def __next__(self) -> T:
        try:
            return next(self._it)
        except requests.HTTPError as exc:
            raise self._http_failure(exc) from exc
        except (*_LINK_ERRORS, TruncatedResponse) as exc:
            # Mid-stream: the server went away (killed, frozen past the timeout, reset).
            raise self._unreachable(exc) from exc
        except (InvalidDicomError, ValueError) as exc:
            if isinstance(exc, DicomWebError):
                raise
            raise DicomWebError(
                _("The server sent an instance we cannot read: {error}").format(error=exc)
            ) from exc


def _http_error(exc: requests.HTTPError) -> DicomWebError:
    rsp = exc.response
    code = rsp.status_code if rsp is not None else None
    if code in (401, 403):
        err: DicomWebError = NotAuthorized(
            _(
                "The central archive refused access (HTTP {code}); log in again or ask for the permission."
            ).format(code=code),
            http_status=code,
        )
    elif code == 404:
        err = DicomWebError(_("Not found on the central archive (HTTP 404)."), http_status=code)
    elif code is not None and code >= 500:
        err = ServerUnreachable(
            _("The central archive failed (HTTP {code}); retry later.").format(code=code),
            http_status=code,
        )
    else:
        err = DicomWebError(
            _("The central archive answered HTTP {code}.").format(code=code), http_status=code
        )
    stow = _stow_body(rsp)
    if stow is not None:
        err.stow_response = stow  # type: ignore[attr-defined]
    return err


def _stow_body(rsp: requests.Response | None) -> Dataset | None:
    if rsp is None or rsp.status_code not in (400, 409, 202):
        return None
    ctype = rsp.headers.get("Content-Type", "")
    if "json" not in ctype:
        return None
    try:
        data = rsp.json()
        return Dataset.from_json(data[0] if isinstance(data, list) and data else data)
    except (ValueError, TypeError, KeyError):
        return None


def _leave_bulk_data(_tag: str, _vr: str, _uri: str) -> None:
    """Metadata only: bulk data (pixels) stays on the server; fetch frames for it."""


def _uid(value: str) -> str:
    """A UID fit for a URL path segment (UIDs are digits and dots)."""
    if not value or not all(c.isdigit() or c == "." for c in value) or len(value) > 64:
        raise ValueError(_("Not a valid UID: {uid!r}").format(uid=value[:80]))
    return value


def _batches(paths: list[Path], max_count: int, max_bytes: int) -> Iterator[list[Path]]:
    batch: list[Path] = []
    size = 0
    for path in paths:
        try:
            n = path.stat().st_size
        except OSError:
            n = 0
        if batch and (len(batch) >= max_count or size + n > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(path)
        size += n
    if batch:
        yield batch


__all__ = ["BearerAuth", "DicomWebNode"]
