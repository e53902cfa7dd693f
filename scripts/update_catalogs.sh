#!/bin/sh
# Refresh the template and carry it into the ru, es, fr and de catalogs:
#   sh scripts/update_catalogs.sh
# New messages arrive untranslated (or "fuzzy" with a guess); translate them using
# docs/i18n/glossary.md and remove the fuzzy flag.  The test suite fails until every
# message of every catalog is translated (tests/i18n/test_catalogs_complete.py).
# The catalogs stay in the form Babel writes: template order (sorted), no source
# locations, one line per message, obsolete messages dropped - so merges stay easy.
set -eu
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
[ -x "$PYBABEL" ] || PYBABEL=pybabel
sh scripts/extract_messages.sh
for lang in ru es fr de; do
    "$PYBABEL" -q update -i workstation/i18n/locale/workstation.pot \
        -d workstation/i18n/locale -D workstation -l "$lang" \
        --no-wrap --ignore-obsolete --ignore-pot-creation-date
done
# What is left to translate, per catalog (needs gettext's msgfmt).
if command -v msgfmt >/dev/null 2>&1; then
    for lang in ru es fr de; do
        printf '%s: ' "$lang"
        msgfmt --check-format --statistics -o /dev/null \
            "workstation/i18n/locale/$lang/LC_MESSAGES/workstation.po" 2>&1
    done
fi
