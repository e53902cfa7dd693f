#!/bin/sh
# Install what the tests need (Debian packages only when missing; Python packages into
# .venv) and run the whole suite: lint and import rules, unit, integration against real
# PostgreSQL, Orthanc, the auth API and dcmtk, and GUI tests in a real window under Xvfb.
# Extra arguments go to pytest, e.g. scripts/test.sh -k import -x
set -eu
. "$(dirname "$0")/lib.sh"
apt_ensure $RUNTIME_PACKAGES \
    xvfb xauth dcmtk postgresql orthanc orthanc-dicomweb orthanc-postgresql orthanc-python \
    nginx openssl gcc libc6-dev poppler-utils dbus-daemon gnome-keyring dicom3tools \
    qpdf libnss3-tools softhsm2 opensc fonts-dejavu-core gettext x11-utils xdotool imagemagick
# node + npm for the independent FHIR validator (the npm "fhir" package, offline once
# installed); Debian 12 ships npm apart from nodejs, NodeSource's nodejs includes it.
command -v npm >/dev/null 2>&1 || apt_ensure nodejs npm
ensure_fhir_validator
ensure_venv
pip_install gui,postgres,reports,test
cd "$ROOT"
# -X faulthandler: a crash, even at interpreter shutdown, prints the Python stack; the
# exit status of a process killed by a signal (139: SIGSEGV) fails the run by name.
run_reporting_signals xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp" \
    "$VENV/bin/python" -X faulthandler -m pytest "$@"
