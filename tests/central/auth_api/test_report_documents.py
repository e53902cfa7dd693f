"""The registry's record of published report documents: what it keeps, idempotent
repeats, one holder of a study's final report, and who may amend."""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytestmark = pytest.mark.network


def _uid() -> str:
    return f"2.25.{uuid.uuid4().int}"[:64]


def _doc(study: str, version: int = 1, status: str = "final", **extra: Any) -> dict[str, Any]:
    return {
        "study_instance_uid": study,
        "sop_instance_uid": _uid(),
        "pdf_sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        "version": version,
        "status": status,
        "signer_fingerprint": hashlib.sha256(b"cert" + uuid.uuid4().bytes).hexdigest(),
        **extra,
    }


def _doctor(central) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    user, password = central.new_user("doctor")
    return user["username"], central.login_ok(user["username"], password)["access_token"]


def test_publish_records_every_field_and_a_repeat_changes_nothing(central) -> None:  # type: ignore[no-untyped-def]
    name, token = _doctor(central)
    study = _uid()
    first = _doc(study, title="CT head")
    made = central.post("/reports/documents", token=token, json=first)
    assert made.status_code == 201, made.text
    report = made.json()
    assert report["author"] == name and report["status"] == "final"
    for key in ("study_instance_uid", "sop_instance_uid", "pdf_sha256", "version"):
        assert report[key] == first[key], key
    assert report["signer_fingerprint"] == first["signer_fingerprint"]
    assert report["predecessor_sop_instance_uid"] is None

    again = central.post("/reports/documents", token=token, json=first)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == report["id"] and len(again.json()["revisions"]) == 1

    other_pdf = {**first, "pdf_sha256": hashlib.sha256(b"other").hexdigest()}
    clash = central.post("/reports/documents", token=token, json=other_pdf)
    assert clash.status_code == 409 and clash.json()["error"] == "document_conflict"

    amendment = _doc(study, 2, "amended", predecessor_sop_instance_uid=first["sop_instance_uid"])
    amended = central.post("/reports/documents", token=token, json=amendment)
    assert amended.status_code == 201, amended.text
    body = amended.json()
    assert body["id"] == report["id"] and body["status"] == "amended" and body["version"] == 2
    assert body["predecessor_sop_instance_uid"] == first["sop_instance_uid"]
    revisions = body["revisions"]
    assert [r["sop_instance_uid"] for r in revisions] == [
        first["sop_instance_uid"],
        amendment["sop_instance_uid"],
    ]
    assert revisions[0]["pdf_sha256"] == first["pdf_sha256"]  # both versions on record


def test_one_final_per_study_and_only_author_or_admin_amends(central) -> None:  # type: ignore[no-untyped-def]
    holder, token = _doctor(central)
    study = _uid()
    first = _doc(study)
    assert central.post("/reports/documents", token=token, json=first).status_code == 201

    _colleague, other = _doctor(central)
    second = central.post("/reports/documents", token=other, json=_doc(study))
    assert second.status_code == 409
    assert second.json()["error"] == "final_held" and second.json()["holder"] == holder
    assert holder in second.json()["message"]
    # A preliminary by the colleague is no claim on the final report.
    prelim = central.post("/reports/documents", token=other, json=_doc(study, status="preliminary"))
    assert prelim.status_code == 201, prelim.text

    pred = {"predecessor_sop_instance_uid": first["sop_instance_uid"]}
    refused = central.post(
        "/reports/documents", token=other, json=_doc(study, 2, "amended", **pred)
    )
    assert refused.status_code == 403 and refused.json()["error"] == "not_author"
    operator = central.token_for("operator")
    by_operator = central.post(
        "/reports/documents", token=operator, json=_doc(study, 2, "amended", **pred)
    )
    assert by_operator.status_code == 403
    admin = central.post(
        "/reports/documents", token=central.admin_token(), json=_doc(study, 2, "amended", **pred)
    )
    assert admin.status_code == 201, admin.text

    orphan = _doc(study, 3, "amended", predecessor_sop_instance_uid=_uid())
    unknown = central.post("/reports/documents", token=token, json=orphan)
    assert unknown.status_code == 409 and unknown.json()["error"] == "predecessor_unknown"
    bad = central.post("/reports/documents", token=token, json=_doc(study, status="signed"))
    assert bad.status_code == 400


def test_two_doctors_finalising_at_once_get_one_final(central) -> None:  # type: ignore[no-untyped-def]
    doctors = [_doctor(central)[1] for _ in range(2)]
    for _round in range(4):
        bodies = [_doc(_uid())] * 2
        bodies[1] = {**_doc(bodies[0]["study_instance_uid"])}
        with ThreadPoolExecutor(2) as pool:
            answers = list(
                pool.map(
                    lambda args: central.post("/reports/documents", token=args[0], json=args[1]),
                    zip(doctors, bodies, strict=True),
                )
            )
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]


def test_a_batch_records_in_order_each_item_on_its_own_and_repeats_change_nothing(central) -> None:  # type: ignore[no-untyped-def]
    """``POST /reports/documents/batch``: several studies in one call, an amendment after
    its predecessor in the same batch, one refused item (another doctor holds the final
    report) that leaves the others recorded, and the same batch again changing nothing."""
    holder, holder_token = _doctor(central)
    name, token = _doctor(central)
    held = _uid()
    assert (
        central.post("/reports/documents", token=holder_token, json=_doc(held)).status_code == 201
    )
    studies = [_uid() for _ in range(3)]
    docs = [_doc(s) for s in studies]
    amendment = _doc(
        studies[0], 2, "amended", predecessor_sop_instance_uid=docs[0]["sop_instance_uid"]
    )
    batch = [docs[0], amendment, _doc(held), docs[1], docs[2]]
    answer = central.post("/reports/documents/batch", token=token, json={"documents": batch})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [201, 201, 409, 201, 201]
    assert results[2]["error"] == "final_held" and results[2]["holder"] == holder
    assert [r.get("sop_instance_uid") for r in results if r["status"] == 201] == [
        d["sop_instance_uid"] for d in (docs[0], amendment, docs[1], docs[2])
    ]
    first = central.get(f"/reports/{results[0]['report_id']}", token=token).json()
    assert first["author"] == name and first["status"] == "amended" and first["version"] == 2
    assert [r["sop_instance_uid"] for r in first["revisions"]] == [
        docs[0]["sop_instance_uid"], amendment["sop_instance_uid"],
    ]  # fmt: skip
    listed = central.get(f"/reports?study={held}", token=token).json()["reports"]
    assert [r["author"] for r in listed] == [holder]  # the refused item left nothing

    again = central.post("/reports/documents/batch", token=token, json={"documents": batch})
    assert [r["status"] for r in again.json()["results"]] == [200, 200, 409, 200, 200]
    assert [r.get("report_id") for r in again.json()["results"]] == [
        r.get("report_id") for r in results
    ]
    first_again = central.get(f"/reports/{results[0]['report_id']}", token=token).json()
    assert len(first_again["revisions"]) == 2

    too_many = central.post(
        "/reports/documents/batch", token=token, json={"documents": [_doc(_uid())] * 101}
    )
    assert too_many.status_code == 400 and too_many.json()["error"] == "invalid_body"
    empty = central.post("/reports/documents/batch", token=token, json={"documents": []})
    assert empty.status_code == 400
    operator = central.post(
        "/reports/documents/batch", token=central.token_for("operator"), json={"documents": docs}
    )
    assert operator.status_code == 403
