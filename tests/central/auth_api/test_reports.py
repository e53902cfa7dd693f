"""The report registry: draft → final (signed PDF UID + SHA-256) → amended, author rules,
revisions and audit events per study."""

from __future__ import annotations

import hashlib
import uuid

import pytest

pytestmark = pytest.mark.network


def _uid() -> str:
    return f"2.25.{uuid.uuid4().int}"[:64]


def test_report_lifecycle(central) -> None:  # type: ignore[no-untyped-def]
    author, password = central.new_user("doctor")
    token = central.login_ok(author["username"], password)["access_token"]
    study = _uid()
    made = central.post(
        "/reports", token=token, json={"study_instance_uid": study, "title": "CT head"}
    )
    assert made.status_code == 201
    report = made.json()
    rid = report["id"]
    assert report["status"] == "draft" and report["author"] == author["username"]
    assert report["sop_instance_uid"] is None

    edited = central.patch(f"/reports/{rid}", token=token, json={"title": "CT head, contrast"})
    assert edited.json()["title"] == "CT head, contrast"

    pdf_sop, pdf_hash = _uid(), hashlib.sha256(b"signed pdf v1").hexdigest()
    final = central.post(
        f"/reports/{rid}/finalize",
        token=token,
        json={"sop_instance_uid": pdf_sop, "pdf_sha256": pdf_hash.upper()},
    )
    assert final.status_code == 200, final.text
    assert final.json()["status"] == "final"
    assert final.json()["pdf_sha256"] == pdf_hash and final.json()["sop_instance_uid"] == pdf_sop

    frozen = central.patch(f"/reports/{rid}", token=token, json={"title": "changed"})
    assert frozen.status_code == 409 and frozen.json()["error"] == "not_a_draft"
    twice = central.post(
        f"/reports/{rid}/finalize",
        token=token,
        json={"sop_instance_uid": pdf_sop, "pdf_sha256": pdf_hash},
    )
    assert twice.status_code == 409

    # Another doctor may not amend someone else's signed report (refused and audited) ...
    colleague = central.token_for("doctor")
    new_sop, new_hash = _uid(), hashlib.sha256(b"signed pdf v2").hexdigest()
    amendment = {"sop_instance_uid": new_sop, "pdf_sha256": new_hash}
    refused = central.post(
        f"/reports/{rid}/amend", token=colleague, json={**amendment, "reason": "mine now"}
    )
    assert refused.status_code == 403 and refused.json()["error"] == "not_author"
    # ... the author does, with a newly signed PDF and a reason.
    no_reason = central.post(f"/reports/{rid}/amend", token=token, json=amendment)
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["message"]
    amended = central.post(
        f"/reports/{rid}/amend", token=token, json={**amendment, "reason": "laterality corrected"}
    ).json()
    assert amended["status"] == "amended" and amended["sop_instance_uid"] == new_sop
    assert [r["status"] for r in amended["revisions"]] == ["draft", "draft", "final", "amended"]
    assert amended["revisions"][-1]["changed_by"] == author["username"]
    assert amended["revisions"][-1]["note"] == "laterality corrected"
    assert amended["revisions"][2]["pdf_sha256"] == pdf_hash  # history keeps the first PDF
    # An administrator may amend too (e.g. the author has left).
    by_admin = central.post(
        f"/reports/{rid}/amend",
        token=central.admin_token(),
        json={"sop_instance_uid": _uid(), "pdf_sha256": new_hash, "reason": "author left"},
    )
    assert by_admin.status_code == 200 and by_admin.json()["revisions"][-1]["changed_by"] == (
        central.admin_username
    )
    amended = by_admin.json()

    # Everyone may read; the list is per study.
    for role in ("operator", "doctor", "admin"):
        listed = central.get("/reports", token=central.token_for(role), params={"study": study})
        assert [r["id"] for r in listed.json()["reports"]] == [rid]
    assert central.get(f"/reports/{rid}", token=central.token_for("operator")).json() == amended

    trail = central.get(
        "/audit/events", token=central.admin_token(), params={"study": study}
    ).json()
    assert [e["action"] for e in trail["events"]] == [
        "report.draft_saved",
        "report.draft_saved",
        "report.final",
        "report.amended",
        "report.amended",
    ]
    denied = central.get(
        "/audit/events",
        token=central.admin_token(),
        params={"action": "access.denied", "actor": "harness-doctor", "outcome": "denied"},
    ).json()["events"]
    assert any(
        e["details"]["error"] == "not_author" and e["details"]["endpoint"].endswith("/amend")
        for e in denied
    )


def test_only_the_author_edits_or_signs_a_draft(central) -> None:  # type: ignore[no-untyped-def]
    author, password = central.new_user("doctor")
    token = central.login_ok(author["username"], password)["access_token"]
    rid = central.post("/reports", token=token, json={"study_instance_uid": _uid()}).json()["id"]
    other = central.token_for("doctor")
    edit = central.patch(f"/reports/{rid}", token=other, json={"title": "mine now"})
    assert edit.status_code == 403 and edit.json()["error"] == "not_author"
    sign = central.post(
        f"/reports/{rid}/finalize",
        token=other,
        json={"sop_instance_uid": _uid(), "pdf_sha256": "a" * 64},
    )
    assert sign.status_code == 403
    amend_draft = central.post(
        f"/reports/{rid}/amend",
        token=token,
        json={"sop_instance_uid": _uid(), "pdf_sha256": "a" * 64, "reason": "x"},
    )
    assert amend_draft.status_code == 409 and amend_draft.json()["error"] == "not_signed"
    bad_uid = central.post("/reports", token=token, json={"study_instance_uid": "1.2.abc"})
    assert bad_uid.status_code == 400
