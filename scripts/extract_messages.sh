#!/bin/sh
# Refresh the message template after changing user-visible strings:
#   sh scripts/extract_messages.sh
# The test suite fails while the committed template is stale.
set -eu
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k _ -k ngettext:1,2 --no-location \
    --sort-output --project "Klinika Workstation" --copyright-holder "Klinika" \
    -o workstation/i18n/locale/workstation.pot workstation
