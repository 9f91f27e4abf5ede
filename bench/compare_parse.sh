#!/usr/bin/env bash
# Runs the parse benchmark for casemail and for Python's email package on the same messages.
# Usage: bench/compare_parse.sh [BUILD_DIR]
set -euo pipefail
build="${1:-build}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$build/bench/bench_parse" --write "$dir"
"$build/bench/bench_parse"
python3 "$(dirname "$0")/bench_parse_python.py" "$dir"
