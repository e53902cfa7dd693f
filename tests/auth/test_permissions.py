from __future__ import annotations

import pytest

from tests.auth.standalone_session import standalone_session
from workstation.auth import NotLoggedIn, Permission, PermissionDenied, Role, SessionLocked
from workstation.auth.permissions import ROLE_PERMISSIONS, require, required_permission, requires
from workstation.auth.session import Session

P = Permission


def _session(role: Role) -> Session:
    return standalone_session(f"{role.value}-user", role)


EXPECTED = {
    Role.OPERATOR: {P.STUDY_VIEW, P.STUDY_IMPORT, P.STUDY_RETRIEVE, P.STUDY_SEND, P.REPORT_READ},
    Role.DOCTOR: {
        P.STUDY_VIEW,
        P.STUDY_RETRIEVE,
        P.STUDY_EXPORT,
        P.ANNOTATION_WRITE,
        P.REPORT_READ,
        P.REPORT_WRITE,
        P.REPORT_SIGN,
    },
    Role.ADMIN: set(Permission),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_each_role_has_exactly_its_permissions(role: Role, permission: Permission) -> None:
    session = _session(role)
    allowed = permission in EXPECTED[role]
    assert session.can(permission) is allowed
    if allowed:
        assert require(session, permission) is session
    else:
        with pytest.raises(PermissionDenied) as info:
            require(session, permission)
        assert info.value.permission == permission.value
        assert role.value in str(info.value)


def test_operators_never_write_reports_and_only_admins_delete() -> None:
    assert P.REPORT_WRITE not in ROLE_PERMISSIONS[Role.OPERATOR]
    assert [r for r in Role if P.STUDY_DELETE in ROLE_PERMISSIONS[r]] == [Role.ADMIN]
    assert [r for r in Role if P.USERS_MANAGE in ROLE_PERMISSIONS[r]] == [Role.ADMIN]
    assert [r for r in Role if P.AUDIT_READ in ROLE_PERMISSIONS[r]] == [Role.ADMIN]


def test_locked_or_ended_sessions_may_do_nothing() -> None:
    session = _session(Role.ADMIN)
    session.locked = True
    with pytest.raises(SessionLocked):
        require(session, P.STUDY_VIEW)
    assert not session.can(P.STUDY_VIEW)
    session.locked = False
    session.end()
    with pytest.raises(NotLoggedIn):
        require(session, P.STUDY_VIEW)
    with pytest.raises(NotLoggedIn):
        require(None, P.STUDY_VIEW)


class _Reports:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.written: list[str] = []

    @requires(P.REPORT_WRITE)
    def write(self, text: str) -> int:
        self.written.append(text)
        return len(self.written)


def test_requires_decorator_guards_methods() -> None:
    doctor = _Reports(_session(Role.DOCTOR))
    assert doctor.write("findings") == 1
    operator = _Reports(_session(Role.OPERATOR))
    with pytest.raises(PermissionDenied):
        operator.write("findings")
    assert operator.written == []
    assert required_permission(_Reports.write) is P.REPORT_WRITE


def test_unknown_role_claim_grants_nothing() -> None:
    from workstation.auth.permissions import permissions_for

    assert permissions_for("superuser") == frozenset()
    assert permissions_for("doctor") == ROLE_PERMISSIONS[Role.DOCTOR]
