#!/usr/bin/env bash
# The Subsonic client the /rest tests drive (py-opensonic from PyPI) and the tagger the music
# tests write their files' tags with (mutagen), pinned in tests/subsonic/requirements.txt, in
# a venv under target/ so nothing global changes; made again when the pins change.
# tests/it/subsonic.rs runs this itself when the venv is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=${CARGO_TARGET_DIR:-target}/subsonic-venv
if ! cmp -s tests/subsonic/requirements.txt "$venv/requirements.txt"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/subsonic/requirements.txt
    cp tests/subsonic/requirements.txt "$venv/requirements.txt"
fi
