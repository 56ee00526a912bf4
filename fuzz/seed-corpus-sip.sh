#!/usr/bin/env bash
# Seeds fuzz/corpus/sip_frame/ and sip_message/ at fuzz time with every file under
# fixtures/sip/ (the RFC 4475 torture messages) and fixtures/cucm/* (uaCSTA transcripts), beside
# the small hand-written seeds committed there. The copies are named fixture-* / cucm-* and are
# ignored by git (.gitignore in each corpus directory).
#
#   bash fuzz/seed-corpus-sip.sh && cd fuzz && cargo +nightly fuzz run sip_frame
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
copied=0
for target in sip_frame sip_message; do
    corpus="$repo/fuzz/corpus/$target"
    mkdir -p "$corpus"
    while IFS= read -r -d '' f; do
        rel="${f#"$repo"/fixtures/sip/}"
        cp "$f" "$corpus/fixture-${rel//\//-}"
        copied=$((copied + 1))
    done < <(find "$repo/fixtures/sip" -type f ! -name '.*' -print0 2>/dev/null)
    for f in "$repo"/fixtures/cucm/*; do
        [ -f "$f" ] || continue
        cp "$f" "$corpus/cucm-$(basename "$f")"
        copied=$((copied + 1))
    done
done
echo "seed-corpus-sip: copied $copied file(s)"
