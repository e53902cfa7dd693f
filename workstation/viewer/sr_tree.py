"""A DICOM Structured Report as a tree a person can read: concept name, value with units,
nested containers (TID 1500 measurement groups, Basic Text SR sections).

Each content item becomes an :class:`SrNode` whose ``position`` is the item's place in
the tree as dcmtk's ``dsrdump +Pn`` prints it ("1.7.2.3"), so the two can be compared
line by line.  A hostile file cannot make the tree unbounded: the file is not read when
it is larger than ``max_bytes``, items deeper than ``max_depth`` or past ``max_nodes``
are left out (the document says how many), and long texts are cut.  No Qt, no VTK.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workstation.i18n import _, formatting, ngettext

logger = logging.getLogger(__name__)

#: Files larger than this are not read as SR (real reports are kilobytes).
MAX_SR_BYTES = 32 * 1024 * 1024
#: Content items shown at most; the rest are counted as left out.
MAX_NODES = 5000
#: Nesting shown at most (TID 1500 needs 5 levels).
MAX_DEPTH = 24
#: A text value is cut to this many characters.
MAX_TEXT_CHARS = 4000

#: (CodeValue, CodingSchemeDesignator) of a TID 1500 / TID 1411 measurement group.
MEASUREMENT_GROUP = ("125007", "DCM")
#: UCUM's "no unit" code, not shown after a number.
_NO_UNIT = "1"


@dataclass(frozen=True)
class SrNode:
    """One content item: ``relationship`` to its parent (lower case, as dsrdump prints
    it; "" for the root), ``value_type``, ``concept`` (the concept name's meaning),
    ``value`` as text (with units), ``units`` (the unit code of a NUM), and children.
    ``reference`` is the position of the item this one points at (by-reference items)."""

    position: str
    relationship: str
    value_type: str
    concept: str
    value: str
    units: str = ""
    reference: str = ""
    children: tuple[SrNode, ...] = ()
    #: (CodeValue, CodingSchemeDesignator) of the concept name.
    concept_code: tuple[str, str] = ("", "")

    @property
    def is_measurement_group(self) -> bool:
        return self.value_type == "CONTAINER" and self.concept_code == MEASUREMENT_GROUP

    def walk(self) -> Iterator[SrNode]:
        """This node and all below it, depth first (dsrdump's order)."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class SrDocument:
    """The tree and what the header says about it."""

    title: str
    kind: str
    template: str
    completion: str
    verification: str
    root: SrNode | None
    #: Content items left out by the caps.
    left_out: int = 0
    problems: tuple[str, ...] = field(default_factory=tuple)


class _Budget:
    def __init__(self, max_nodes: int, max_depth: int) -> None:
        self.max_nodes, self.max_depth = max_nodes, max_depth
        self.used = 0
        self.left_out = 0


def _first(ds: Any, keyword: str) -> Any:
    seq = ds.get(keyword)
    return seq[0] if seq else None


def _code_meaning(item: Any) -> str:
    if item is None:
        return ""
    return str(item.get("CodeMeaning", "") or item.get("CodeValue", "") or "").strip()


def _code_key(item: Any) -> tuple[str, str]:
    if item is None:
        return ("", "")
    return (str(item.get("CodeValue", "")), str(item.get("CodingSchemeDesignator", "")))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + "…"


def _num(item: Any) -> tuple[str, str]:
    measured = _first(item, "MeasuredValueSequence")
    if measured is None:
        qualifier = _code_meaning(_first(item, "NumericValueQualifierCodeSequence"))
        return (qualifier or _("(no value)"), "")
    number = str(measured.get("NumericValue", "")).strip()
    unit = _first(measured, "MeasurementUnitsCodeSequence")
    code = str(unit.get("CodeValue", "")) if unit is not None else ""
    if not code or code == _NO_UNIT:
        return (number, code)
    scheme = str(unit.get("CodingSchemeDesignator", ""))
    # UCUM symbols read as they are ("mm", "mm2"), except bracketed ones ("[hnsf'U]").
    shown = code if scheme == "UCUM" and "[" not in code else _code_meaning(unit) or code
    return (f"{number} {shown}", code)


def _reference(item: Any) -> str:
    ref = _first(item, "ReferencedSOPSequence")
    if ref is None:
        return ""
    from pydicom.uid import UID

    sop_class = UID(str(ref.get("ReferencedSOPClassUID", "")))
    name = sop_class.name if sop_class.is_valid else str(sop_class)
    uid = str(ref.get("ReferencedSOPInstanceUID", ""))
    frames = ref.get("ReferencedFrameNumber")
    text = f"{name} {uid}".strip()
    if not frames:
        return text
    listed = [frames] if isinstance(frames, int) else list(frames)
    return _("{reference}, frames {frames}").format(
        reference=text, frames=", ".join(str(f) for f in listed)
    )


def _coordinates(item: Any) -> str:
    points = item.get("GraphicData") or []
    kind = str(item.get("GraphicType", "") or item.get("TemporalRangeType", ""))
    per_point = 3 if item.get("ReferencedFrameOfReferenceUID") else 2
    count = len(points) // per_point if item.get("GraphicData") else 0
    if not count:
        return kind
    return ngettext("{kind}, {count} point", "{kind}, {count} points", count).format(
        kind=kind, count=count
    )


_WHEN = {"DATE": "Date", "TIME": "Time", "DATETIME": "DateTime"}


def _when(value_type: str, value: str) -> str:
    """A DICOM date, time or date-time as the user's locale writes it."""
    value = value.strip()
    if value_type == "DATE":
        return formatting.dicom_date(value)
    if value_type == "TIME":
        return formatting.dicom_time(value)
    if len(value) >= 12:
        return f"{formatting.dicom_date(value[:8])} {formatting.dicom_time(value[8:])}"
    return formatting.dicom_date(value[:8]) if len(value) >= 8 else value


def _value(item: Any, value_type: str) -> tuple[str, str]:
    """(value as text, unit code) of a content item."""
    if value_type == "TEXT":
        return (_cut(str(item.get("TextValue", ""))), "")
    if value_type == "NUM":
        return _num(item)
    if value_type == "CODE":
        return (_code_meaning(_first(item, "ConceptCodeSequence")), "")
    if value_type in _WHEN:
        return (_when(value_type, str(item.get(_WHEN[value_type], "") or "")), "")
    if value_type == "UIDREF":
        return (str(item.get("UID", "")), "")
    if value_type == "PNAME":
        return (formatting.person_name(str(item.get("PersonName", "") or "")), "")
    if value_type in ("IMAGE", "COMPOSITE", "WAVEFORM"):
        return (_reference(item), "")
    if value_type in ("SCOORD", "SCOORD3D", "TCOORD"):
        return (_coordinates(item), "")
    if value_type == "CONTAINER":
        return ("", "")
    return (_cut(str(item.get("TextValue", ""))), "")


def _node(item: Any, position: str, depth: int, budget: _Budget) -> SrNode:
    budget.used += 1
    relationship = str(item.get("RelationshipType", "")).lower()
    ref_ids = item.get("ReferencedContentItemIdentifier")
    if ref_ids is not None and "ValueType" not in item:
        ids = [ref_ids] if isinstance(ref_ids, int) else list(ref_ids)
        target = ".".join(str(int(i)) for i in ids)
        text = _("see item {target}").format(target=target)
        return SrNode(position, relationship, "", "", text, reference=target)
    value_type = str(item.get("ValueType", ""))
    name = _first(item, "ConceptNameCodeSequence")
    value, units = _value(item, value_type)
    children = _children(item.get("ContentSequence") or [], position, depth + 1, budget)
    return SrNode(
        position,
        relationship,
        value_type,
        _code_meaning(name),
        value,
        units=units,
        children=children,
        concept_code=_code_key(name),
    )


def _children(items: Sequence[Any], parent: str, depth: int, budget: _Budget) -> tuple[SrNode, ...]:
    out: list[SrNode] = []
    for index, item in enumerate(items, start=1):
        if depth > budget.max_depth or budget.used >= budget.max_nodes:
            budget.left_out += _count(item, depth)
            continue
        out.append(_node(item, f"{parent}.{index}", depth, budget))
    return tuple(out)


def _count(item: Any, depth: int) -> int:
    """Items in a subtree that is left out (counted without recursion)."""
    total, stack = 0, [item]
    while stack and total < 1_000_000:
        current = stack.pop()
        total += 1
        stack.extend(current.get("ContentSequence") or [])
    return total


def sr_tree(ds: Any, *, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> SrDocument:
    """The readable tree of an SR data set (the root is the data set's own content item)."""
    from workstation.viewer.documents import document_kind

    budget = _Budget(max_nodes, max_depth)
    root: SrNode | None = None
    problems: list[str] = []
    if "ValueType" in ds:
        root = _node(ds, "1", 1, budget)
    else:
        problems.append(_("The file holds no SR content."))
    template = _first(ds, "ContentTemplateSequence")
    title = _code_meaning(_first(ds, "ConceptNameCodeSequence"))
    return SrDocument(
        title=title,
        kind=document_kind(str(ds.get("SOPClassUID", "")), str(ds.get("Modality", ""))) or "",
        template=str(template.get("TemplateIdentifier", "")) if template is not None else "",
        completion=str(ds.get("CompletionFlag", "")),
        verification=str(ds.get("VerificationFlag", "")),
        root=root,
        left_out=budget.left_out,
        problems=tuple(problems),
    )


def read_sr_tree(
    path: Path,
    *,
    max_bytes: int = MAX_SR_BYTES,
    max_nodes: int = MAX_NODES,
    max_depth: int = MAX_DEPTH,
) -> SrDocument:
    """Read the SR in ``path`` (refused when larger than ``max_bytes``) as a tree."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(
            _("The report is too large to show ({size} MB).").format(size=size // 1_000_000)
        )
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        return sr_tree(ds, max_nodes=max_nodes, max_depth=max_depth)
    except (InvalidDicomError, RecursionError, OSError, ValueError, KeyError, TypeError) as exc:
        logger.info("SR %s unreadable: %s", path.name, type(exc).__name__)
        raise ValueError(_("The structured report cannot be read.")) from exc
