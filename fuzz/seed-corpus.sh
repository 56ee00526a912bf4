#!/usr/bin/env bash
# Seeds the fuzz corpora at fuzz time from the real captures and the fixtures (committed once,
# in fixtures/, not again in the corpora).
#
# CSTA BER (csta_ber_frame, csta_ber_pdu, csta_ber_acse): the real OXE captures (hex text in
# fixtures/real/oxe, read in place), the public real OXE frames in
# fixtures/real/oxe-public/*.hex (conference and transfer connection lists, Diverted's
# [APPLICATION 3] destination; provenance in its README) and any fixtures/oxe/*.hex files are
# turned into binary: the whole framed stream for csta_ber_frame, each BER value without its
# 2-byte length for csta_ber_pdu and csta_ber_acse. The copies are named capture-* / fixture-*
# and ignored by git (fuzz/corpus/csta_ber_*/.gitignore); the small hand-made seeds committed
# beside them stay.
#
#   bash fuzz/seed-corpus.sh && cd fuzz && cargo +nightly fuzz run csta_ber_pdu
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
captures="${CTIGW_CAPTURES:-$repo/fixtures/real}"

# --- CSTA BER -------------------------------------------------------------------------------
python3 - "$repo" "$captures" <<'PY'
import glob, os, re, sys
repo, captures = sys.argv[1], sys.argv[2]
corpus = {t: os.path.join(repo, "fuzz", "corpus", t) for t in ("csta_ber_frame", "csta_ber_pdu", "csta_ber_acse")}
for d in corpus.values():
    os.makedirs(d, exist_ok=True)

def hex_bytes(path):
    out = bytearray()
    for line in open(path, encoding="utf-8", errors="replace"):
        digits = re.sub(r"\s+", "", line.split("#", 1)[0])
        if len(digits) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", digits):
            return None
        out += bytes.fromhex(digits)
    return bytes(out)

def frames(data):
    """Splits a framed stream (optional leading hello byte) into BER values."""
    i, out = 0, []
    if data[:1] in (b"B", b"P"):
        i = 1
    while i + 2 <= len(data):
        n = int.from_bytes(data[i:i + 2], "big")
        if i + 2 + n > len(data):
            break
        out.append(data[i + 2:i + 2 + n])
        i += 2 + n
    return out

sources = [("capture", p) for p in sorted(glob.glob(os.path.join(captures, "oxe", "*")))]
sources += [("public", p) for p in sorted(glob.glob(os.path.join(repo, "fixtures", "real", "oxe-public", "*.hex")))]
sources += [("fixture", p) for p in sorted(glob.glob(os.path.join(repo, "fixtures", "oxe", "*.hex")))]
written = 0
for prefix, path in sources:
    data = hex_bytes(path)
    if not data:
        continue
    stem = prefix + "-" + os.path.splitext(os.path.basename(path))[0]
    open(os.path.join(corpus["csta_ber_frame"], stem), "wb").write(data)
    written += 1
    for k, ber in enumerate(frames(data)):
        target = "csta_ber_acse" if ber[:1] and ber[0] & 0xC0 == 0x40 else "csta_ber_pdu"
        open(os.path.join(corpus[target], f"{stem}-{k}"), "wb").write(ber)
        if target == "csta_ber_acse":
            open(os.path.join(corpus["csta_ber_pdu"], f"{stem}-{k}"), "wb").write(ber)
        written += 1
print(f"seed-corpus (csta_ber): wrote {written} file(s) from {len(sources)} source(s)")
PY
