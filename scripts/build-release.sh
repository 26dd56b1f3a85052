#!/usr/bin/env bash
# Builds the release binary exactly as the container image does (the
# Dockerfile runs this script), so CI tests what the image ships even where no
# container engine exists. Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --release --bin dbops
echo "$PWD/target/release/dbops"
