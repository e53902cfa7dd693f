"""The built-in DICOM node: our SCP (service.py, scp.py) and SCU (scu.py) on pynetdicom."""
