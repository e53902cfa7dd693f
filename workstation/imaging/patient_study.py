"""Patient and General Study attributes that an instance we create copies from its study.

A report (Encapsulated PDF) and a measurement SR are new instances in an existing study:
they copy these attributes from the study's images, and the Type 2 ones among them are
written empty when the images lack them (a strict writer refuses an instance without
them).
"""

from __future__ import annotations

#: Patient and General Study attributes copied from the study's images.
PATIENT_STUDY_KEYWORDS: tuple[str, ...] = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
    "StudyDescription",
)
#: The Type 2 ones among them: present, empty when the images have no value.
PATIENT_STUDY_TYPE2: frozenset[str] = frozenset(PATIENT_STUDY_KEYWORDS) - {
    "IssuerOfPatientID",
    "StudyDescription",
}
