"""The embedded local PACS: archive, import, DICOM node, DICOMweb client, sync (no Qt)."""
