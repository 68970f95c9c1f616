#!/usr/bin/env bash
# The main job: build waymarkc and compile the README's welcome-email workflow to WRL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product waymarkc
.build/release/waymarkc compile Fixtures/compile/welcome_email.py --emit wrl
