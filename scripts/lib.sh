# Shared by scripts/start.sh and scripts/test.sh (POSIX sh).
# shellcheck shell=sh

ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.venv"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_ensure PKG...: install the Debian packages that are missing, and only those.
apt_ensure() {
    missing=""
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        case "$status" in
            *"install ok installed"*) ;;
            *) missing="$missing $pkg" ;;
        esac
    done
    if [ -n "$missing" ]; then
        echo "Installing Debian packages:$missing"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        # shellcheck disable=SC2086
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
    fi
}

# Libraries Qt and VTK need at run time on a minimal Debian 12.
RUNTIME_PACKAGES="libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 \
libosmesa6 fonts-dejavu-core fonts-wqy-zenhei libxcursor1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 \
libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-util1 \
libxcb-xkb1 libxrender1 libxi6 libsm6 libice6 libxext6 libx11-xcb1"

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
            apt_ensure python3-venv
        fi
        python3 -m venv "$VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip
    fi
}

# pip_install EXTRAS: install the app (editable) with the given extras into .venv, and
# write the install stamp (see install_stamp).
pip_install() {
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[$1]"
    if [ -f "$ROOT/central/pyproject.toml" ]; then
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT/central[postgres,server]"
    fi
    install_stamp "$1" >"$VENV/.klinika-install-stamp"
}

# install_stamp EXTRAS: SHA-256 of what an install depends on: the extras asked for and
# both pyproject.toml files.  The code itself is installed editable: changing it needs
# no new install, changing a dependency does.
install_stamp() {
    "$VENV/bin/python" - "$1" "$ROOT/pyproject.toml" "$ROOT/central/pyproject.toml" <<'PY'
import hashlib, sys
from pathlib import Path
h = hashlib.sha256(sys.argv[1].encode())
for name in sys.argv[2:]:
    path = Path(name)
    h.update(b"\0" + (path.read_bytes() if path.is_file() else b"-"))
print(h.hexdigest())
PY
}

# pip_install_if_changed EXTRAS: pip_install on the first run and when a pyproject.toml
# (or the extras) changed since the last install; otherwise nothing (a start costs no pip).
pip_install_if_changed() {
    stamp="$VENV/.klinika-install-stamp"
    if [ -x "$VENV/bin/workstation" ] && [ -f "$stamp" ] \
        && [ "$(cat "$stamp")" = "$(install_stamp "$1")" ]; then
        return 0
    fi
    pip_install "$1"
}

# run_reporting_signals CMD...: run CMD; when it dies by a signal (a segfault at the
# interpreter's exit, after pytest's summary, say), name the signal. Exits CMD's status.
run_reporting_signals() {
    status=0
    "$@" || status=$?
    if [ "$status" -gt 128 ]; then
        sig=$((status - 128))
        echo "FAILED: the test process was killed by signal $sig ($(kill -l "$sig" 2>/dev/null || echo unknown))." >&2
        echo "After pytest's summary that is a crash at interpreter shutdown; faulthandler printed its Python stack above." >&2
    fi
    return "$status"
}

# ensure_fhir_validator: the npm "fhir" package (4.12) in .helpers/fhir-validator, which
# tests/reports/fhir_validate.js loads (tests skip, and fail under CI, without it).
ensure_fhir_validator() {
    dir="$ROOT/.helpers/fhir-validator"
    if [ ! -f "$dir/node_modules/fhir/package.json" ]; then
        mkdir -p "$dir"
        npm install --prefix "$dir" --no-audit --no-fund --no-save --silent fhir@4.12 \
            || echo "npm could not install fhir@4.12: the FHIR validation tests will say so" >&2
    fi
}
