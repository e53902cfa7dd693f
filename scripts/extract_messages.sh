#!/bin/sh
# Refresh the message template after changing user-visible strings:
#   sh scripts/extract_messages.sh
# The test suite fails while the committed template is stale.
# Babel skips folders named _* unless told otherwise: --ignore-dirs keeps _qt/_vtk in.
# Then run sh scripts/update_catalogs.sh to carry new strings into the four catalogs.
set -eu
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
[ -x "$PYBABEL" ] || PYBABEL=pybabel
"$PYBABEL" -q extract -F babel.cfg -k _ -k ngettext:1,2 --no-location \
    --sort-output --ignore-dirs '.* __pycache__' --project "Klinika Workstation" --copyright-holder "Klinika" \
    -o workstation/i18n/locale/workstation.pot workstation
