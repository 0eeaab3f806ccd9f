#!/usr/bin/env python3
"""Tables of the peer benchmark (benches/peers.rs) from criterion's output.

Reads `<dir>/**/new/benchmark.json` and `estimates.json` of the `peers/<scheme>/<size>`
groups in one or more criterion directories (one per run), prints Markdown tables (the
median time per scheme x size x implementation, its ratio to hookwarden and to the raw
prekeyed HMAC, and the issue's targets) and rewrites the `## Peers` section of
BENCHMARKS.md between `<!-- peers:begin -->` and `<!-- peers:end -->`.

Ratios are taken within each run (both figures from the same run), then the median over
runs is shown; the targets table lists every run.

    python3 crates/hookwarden-peers/scripts/peers-table.py [CRITERION_DIR ...]
        [--benchmarks PATH] [--print-only] [--command TEXT]

CRITERION_DIR defaults to target/criterion. Python 3 standard library only.
"""

import argparse
import datetime
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys

BEGIN = "<!-- peers:begin -->"
END = "<!-- peers:end -->"
HEADING = "## Peers"

SCHEMES = [
    ("standard", "Standard Webhooks"),
    ("stripe", "Stripe"),
    ("github", "GitHub"),
]
SIZES = ["64B", "1KiB", "64KiB", "1MiB"]
SIZE_LABEL = {"64B": "64 B", "1KiB": "1 KiB", "64KiB": "64 KiB", "1MiB": "1 MiB"}
IMPLS = [
    ("raw-hmac", "raw prekeyed HMAC-SHA256"),
    ("hookwarden", "**hookwarden** `verify`"),
    ("hookwarden-pairs", "hookwarden, `Vec<(&str, &str)>` headers"),
    ("standardwebhooks", "standardwebhooks"),
    ("svix", "svix"),
    ("webhook-verify", "webhook-verify"),
    ("webhook-verify-pairs", "webhook-verify, `Vec<(&str, &str)>` headers"),
]
# (peer, hookwarden variant it is compared with, size, minimum speed-up, scope)
TARGETS = [
    ("standardwebhooks", "hookwarden", "1KiB", 5.0),
    ("svix", "hookwarden", "1KiB", 5.0),
    ("webhook-verify", "hookwarden", "1KiB", 1.3),
    ("webhook-verify-pairs", "hookwarden-pairs", "1KiB", 1.3),
    ("webhook-verify", "hookwarden", "64B", 1.8),
    ("webhook-verify-pairs", "hookwarden-pairs", "64B", 1.8),
]
RAW_TARGET = 1.15
DEFAULT_BENCH_COMMAND = (
    "for n in 1 2 3; do\n"
    "  (cd crates/hookwarden-peers &&\n"
    "   CARGO_TARGET_DIR=/work/target-peers CRITERION_HOME=/work/target-peers/criterion-run$n \\\n"
    "       cargo bench --bench peers)\n"
    "done"
)


def load_run(directory):
    """{(scheme, size, impl): median ns} for one criterion directory."""
    out = {}
    for bench in pathlib.Path(directory).glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        group = meta.get("group_id", "")
        parts = group.split("/")
        if len(parts) != 3 or parts[0] != "peers":
            continue
        estimates = json.loads((bench.parent / "estimates.json").read_text())
        key = (parts[1], parts[2], meta.get("function_id"))
        out[key] = estimates["median"]["point_estimate"]
    return out


def fmt_time(ns):
    if ns < 1_000:
        return f"{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.2f} µs"
    return f"{ns / 1_000_000:.3f} ms"


def fmt_ratio(r):
    return f"{r:.2f}×" if r < 10 else f"{r:.1f}×"


def median_of(runs, key):
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else None


def ratio_per_run(runs, num, den):
    """num/den within each run where both were measured."""
    return [r[num] / r[den] for r in runs if num in r and den in r]


