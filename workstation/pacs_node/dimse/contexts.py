"""Presentation contexts: what our SCP accepts and what our SCU proposes.

The SCP accepts every standard storage SOP class in every transfer syntax pynetdicom
knows, as sent (no transcoding on receipt), plus Verification and Query/Retrieve at
Patient and Study root.  Private SOP classes are not accepted.

An association may propose at most 128 contexts.  The SCU therefore builds its
proposals from what it is about to send (``store_contexts``), or, for C-GET, from a list
of the storage classes a reading workstation meets in practice (``get_contexts``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom import ALL_TRANSFER_SYNTAXES, sop_class
from pynetdicom.pdu_primitives import SCP_SCU_RoleSelectionNegotiation
from pynetdicom.presentation import (
    AllStoragePresentationContexts,
    PresentationContext,
    build_context,
    build_role,
)

MAX_CONTEXTS = 128

UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
_UNCOMPRESSED_ALL = frozenset(
    {ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian,
     DeflatedExplicitVRLittleEndian}
)  # fmt: skip

#: What we offer a C-GET SCP: uncompressed first, then the common lossless and lossy
#: encodings so the sender can keep what it stores.
GET_TRANSFER_SYNTAXES = (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEG2000Lossless,
    RLELossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEG2000,
    JPEGLSNearLossless,
)

VERIFICATION = UID("1.2.840.10008.1.1")

#: Query/Retrieve information models (PS3.4 C.6); pynetdicom's ``sop_class`` names are
#: generated at import time, which type checkers cannot see.
QR_MODELS = {
    ("patient", "find"): UID("1.2.840.10008.5.1.4.1.2.1.1"),
    ("patient", "move"): UID("1.2.840.10008.5.1.4.1.2.1.2"),
    ("patient", "get"): UID("1.2.840.10008.5.1.4.1.2.1.3"),
    ("study", "find"): UID("1.2.840.10008.5.1.4.1.2.2.1"),
    ("study", "move"): UID("1.2.840.10008.5.1.4.1.2.2.2"),
    ("study", "get"): UID("1.2.840.10008.5.1.4.1.2.2.3"),
}
QR_UIDS = frozenset(str(uid) for uid in QR_MODELS.values())
FIND_UIDS = frozenset(str(QR_MODELS[(root, "find")]) for root in ("patient", "study"))


def service_name(uid: object) -> str:
    """The name of a SOP class UID ("Study Root Query/Retrieve Information Model - FIND"),
    or the UID itself when unknown."""
    name = UID(str(uid)).name
    return name if name and name != str(uid) else str(uid)


#: Storage classes proposed for C-GET (with the SCP role): the image, document and
#: presentation-state objects a diagnostic workstation reads.
GET_STORAGE_CLASSES = tuple(
    getattr(sop_class, name)
    for name in (
        "CTImageStorage",
        "EnhancedCTImageStorage",
        "LegacyConvertedEnhancedCTImageStorage",
        "MRImageStorage",
        "EnhancedMRImageStorage",
        "EnhancedMRColorImageStorage",
        "LegacyConvertedEnhancedMRImageStorage",
        "MRSpectroscopyStorage",
        "ComputedRadiographyImageStorage",
        "DigitalXRayImageStorageForPresentation",
        "DigitalXRayImageStorageForProcessing",
        "DigitalMammographyXRayImageStorageForPresentation",
        "DigitalMammographyXRayImageStorageForProcessing",
        "DigitalIntraOralXRayImageStorageForPresentation",
        "BreastTomosynthesisImageStorage",
        "XRayAngiographicImageStorage",
        "EnhancedXAImageStorage",
        "XRayRadiofluoroscopicImageStorage",
        "EnhancedXRFImageStorage",
        "XRay3DAngiographicImageStorage",
        "UltrasoundImageStorage",
        "UltrasoundMultiFrameImageStorage",
        "EnhancedUSVolumeStorage",
        "NuclearMedicineImageStorage",
        "PositronEmissionTomographyImageStorage",
        "EnhancedPETImageStorage",
        "LegacyConvertedEnhancedPETImageStorage",
        "SecondaryCaptureImageStorage",
        "MultiFrameSingleBitSecondaryCaptureImageStorage",
        "MultiFrameGrayscaleByteSecondaryCaptureImageStorage",
        "MultiFrameGrayscaleWordSecondaryCaptureImageStorage",
        "MultiFrameTrueColorSecondaryCaptureImageStorage",
        "VLPhotographicImageStorage",
        "VLEndoscopicImageStorage",
        "VLMicroscopicImageStorage",
        "VLWholeSlideMicroscopyImageStorage",
        "OphthalmicPhotography8BitImageStorage",
        "OphthalmicTomographyImageStorage",
        "RTImageStorage",
        "RTDoseStorage",
        "RTStructureSetStorage",
        "RTPlanStorage",
        "SegmentationStorage",
        "SpatialRegistrationStorage",
        "GrayscaleSoftcopyPresentationStateStorage",
        "ColorSoftcopyPresentationStateStorage",
        "KeyObjectSelectionDocumentStorage",
        "BasicTextSRStorage",
        "EnhancedSRStorage",
        "ComprehensiveSRStorage",
        "Comprehensive3DSRStorage",
        "XRayRadiationDoseSRStorage",
        "EncapsulatedPDFStorage",
        "EncapsulatedCDAStorage",
        "TwelveLeadECGWaveformStorage",
        "GeneralECGWaveformStorage",
        "RawDataStorage",
    )
)


def is_uncompressed(transfer_syntax: str) -> bool:
    return UID(transfer_syntax) in _UNCOMPRESSED_ALL


#: What our SCP accepts, in its order of preference: when a sender proposes several
#: syntaxes in one context we take uncompressed first, so a sender is never asked to
#: compress (possibly lossy) on our behalf; compressed data proposed on its own is
#: accepted as sent.
SCP_TRANSFER_SYNTAXES = [
    str(ExplicitVRLittleEndian),
    str(ImplicitVRLittleEndian),
    *(ts for ts in ALL_TRANSFER_SYNTAXES if not is_uncompressed(ts)),
    str(DeflatedExplicitVRLittleEndian),
    str(ExplicitVRBigEndian),
]


def scp_contexts() -> list[PresentationContext]:
    """Everything our SCP supports (no 128 limit applies to supported contexts).

    Storage contexts carry ``scu_role = scp_role = True``: pynetdicom then accepts a
    C-GET requestor's proposal to act as the storage SCP (so we can send to it), and
    plain senders get the default roles.  Register them with
    ``AE.add_supported_context(..., scu_role=, scp_role=)``: the
    ``AE.supported_contexts`` setter drops roles.
    """
    out = [build_context(VERIFICATION)]
    for cx in AllStoragePresentationContexts:
        ctx = build_context(str(cx.abstract_syntax), SCP_TRANSFER_SYNTAXES)
        ctx.scu_role = True
        ctx.scp_role = True
        out.append(ctx)
    for uid in QR_MODELS.values():
        out.append(build_context(uid, [*UNCOMPRESSED, ExplicitVRBigEndian]))
    return out


def _copy_context(self: PresentationContext, memo: dict[int, object]) -> PresentationContext:
    """A deep copy of a presentation context: its own transfer syntax list; the UIDs
    themselves are immutable strings and are shared."""
    clone = PresentationContext.__new__(PresentationContext)
    clone.__dict__.update(self.__dict__)
    clone._transfer_syntax = list(self._transfer_syntax)
    memo[id(self)] = clone
    return clone


def replacements() -> list[tuple[type, str, Any]]:
    """For :mod:`.pynetdicom_tuning`: make ``copy.deepcopy`` of a presentation context cheap.

    pynetdicom deep-copies the AE's supported contexts for every association it accepts.
    Done generically, that rebuilds and re-validates each of our ~7,700 transfer syntax
    UIDs (some 70-90 ms of CPU per association, most of the time a C-ECHO takes); this
    copy gives the same independent contexts in well under a millisecond.
    """
    return [(PresentationContext, "__deepcopy__", _copy_context)]


#: The pynetdicom code whose attributes :func:`_copy_context` copies.
MIRRORED = (PresentationContext.__init__,)


def echo_contexts() -> list[PresentationContext]:
    return [build_context(VERIFICATION)]


def qr_context(root: str, operation: str) -> PresentationContext:
    return build_context(QR_MODELS[(root, operation)], list(UNCOMPRESSED))


def get_contexts(
    root: str, sop_classes: Iterable[str] = GET_STORAGE_CLASSES
) -> tuple[list[PresentationContext], list[SCP_SCU_RoleSelectionNegotiation]]:
    """The C-GET context plus storage contexts in which we take the SCP role."""
    contexts = [qr_context(root, "get")]
    roles = []
    for uid in list(dict.fromkeys(sop_classes))[: MAX_CONTEXTS - 1]:
        contexts.append(build_context(uid, list(GET_TRANSFER_SYNTAXES)))
        roles.append(build_role(uid, scp_role=True))
    return contexts, roles


def store_contexts(pairs: Iterable[tuple[str, str]]) -> list[list[PresentationContext]]:
    """Contexts to send instances of these (SOP class, transfer syntax) pairs.

    Each pair gets its own context with the stored transfer syntax; a compressed one
    also gets an uncompressed fallback for the same SOP class, used (after decoding)
    when the peer refuses the compressed form.  Returns one context list per
    association when more than 128 contexts are needed.
    """
    wanted: list[PresentationContext] = []
    seen_uncompressed: set[str] = set()
    for sop, ts in dict.fromkeys(pairs):
        if is_uncompressed(ts):
            if sop not in seen_uncompressed:
                seen_uncompressed.add(sop)
                wanted.append(build_context(sop, [ts, *[t for t in UNCOMPRESSED if t != ts]]))
            continue
        wanted.append(build_context(sop, [ts]))
        if sop not in seen_uncompressed:
            seen_uncompressed.add(sop)
            wanted.append(build_context(sop, list(UNCOMPRESSED)))
    return [wanted[i : i + MAX_CONTEXTS] for i in range(0, len(wanted), MAX_CONTEXTS)] or [[]]


def accepted_syntaxes(contexts: Iterable[PresentationContext], sop: str) -> set[str]:
    """Transfer syntaxes accepted for ``sop`` on an established association."""
    out: set[str] = set()
    for cx in contexts:
        if cx.abstract_syntax == sop:
            out.update(str(ts) for ts in cx.transfer_syntax)
    return out


def fit_to_accepted(ds: Dataset, accepted: set[str]) -> Dataset | None:
    """``ds`` as it can be sent over contexts accepting ``accepted`` for its class.

    A compressed data set the peer does not accept is decoded to Explicit VR Little
    Endian (lossless).  Returns None when no accepted context can carry it.
    """
    ts = str(ds.file_meta.TransferSyntaxUID)
    if ts in accepted:
        return ds
    if is_uncompressed(ts):
        return ds if accepted & {str(t) for t in _UNCOMPRESSED_ALL} else None
    if not accepted & {str(t) for t in UNCOMPRESSED}:
        return None
    try:
        ds.decompress(generate_instance_uid=False)
    except Exception:  # noqa: BLE001 - any decoder failure: cannot send it in a form they accept
        return None
    return ds
