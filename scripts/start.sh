#!/bin/sh
# Set up .venv (first run only; pip again only when a pyproject.toml changed) and start
# the workstation on its embedded defaults:
# a local SQLite archive and the local DICOM node; no central server needed.
set -eu
. "$(dirname "$0")/lib.sh"
apt_ensure $RUNTIME_PACKAGES
ensure_venv
pip_install_if_changed gui,postgres,reports
exec "$VENV/bin/workstation" "$@"
