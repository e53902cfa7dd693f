"""Who may call what on the central Orthanc: the one rule table.

The table is read top to bottom; the first rule whose method and path match decides.
No match means no access. Anonymous callers (no valid token) match no rule.

| role     | may                                                                   |
| -------- | --------------------------------------------------------------------- |
| operator | read (REST resources, QIDO-RS, WADO-RS, WADO-URI, find, ZIP) + upload |
|          | (``POST /instances``, STOW-RS ``POST /dicom-web/studies[/{study}]``)  |
| doctor   | read + upload reports through ``POST /klinika/reports/studies[/...]`` |
|          | (STOW-RS restricted to report SOP classes into existing studies,      |
|          | see klinika_reports.py); no other upload                              |
| admin    | everything, including DELETE, /tools, /modalities, /peers, /jobs      |

Paths are matched on Orthanc's normalised URI (Orthanc resolves ``..`` and percent
escapes before the filter sees it); a ``.`` or ``..`` segment is refused anyway.
Pattern segments: a literal, ``*`` (exactly one segment) or a trailing ``**`` (any
number of segments, including none).
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "doctor", "operator")
ANY_METHOD = frozenset({"GET", "POST", "PUT", "DELETE"})

ADMIN = frozenset({"admin"})
READERS = frozenset({"admin", "doctor", "operator"})
UPLOADERS = frozenset({"admin", "operator"})
REPORTERS = frozenset({"admin", "doctor"})

# Orthanc's OrthancPluginHttpMethod values as the Python plugin passes them.
ORTHANC_METHODS = {1: "GET", 2: "POST", 3: "PUT", 4: "DELETE"}


@dataclass(frozen=True)
class Rule:
    methods: frozenset[str]
    pattern: tuple[str, ...]
    roles: frozenset[str]
    why: str

    def matches(self, method: str, segments: tuple[str, ...]) -> bool:
        return method in self.methods and _match(self.pattern, segments)


def rule(methods: str, path: str, roles: frozenset[str], why: str) -> Rule:
    names = ANY_METHOD if methods == "*" else frozenset(methods.split("|"))
    pattern = tuple(s for s in path.split("/") if s)
    if "**" in pattern[:-1]:
        raise ValueError(f"'**' only at the end of a pattern: {path}")
    return Rule(names, pattern, roles, why)


RULES: tuple[Rule, ...] = (
    # DICOMweb client side of the plugin: configuration and outbound transfers.
    rule("*", "/dicom-web/servers/**", ADMIN, "DICOMweb peers and outbound STOW/retrieve"),
    rule("GET", "/dicom-web/**", READERS, "QIDO-RS and WADO-RS"),
    rule("POST", "/dicom-web/studies", UPLOADERS, "STOW-RS"),
    rule("POST", "/dicom-web/studies/*", UPLOADERS, "STOW-RS into one study"),
    rule("POST", "/klinika/reports/studies", REPORTERS, "report STOW-RS (report classes only)"),
    rule("POST", "/klinika/reports/studies/*", REPORTERS, "report STOW-RS into one study"),
    rule("GET", "/wado", READERS, "WADO-URI"),
    rule("POST", "/instances", UPLOADERS, "upload a DICOM file or ZIP"),
    rule("GET", "/patients/**", READERS, "read patients"),
    rule("GET", "/studies/**", READERS, "read studies (incl. ZIP and DICOMDIR download)"),
    rule("GET", "/series/**", READERS, "read series"),
    rule("GET", "/instances/**", READERS, "read instances, files, frames, previews"),
    rule("POST", "/tools/find", READERS, "search the index"),
    rule("POST", "/tools/lookup", READERS, "resolve a DICOM UID"),
    rule("POST", "/tools/create-archive", READERS, "ZIP of several resources"),
    rule("POST", "/tools/create-media", READERS, "DICOMDIR media of several resources"),
    rule("POST", "/tools/create-media-extended", READERS, "DICOMDIR media (extended)"),
    rule("GET", "/system", READERS, "server identity for a logged-in client"),
    rule("*", "/**", ADMIN, "everything else: DELETE, modify, /tools, /modalities, /jobs ..."),
)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    rule: Rule | None = None


def _match(pattern: tuple[str, ...], segments: tuple[str, ...]) -> bool:
    if pattern and pattern[-1] == "**":
        head = pattern[:-1]
        return len(segments) >= len(head) and _match(head, segments[: len(head)])
    if len(pattern) != len(segments):
        return False
    return all(p == "*" or p == s for p, s in zip(pattern, segments))


def split_uri(uri: str) -> tuple[str, ...] | None:
    """URI path segments, or ``None`` when the path is unacceptable."""
    if not uri.startswith("/") or "\x00" in uri or "?" in uri or "\\" in uri:
        return None
    segments = tuple(s for s in uri.split("/") if s)
    if any(s in (".", "..") for s in segments):
        return None
    return segments


def decide(method: str, uri: str, role: str | None, rules: tuple[Rule, ...] = RULES) -> Decision:
    """May a caller with ``role`` (``None``: anonymous) send ``method`` to ``uri``?"""
    if role is None:
        return Decision(False, "anonymous")
    if role not in ROLES:
        return Decision(False, "unknown-role")
    segments = split_uri(uri)
    if segments is None or method not in ANY_METHOD:
        return Decision(False, "bad-request-line")
    for r in rules:
        if r.matches(method, segments):
            if role in r.roles:
                return Decision(True, "allowed", r)
            return Decision(False, "role-not-allowed", r)
    return Decision(False, "no-rule")
