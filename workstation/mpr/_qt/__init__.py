"""The Qt face of MPR and 3-D (thin views over :mod:`workstation.mpr.viewing`)."""
