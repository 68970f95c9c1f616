#!/usr/bin/env bash
# The main job: compile the README's welcome-email workflow to a bundle, run it on Python
# workers (in-memory store: no database configured), show what is in the bundle, and draw it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product waymarkc
swift build -c release --product waymark-run
mkdir -p out
.build/release/waymarkc compile Fixtures/compile/welcome_email.py -o out/welcome.wmb
.build/release/waymark-run out/welcome.wmb --allow-search-path Fixtures/compile --input '{"user_ids": ["ada", "xavier", "grace"]}'
.build/release/waymarkc inspect out/welcome.wmb
.build/release/waymarkc visualize out/welcome.wmb --format svg -o out/welcome.svg
echo "wrote out/welcome.wmb and out/welcome.svg"
