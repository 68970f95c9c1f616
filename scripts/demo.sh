#!/usr/bin/env bash
# The main job: build waymarkc, compile the README's welcome-email workflow to a bundle, show
# what is in it, and draw it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product waymarkc
mkdir -p out
.build/release/waymarkc compile Fixtures/compile/welcome_email.py -o out/welcome.wmb
.build/release/waymarkc inspect out/welcome.wmb
.build/release/waymarkc compile Fixtures/compile/welcome_email.py --emit wrl
.build/release/waymarkc visualize out/welcome.wmb --format svg -o out/welcome.svg
echo "wrote out/welcome.wmb and out/welcome.svg"
