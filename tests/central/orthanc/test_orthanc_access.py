"""The role x endpoint matrix against the real central Orthanc (PostgreSQL index, token filter).

Every endpoint is called with each role's token and without one: allowed calls must
succeed (2xx), denied ones must be answered 403 by the filter and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.central.orthanc.samples import ct_image, multipart_related, pdf_report

pytestmark = [pytest.mark.orthanc, pytest.mark.postgres, pytest.mark.network]

ROLES = ("admin", "doctor", "operator", None)


@dataclass(frozen=True)
class Seed:
    study_uid: str
    series_uid: str
    sop_uid: str
    patient_id: str
    study_id: str
    series_id: str
    instance_id: str


@pytest.fixture(scope="module")
def seed(orthanc) -> Seed:  # type: ignore[no-untyped-def]
    ct = ct_image()
    r = requests.post(
        f"{orthanc.http_url}/instances", data=ct.data, headers=orthanc.headers("admin"), timeout=30
    )
    r.raise_for_status()
    answer = r.json()
    return Seed(
        ct.study_uid,
        ct.series_uid,
        ct.sop_uid,
        ct.patient_id,
        answer["ParentStudy"],
        answer["ParentSeries"],
        answer["ID"],
    )


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: Callable[[Seed], str]
    allowed: frozenset[str]
    kwargs: Callable[[Seed], dict[str, Any]] = lambda _s: {}


READERS = frozenset({"admin", "doctor", "operator"})
UPLOADERS = frozenset({"admin", "operator"})
REPORTERS = frozenset({"admin", "doctor"})
ADMIN = frozenset({"admin"})
MULTIPART_DICOM = {"Accept": 'multipart/related; type="application/dicom"'}


def _stow_image(_s: Seed) -> dict[str, Any]:
    body, ctype = multipart_related([ct_image().data])
    return {"data": body, "headers": {"Content-Type": ctype, "Accept": "application/dicom+json"}}


def _stow_report(s: Seed) -> dict[str, Any]:
    body, ctype = multipart_related([pdf_report(s.study_uid, s.patient_id).data])
    return {"data": body, "headers": {"Content-Type": ctype, "Accept": "application/dicom+json"}}


CALLS = [
    # REST reads
    Call("list patients", "GET", lambda s: "/patients", READERS),
    Call("study", "GET", lambda s: f"/studies/{s.study_id}", READERS),
    Call("series", "GET", lambda s: f"/series/{s.series_id}", READERS),
    Call("instance tags", "GET", lambda s: f"/instances/{s.instance_id}/tags", READERS),
    Call("instance file", "GET", lambda s: f"/instances/{s.instance_id}/file", READERS),
    Call("study zip", "GET", lambda s: f"/studies/{s.study_id}/archive", READERS),
    Call(
        "find",
        "POST",
        lambda s: "/tools/find",
        READERS,
        lambda s: {"json": {"Level": "Study", "Query": {"StudyInstanceUID": s.study_uid}}},
    ),
    Call("system", "GET", lambda s: "/system", READERS),
    # DICOMweb
    Call("QIDO studies", "GET", lambda s: "/dicom-web/studies", READERS),
    Call(
        "QIDO instances",
        "GET",
        lambda s: f"/dicom-web/studies/{s.study_uid}/series/{s.series_uid}/instances",
        READERS,
    ),
    Call(
        "WADO-RS instance",
        "GET",
        lambda s: f"/dicom-web/studies/{s.study_uid}/series/{s.series_uid}/instances/{s.sop_uid}",
        READERS,
        lambda s: {"headers": MULTIPART_DICOM},
    ),
    Call(
        "WADO-RS metadata",
        "GET",
        lambda s: f"/dicom-web/studies/{s.study_uid}/metadata",
        READERS,
    ),
    Call(
        "WADO-URI",
        "GET",
        # Orthanc's WADO-URI does not percent-decode: keep "/" of the content type literal.
        lambda s: (
            f"/wado?requestType=WADO&studyUID={s.study_uid}&seriesUID={s.series_uid}"
            f"&objectUID={s.sop_uid}&contentType=application/dicom"
        ),
        READERS,
    ),
    # uploads
    Call(
        "REST upload",
        "POST",
        lambda s: "/instances",
        UPLOADERS,
        lambda s: {"data": ct_image().data},
    ),
    Call("STOW-RS image", "POST", lambda s: "/dicom-web/studies", UPLOADERS, _stow_image),
    Call("report STOW-RS", "POST", lambda s: "/klinika/reports/studies", REPORTERS, _stow_report),
    # administration
    Call("modalities", "GET", lambda s: "/modalities", ADMIN),
    Call("jobs", "GET", lambda s: "/jobs", ADMIN),
    Call("changes", "GET", lambda s: "/changes", ADMIN),
    Call("statistics", "GET", lambda s: "/statistics", ADMIN),
    Call("tools/now", "GET", lambda s: "/tools/now", ADMIN),
    Call("DICOMweb servers", "GET", lambda s: "/dicom-web/servers", ADMIN),
    Call(
        "set metadata",
        "PUT",
        lambda s: f"/instances/{s.instance_id}/metadata/1024",
        ADMIN,
        lambda s: {"data": b"checked"},
    ),
]


def _call(orthanc, call: Call, seed: Seed, role: str | None) -> requests.Response:  # type: ignore[no-untyped-def]
    kwargs = call.kwargs(seed)
    headers = {**kwargs.pop("headers", {}), **orthanc.headers(role)}
    return requests.request(
        call.method, orthanc.http_url + call.path(seed), headers=headers, timeout=30, **kwargs
    )


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.name)
def test_role_endpoint_matrix(orthanc, seed: Seed, call: Call, role: str | None) -> None:  # type: ignore[no-untyped-def]
    r = _call(orthanc, call, seed, role)
    if role in call.allowed:
        assert 200 <= r.status_code < 300, (r.status_code, r.text[:300])
    else:
        assert r.status_code == 403, (r.status_code, r.text[:300])


def _instance_count(orthanc, study_uid: str) -> int:  # type: ignore[no-untyped-def]
    r = requests.post(
        f"{orthanc.http_url}/tools/find",
        json={"Level": "Instance", "Query": {"StudyInstanceUID": study_uid}},
        headers=orthanc.headers("admin"),
        timeout=30,
    )
    r.raise_for_status()
    return len(r.json())


@pytest.mark.parametrize("role", ["doctor", "operator", None], ids=lambda r: r or "anonymous")
def test_denied_uploads_store_nothing(orthanc, role: str | None) -> None:  # type: ignore[no-untyped-def]
    ct = ct_image()
    body, ctype = multipart_related([ct.data])
    attempts = [("/dicom-web/studies", {"Content-Type": ctype}, body)]
    if role != "operator":
        attempts.append(("/instances", {}, ct.data))
    for path, headers, data in attempts:
        r = requests.post(
            orthanc.http_url + path,
            data=data,
            headers={**headers, **orthanc.headers(role)},
            timeout=30,
        )
        if role == "operator":
            assert r.status_code == 200
            continue
        assert r.status_code == 403
    expected = 1 if role == "operator" else 0
    assert _instance_count(orthanc, ct.study_uid) == expected


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_delete_is_for_admins_only(orthanc, role: str | None) -> None:  # type: ignore[no-untyped-def]
    ct = ct_image()
    stored = requests.post(
        f"{orthanc.http_url}/instances", data=ct.data, headers=orthanc.headers("admin"), timeout=30
    ).json()
    for path in (f"/instances/{stored['ID']}", f"/studies/{stored['ParentStudy']}"):
        r = requests.delete(orthanc.http_url + path, headers=orthanc.headers(role), timeout=30)
        assert r.status_code == (200 if role == "admin" else 403)
        if role == "admin":
            break
    assert _instance_count(orthanc, ct.study_uid) == (0 if role == "admin" else 1)


def test_doctor_report_upload_rules(orthanc, seed: Seed) -> None:  # type: ignore[no-untyped-def]
    doctor = orthanc.headers("doctor")
    url = f"{orthanc.reports_url}/studies"
    before = _instance_count(orthanc, seed.study_uid)

    # A report into the existing study, also through the study-scoped URL.
    report = pdf_report(seed.study_uid, seed.patient_id)
    body, ctype = multipart_related([report.data])
    r = requests.post(
        f"{url}/{seed.study_uid}", data=body, headers={"Content-Type": ctype, **doctor}, timeout=30
    )
    assert r.status_code == 200, r.text
    assert r.json()["00081199"]["Value"][0]["00081155"]["Value"] == [report.sop_uid]
    assert _instance_count(orthanc, seed.study_uid) == before + 1

    # An image smuggled in with a report: refused as a whole, nothing stored.
    image = ct_image(study_uid=seed.study_uid, patient_id=seed.patient_id)
    body, ctype = multipart_related([pdf_report(seed.study_uid, seed.patient_id).data, image.data])
    r = requests.post(url, data=body, headers={"Content-Type": ctype, **doctor}, timeout=30)
    assert r.status_code == 403
    assert _instance_count(orthanc, seed.study_uid) == before + 1

    # A report for a study the archive does not hold: not stored (409, failure listed).
    orphan = pdf_report("1.2.826.0.1.3680043.10.999.1")
    body, ctype = multipart_related([orphan.data])
    r = requests.post(url, data=body, headers={"Content-Type": ctype, **doctor}, timeout=30)
    assert r.status_code == 409
    assert _instance_count(orthanc, orphan.study_uid) == 0

    # The right study UID under another Patient ID would make Orthanc create a new
    # patient and study: refused the same way.
    stranger = pdf_report(seed.study_uid, patient_id="SOMEONE-ELSE")
    body, ctype = multipart_related([stranger.data])
    r = requests.post(url, data=body, headers={"Content-Type": ctype, **doctor}, timeout=30)
    assert r.status_code == 409
    assert _instance_count(orthanc, seed.study_uid) == before + 1

    # Not DICOM at all.
    body, ctype = multipart_related([b"%PDF-1.4 not dicom"])
    r = requests.post(url, data=body, headers={"Content-Type": ctype, **doctor}, timeout=30)
    assert r.status_code == 400


def test_dicomweb_client_works_with_a_token(orthanc, seed: Seed) -> None:  # type: ignore[no-untyped-def]
    client = orthanc.dicomweb("operator")
    studies = client.search_for_studies(search_filters={"StudyInstanceUID": seed.study_uid})
    assert [s["0020000D"]["Value"][0] for s in studies] == [seed.study_uid]
    instance = client.retrieve_instance(seed.study_uid, seed.series_uid, seed.sop_uid)
    assert instance.SOPInstanceUID == seed.sop_uid
    anonymous = orthanc.dicomweb(None)
    with pytest.raises(requests.HTTPError) as err:
        anonymous.search_for_studies()
    assert err.value.response.status_code == 403


def test_doctor_publishes_a_report_with_dicomweb_client(orthanc, seed: Seed) -> None:  # type: ignore[no-untyped-def]
    import io

    import pydicom
    from dicomweb_client.api import DICOMwebClient

    report = pdf_report(seed.study_uid, seed.patient_id)
    client = DICOMwebClient(url=orthanc.reports_url, headers=orthanc.headers("doctor"))
    answer = client.store_instances([pydicom.dcmread(io.BytesIO(report.data))])
    assert answer.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == report.sop_uid
    found = orthanc.dicomweb("doctor").search_for_instances(
        seed.study_uid, search_filters={"SOPInstanceUID": report.sop_uid}
    )
    assert len(found) == 1
