#!/usr/bin/env bash
# Seeds fuzz/corpus/csta_xml_document/ and fuzz/corpus/csta_xml_tcp_frame/ at fuzz time with
# the fixtures/cucm/* and fixtures/openscape/* files, beside the hand-written seeds committed
# there. The copies are named fixture-* and ignored by git (see each corpus's .gitignore).
#
#   bash fuzz/seed-corpus-csta-xml.sh && cd fuzz && cargo +nightly fuzz run csta_xml_document
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
copied=0
for target in csta_xml_document csta_xml_tcp_frame; do
    corpus="$repo/fuzz/corpus/$target"
    mkdir -p "$corpus"
    for dialect in cucm openscape; do
        for f in "$repo"/fixtures/"$dialect"/*; do
            [ -f "$f" ] || continue
            cp "$f" "$corpus/fixture-$dialect-$(basename "$f")"
            copied=$((copied + 1))
        done
    done
done
echo "seed-corpus-csta-xml: copied $copied file(s)"
