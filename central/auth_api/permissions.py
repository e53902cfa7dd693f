"""The permission names code may ask for, and the roles of the seed RBAC.

The database is the source of truth at run time (tables ``roles``, ``permissions``,
``role_permissions``, seeded by migration 0001); this catalog lets ``require()`` refuse an
unknown permission name when the code is loaded, and documents what each name allows.

Seed RBAC (``system-architecture.md``): admin has full access; doctor views studies, writes,
signs and exports reports and measures; operator uploads, sends and imports studies and
views them read-only, with no report creation.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "users.manage": "create, change, disable and delete users; reset passwords and MFA",
    "audit.read": "query the audit log and verify its hash chain",
    "audit.write": "submit audit events (workstations, also buffered offline)",
    "settings.manage": "change site settings and nodes",
    "studies.read": "search, view and download studies",
    "studies.upload": "store studies in the central archive (STOW-RS, REST upload)",
    "studies.send": "send studies to other DICOM nodes",
    "studies.delete": "delete studies from the central archive",
    "import": "import studies from media and folders",
    "reports.read": "read the report registry",
    "reports.write": "create and edit draft reports; upload report documents",
    "reports.sign": "finalise (sign) and amend reports",
    "measurements.write": "add measurements and annotations",
}

ROLES: dict[str, tuple[str, list[str]]] = {
    "admin": ("full access, user management, audit", sorted(PERMISSIONS)),
    "doctor": (
        "reads studies, measures, writes and signs reports",
        [
            "audit.write",
            "measurements.write",
            "reports.read",
            "reports.sign",
            "reports.write",
            "studies.read",
        ],
    ),
    "operator": (
        "uploads, imports, sends and views studies; no reports",
        ["audit.write", "import", "reports.read", "studies.read", "studies.send", "studies.upload"],
    ),
}
