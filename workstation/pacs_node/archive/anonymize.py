"""De-identification after PS3.15 Annex E, Basic Application Level Confidentiality Profile.

What is done to a dataset (recursively into sequences):

- every UID that is not a well-known class/transfer-syntax UID is replaced by a new one,
  the same new UID for the same old one across the whole export (``UidMap``);
- Patient Name and Patient ID get dummy values (one pseudonymous ID per source patient);
- every other person name (PN) is emptied, every date, time and date-time (DA/TM/DT)
  is emptied, and the attributes of :data:`REMOVE` are removed;
- private elements and overlays/curves (groups 60xx/50xx) are removed;
- Patient Identity Removed = YES and De-identification Method (Code 113100) are added.

Pixel data is kept as is: burned-in annotations are not detected (the profile's "Clean
Pixel Data" option is not offered).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.uid import UID_dictionary, generate_uid

#: Attributes removed outright (PS3.15 Table E.1-1, action X, and the X/... variants).
REMOVE = frozenset(
    {
        "InstitutionName",
        "InstitutionAddress",
        "InstitutionalDepartmentName",
        "InstitutionCodeSequence",
        "ReferringPhysicianAddress",
        "ReferringPhysicianTelephoneNumbers",
        "ReferringPhysicianIdentificationSequence",
        "StationName",
        "PhysiciansOfRecord",
        "PhysiciansOfRecordIdentificationSequence",
        "PerformingPhysicianName",
        "PerformingPhysicianIdentificationSequence",
        "NameOfPhysiciansReadingStudy",
        "PhysiciansReadingStudyIdentificationSequence",
        "OperatorsName",
        "OperatorIdentificationSequence",
        "AdmittingDiagnosesDescription",
        "AdmittingDiagnosesCodeSequence",
        "DerivationDescription",
        "OtherPatientIDs",
        "OtherPatientIDsSequence",
        "OtherPatientNames",
        "PatientBirthName",
        "PatientAge",
        "PatientSize",
        "PatientWeight",
        "PatientAddress",
        "PatientMotherBirthName",
        "MilitaryRank",
        "BranchOfService",
        "MedicalRecordLocator",
        "MedicalAlerts",
        "Allergies",
        "CountryOfResidence",
        "RegionOfResidence",
        "PatientTelephoneNumbers",
        "EthnicGroup",
        "Occupation",
        "AdditionalPatientHistory",
        "PatientComments",
        "PatientReligiousPreference",
        "PatientBirthTime",
        "PatientInsurancePlanCodeSequence",
        "IssuerOfPatientID",
        "IssuerOfPatientIDQualifiersSequence",
        "DeviceSerialNumber",
        "PlateID",
        "RequestingPhysician",
        "RequestingService",
        "RequestAttributesSequence",
        "PerformedProcedureStepID",
        "PerformedProcedureStepDescription",
        "PerformedLocation",
        "ScheduledProcedureStepDescription",
        "ScheduledPerformingPhysicianName",
        "StudyComments",
        "ImageComments",
        "InterpretationText",
        "ReferencedPatientSequence",
        "ReferencedStudySequence",
        "ResponsibleOrganization",
        "ResponsiblePerson",
        "CurrentPatientLocation",
        "PatientState",
        "SmokingStatus",
        "PregnancyStatus",
        "LastMenstrualDate",
        "SpecialNeeds",
        "PatientInstitutionResidence",
        "AccessionNumber",
        "ProtocolName",
        "StudyID",
        "RequestedProcedureDescription",
        "RequestedProcedureID",
        "ContentCreatorName",
        "VerifyingObserverName",
        "VerifyingObserverSequence",
        "PersonName",
        "PersonAddress",
        "PersonTelephoneNumbers",
        "TextComments",
        "Manufacturer",
        "ManufacturerModelName",
        "SoftwareVersions",
        "DetectorID",
        "GantryID",
        "StationAETitle",
        "SourceApplicationEntityTitle",
        "IrradiationEventUID",
        "ClinicalTrialSponsorName",
        "ClinicalTrialSiteName",
        "ClinicalTrialSubjectID",
        "ClinicalTrialSubjectReadingID",
        "ClinicalTrialProtocolID",
        "ClinicalTrialTimePointID",
        "ClinicalTrialCoordinatingCenterName",
        "PatientSex",
        "PatientBirthDate",
    }
)
KEEP_DATES: frozenset[str] = frozenset()
DUMMY_NAME = "ANONYMOUS"


@dataclass
class UidMap:
    """Old UID -> new UID, consistent within one export (or across, if reused)."""

    salt: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    mapping: dict[str, str] = field(default_factory=dict)

    def __call__(self, uid: str) -> str:
        new = self.mapping.get(uid)
        if new is None:
            new = generate_uid(prefix="2.25.", entropy_srcs=[self.salt.hex(), uid])
            self.mapping[uid] = new
        return new


@dataclass
class Anonymizer:
    uids: UidMap = field(default_factory=UidMap)
    patient_ids: dict[str, str] = field(default_factory=dict)

    def pseudonym(self, patient_id: str, patient_name: str) -> str:
        key = f"{patient_id}\x00{patient_name}"
        if key not in self.patient_ids:
            digest = hashlib.sha256(self.uids.salt + key.encode()).hexdigest()[:12].upper()
            self.patient_ids[key] = f"ANON{digest}"
        return self.patient_ids[key]

    def __call__(self, ds: Dataset) -> Dataset:
        pid = self.pseudonym(str(ds.get("PatientID", "")), str(ds.get("PatientName", "")))
        ds.remove_private_tags()
        self._clean(ds)
        ds.PatientName = DUMMY_NAME
        ds.PatientID = pid
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = "PS3.15 E.1 Basic Application Confidentiality Profile"
        code = Dataset()
        code.CodeValue = "113100"
        code.CodingSchemeDesignator = "DCM"
        code.CodeMeaning = "Basic Application Confidentiality Profile"
        ds.DeidentificationMethodCodeSequence = [code]
        meta = getattr(ds, "file_meta", None)
        if meta is not None and "MediaStorageSOPInstanceUID" in meta:
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        return ds

    def _clean(self, ds: Dataset) -> None:
        for elem in list(ds):
            group = elem.tag.group
            if 0x5000 <= group <= 0x50FF or 0x6000 <= group <= 0x60FF or elem.keyword in REMOVE:
                del ds[elem.tag]
            elif elem.VR == "SQ":
                for item in elem.value:
                    self._clean(item)
            elif elem.VR == "UI":
                elem.value = self._uid_value(elem.value)
            elif elem.VR == "PN" or (
                elem.VR in ("DA", "TM", "DT") and elem.keyword not in KEEP_DATES
            ):
                elem.value = ""

    def _uid_value(self, value: object) -> object:
        if isinstance(value, str | bytes) or value is None:
            text = value.decode() if isinstance(value, bytes) else (value or "")
            text = text.strip("\x00 ")
            if not text or text in UID_dictionary:
                return text
            return self.uids(text)
        return [self._uid_value(v) for v in value]  # type: ignore[attr-defined]
