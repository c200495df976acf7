#!/usr/bin/env python3
"""Writes the BSON target's seeds (Fuzz/seeds/bson/) from the BSON specification's test corpus
(the bson-corpus JSON files: ../shared/conformance/bson-corpus in this workspace, or the directory
given as the first argument):

- `<file>-valid-<n>`: each valid case's canonical_bson (and degenerate_bson when given);
- `<file>-decode-<n>`: each decodeErrors case's bytes (invalid BSON the target must refuse);
- `<file>-json-<n>`: each valid case's canonical and relaxed extended JSON, and the parseErrors
  strings that are documents (the target parses input starting with `{` as extended JSON).

    python3 Fuzz/make_bson_seeds.py [path/to/bson-corpus]

Only the standard library is needed. The output is committed; re-run it when the corpus changes.
"""
import glob
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "shared", "conformance", "bson-corpus")
out = os.path.join(here, "seeds", "bson")
os.makedirs(out, exist_ok=True)
for old in os.listdir(out):
    os.remove(os.path.join(out, old))

written = 0
seen = set()


def write(name, data):
    global written
    if data in seen:
        return
    seen.add(data)
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
    written += 1


for path in sorted(glob.glob(os.path.join(source, "*.json"))):
    stem = os.path.splitext(os.path.basename(path))[0]
    with open(path) as f:
        spec = json.load(f)
    for i, case in enumerate(spec.get("valid", [])):
        for key in ("canonical_bson", "degenerate_bson", "converted_bson"):
            if key in case:
                write(f"{stem}-valid-{i}-{key.split('_')[0]}", bytes.fromhex(case[key]))
        for key in ("canonical_extjson", "relaxed_extjson", "degenerate_extjson"):
            if key in case:
                write(f"{stem}-json-{i}-{key.split('_')[0]}", case[key].encode())
    for i, case in enumerate(spec.get("decodeErrors", [])):
        write(f"{stem}-decode-{i}", bytes.fromhex(case["bson"]))
    for i, case in enumerate(spec.get("parseErrors", [])):
        text = case["string"]
        if text.lstrip().startswith("{"):
            write(f"{stem}-parse-{i}", text.lstrip().encode())

print(f"wrote {written} seeds to {out}")