def machine():
    model, flags, cpus = "unknown", "", 0
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = line.split(":", 1)[1]
            elif line.startswith("processor"):
                cpus += 1
    except OSError:
        pass
    sha_ni = "sha_ni" in flags.split()
    try:
        rustc = subprocess.run(
            ["rustc", "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        rustc = "rustc (unknown)"
    try:
        load = open("/proc/loadavg", encoding="utf-8").read().split()[:3]
    except OSError:
        load = ["?"] * 3
    return model, sha_ni, cpus or os.cpu_count(), rustc, load


def lock_versions(repo):
    """Versions of the peer crates in the peers crate's own Cargo.lock."""
    wanted = {"standardwebhooks", "svix", "webhook-verify", "criterion"}
    found = {}
    try:
        text = (repo / "crates/hookwarden-peers/Cargo.lock").read_text()
    except OSError:
        return found
    for m in re.finditer(r'\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"', text):
        if m.group(1) in wanted:
            found[m.group(1)] = m.group(2)
    return found


def git_head(repo):
    try:
        return subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def scheme_table(runs, scheme, title):
    present = [
        (i, label) for i, label in IMPLS
        if any((scheme, s, i) in r for r in runs for s in SIZES)
    ]
    if not present:
        return []
    lines = [
        f"### {title}",
        "",
        "Median time per `verify` (× = how many times the hookwarden row's time, in the same "
        "run; raw = how many times the raw HMAC's):",
        "",
        "| implementation | " + " | ".join(SIZE_LABEL[s] for s in SIZES) + " |",
        "|---|" + "---|" * len(SIZES),
    ]
    for impl, label in present:
        cells = []
        for size in SIZES:
            key = (scheme, size, impl)
            t = median_of(runs, key)
            if t is None:
                cells.append("–")
                continue
            cell = fmt_time(t)
            notes = []
            base = "hookwarden-pairs" if impl.endswith("-pairs") else "hookwarden"
            if impl not in ("raw-hmac", "hookwarden", "hookwarden-pairs"):
                r = ratio_per_run(runs, key, (scheme, size, base))
                if r:
                    notes.append(f"{fmt_ratio(statistics.median(r))} hw")
            if impl != "raw-hmac":
                r = ratio_per_run(runs, key, (scheme, size, "raw-hmac"))
                if r:
                    notes.append(f"{fmt_ratio(statistics.median(r))} raw")
            if notes:
                cell += " (" + ", ".join(notes) + ")"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def verdict(values, ok):
    met = sum(1 for v in values if ok(v))
    if met == len(values):
        return "**met**"
    if met == 0:
        return "**missed**"
    return f"met in {met} of {len(values)} runs"


def targets_table(runs):
    lines = [
        "### Targets (issue #7)",
        "",
        "Each run's ratio, in run order.",
        "",
        "| scheme | target | size | per run | median | verdict |",
        "|---|---|---|---|---|---|",
    ]
    names = dict(IMPLS)
    for scheme, title in SCHEMES:
        for peer, hw, size, goal in TARGETS:
            r = ratio_per_run(runs, (scheme, size, peer), (scheme, size, hw))
            if not r:
                continue
            peer_label = names[peer].replace("**", "")
            hw_label = "hookwarden" if hw == "hookwarden" else "hookwarden (pairs)"
            lines.append(
                f"| {title} | {hw_label} ≥ {goal}× faster than {peer_label} | "
                f"{SIZE_LABEL[size]} | {' / '.join(f'{x:.2f}×' for x in r)} | "
                f"{statistics.median(r):.2f}× | {verdict(r, lambda x, g=goal: x >= g)} |"
            )
        for hw in ("hookwarden", "hookwarden-pairs"):
            r = ratio_per_run(runs, (scheme, "1KiB", hw), (scheme, "1KiB", "raw-hmac"))
            if not r:
                continue
            hw_label = "hookwarden" if hw == "hookwarden" else "hookwarden (pairs)"
            lines.append(
                f"| {title} | {hw_label} ≤ {RAW_TARGET}× the raw HMAC | 1 KiB | "
                f"{' / '.join(f'{x:.2f}×' for x in r)} | {statistics.median(r):.2f}× | "
                f"{verdict(r, lambda x: x <= RAW_TARGET)} |"
            )
    lines.append("")
    return lines


def render(runs, dirs, repo, command):
    model, sha_ni, cpus, rustc, load = machine()
    versions = lock_versions(repo)
    peers = ", ".join(
        f"{n} {versions[n]}" for n in ("standardwebhooks", "svix", "webhook-verify") if n in versions
    )
    script_cmd = "python3 crates/hookwarden-peers/scripts/peers-table.py " + " ".join(
        str(d) for d in dirs
    )
    lines = [
        "Generated by `crates/hookwarden-peers/scripts/peers-table.py` from criterion's "
        "output; edit the script, not this section.",
        "",
        f"- Machine: `{model}` (/proc/cpuinfo), {cpus} logical CPUs, SHA-NI: "
        f"{'yes (`sha_ni` flag present)' if sha_ni else 'no (`sha_ni` flag absent)'}; "
        f"{rustc}; criterion {versions.get('criterion', '?')}, `bench` profile. "
        f"Load average when the tables were generated: {' '.join(load)}.",
        "- A virtual machine whose speed drifts from one benchmark to the next even when "
        "nothing else runs (and more when it is shared): absolute times are noisy, so "
        "compare ratios within a run. Each figure is criterion's median; each "
        f"ratio is taken within one run, and the tables show the median over {len(runs)} "
        f"run{'s' if len(runs) != 1 else ''} (times and ratios each the median of their own "
        "per-run values).",
        f"- Peers: {peers}; all fed the same secret, body and `http::HeaderMap` (signed with "
        "the current time; every implementation reads the system clock), each checked to "
        "accept the delivery before it is measured. `Vec<(&str, &str)>` rows: the same headers "
        "as a vector of pairs, webhook-verify's cheapest header type (its `http::HeaderMap` "
        "look-up builds a `HeaderName` per call). Raw HMAC: an `Hmac<Sha256>` keyed once and "
        "cloned per call, fed exactly the bytes the scheme signs (`id.ts.body`, `t.body` or "
        "the body), checked equal to the signature sent.",
        f"- Commit {git_head(repo)}, {datetime.date.today().isoformat()}. Commands (one run "
        "takes about 4.5 minutes):",
        "",
        "  ```",
        *("  " + l for l in command.splitlines()),
        # From the repository's root, like the command (once, if the command has it).
        *([] if script_cmd in command else ["  " + script_cmd]),
        "  ```",
        "",
    ]
    for scheme, title in SCHEMES:
        lines += scheme_table(runs, scheme, title)
    lines += targets_table(runs)
    return "\n".join(lines).rstrip() + "\n"


def rewrite(path, body):
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{BEGIN}\n{body}{END}"
    if BEGIN in text and END in text:
        start = text.index(BEGIN)
        end = text.index(END) + len(END)
        text = text[:start] + block + text[end:]
    else:
        text = text.rstrip("\n") + f"\n\n{HEADING}\n\n{block}\n"
    path.write_text(text)


def main():
    repo = pathlib.Path(__file__).resolve().parents[3]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="*", default=["target/criterion"],
                        help="criterion directories, one per run (default target/criterion)")
    parser.add_argument("--benchmarks", type=pathlib.Path, default=repo / "BENCHMARKS.md",
                        help="the file whose Peers section is rewritten")
    parser.add_argument("--print-only", action="store_true",
                        help="print the tables, leave BENCHMARKS.md alone")
    parser.add_argument("--command", default=DEFAULT_BENCH_COMMAND,
                        help="the bench command to state")
    args = parser.parse_args()
    runs = [load_run(d) for d in args.dirs]
    empty = [d for d, r in zip(args.dirs, runs) if not r]
    if empty:
        sys.exit(f"no peers/* criterion results in: {', '.join(empty)}")
    body = render(runs, args.dirs, repo, args.command)
    print(body)
    if not args.print_only:
        rewrite(args.benchmarks, body)
        print(f"rewrote the Peers section of {args.benchmarks}", file=sys.stderr)


if __name__ == "__main__":
    main()
