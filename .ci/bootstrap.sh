# shellcheck shell=bash
# Shared bootstrap of .ci/run and .ci/demo (sourced, not executed): makes a fresh Debian 12
# machine with a Rust toolchain ready to run nox.
#
#  - installs the `capnp` compiler from Debian: only the tests need it (the reference reader
#    codetracer_trace_reader, a dev-dependency, compiles a Cap'n Proto schema); the wheel
#    builds without it (nox builds it with a failing capnp first on PATH);
#  - finds CPython >= 3.12 with tools/find_python.py (pyenv versions off PATH included); if
#    there is none, installs python3.13 (+ -dev, -venv) from Debian trixie, pinned so that
#    nothing else is taken from trixie unless needed by it;
#  - creates .venv-ci with that Python and installs nox into it; puts it first on PATH.
set -euo pipefail

CI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$CI_ROOT"

_sudo() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
_APT_UPDATED=0
_apt_install() {
    if [ "$_APT_UPDATED" = 0 ]; then
        _sudo apt-get update -qq
        _APT_UPDATED=1
    fi
    _sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}
_step() { printf '\n==> %s\n' "$*" >&2; }

if ! command -v capnp >/dev/null 2>&1; then
    _step "installing capnproto (the tests' reference reader needs capnp; the wheel does not)"
    _apt_install capnproto
fi

if ! command -v python3 >/dev/null 2>&1; then
    _step "installing python3 (to run the interpreter finder)"
    _apt_install python3
fi

CI_PYTHON="$(python3 tools/find_python.py --first 3.12 3.13 || true)"
if [ -z "$CI_PYTHON" ]; then
    _step "no CPython >= 3.12 found: installing python3.13 from Debian trixie (pinned)"
    echo "deb http://deb.debian.org/debian trixie main" | _sudo tee /etc/apt/sources.list.d/trixie.list >/dev/null
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' \
        | _sudo tee /etc/apt/preferences.d/99-trixie-low >/dev/null
    _APT_UPDATED=0
    _apt_install -t trixie python3.13 python3.13-dev python3.13-venv
    CI_PYTHON="$(python3 tools/find_python.py --first 3.12 3.13)"
fi
_step "using $CI_PYTHON ($("$CI_PYTHON" --version))"

CI_VENV="$CI_ROOT/.venv-ci"
if [ ! -x "$CI_VENV/bin/python" ] || ! "$CI_VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    rm -rf "$CI_VENV"
    "$CI_PYTHON" -m venv "$CI_VENV"
fi
"$CI_VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade "nox>=2024.10.9"
export PATH="$CI_VENV/bin:$PATH"
