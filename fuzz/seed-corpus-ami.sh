#!/usr/bin/env bash
# Seeds fuzz/corpus/ami_frame/ at fuzz time with the real AMI captures (fixtures/real/ami/) and the fixtures/asterisk/* files, beside the small seeds committed there.
# The copies are named capture-* / fixture-* and ignored by git (fuzz/corpus/ami_frame/.gitignore):
# the captures are committed once, in fixtures/real/, not again in the corpus.
#
#   bash fuzz/seed-corpus-ami.sh && cd fuzz && cargo +nightly fuzz run ami_frame
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="$repo/fuzz/corpus/ami_frame"
captures="${CTIGW_CAPTURES:-$repo/fixtures/real}"
mkdir -p "$corpus"

copied=0
for f in "$captures"/ami/*.ami; do
    [ -f "$f" ] || continue
    cp "$f" "$corpus/capture-$(basename "$f")"
    copied=$((copied + 1))
done
for f in "$repo"/fixtures/asterisk/*; do
    [ -f "$f" ] || continue
    cp "$f" "$corpus/fixture-$(basename "$f")"
    copied=$((copied + 1))
done
echo "seed-corpus-ami: copied $copied file(s) into $corpus"
