#!/usr/bin/env bash
# The whole test suite, from a fresh clone: makes .venv, installs hf-lsp with its test
# dependencies (and, with apt-get, Debian's Emacs and Eglot), then runs lint, type checks and
# pytest, then the VS Code extension's tests
# (scripts/test-vscode.sh; HF_LSP_VSCODE=unit for its unit tests only, =skip for none).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
# Emacs + Eglot for tests/editors/test_emacs_eglot.py, as Debian ships them (Emacs 28 in bookworm
# takes Eglot from elpa-eglot; Emacs 29 and later have it built in)
if command -v apt-get >/dev/null; then
    . scripts/apt.sh
    apt_install --no-install-recommends emacs-nox elpa-eglot
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/ruff check hf_lsp tests scripts
.venv/bin/mypy
# pytest exits 5 when it collects nothing: that fails this script too
.venv/bin/python -m pytest "$@"
if [ "${HF_LSP_VSCODE:-}" != skip ]; then
    bash scripts/test-vscode.sh
fi
