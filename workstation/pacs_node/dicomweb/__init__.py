"""DICOMweb client for the central archive: QIDO-RS, WADO-RS, STOW-RS with bearer tokens."""
