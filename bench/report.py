"""Turns the raw per-run results into docs/benchmarks.md (table, targets, machine) and a PNG chart."""

from __future__ import annotations

import statistics
from pathlib import Path

# (key, label, unit, higher is better)
METRICS = [
    ("large_up", "256 MiB file, upload", "MiB/s", True),
    ("large_down", "256 MiB file, download", "MiB/s", True),
    ("small_up", "1,000 × 10 KiB, upload", "files/s", True),
    ("small_down", "1,000 × 10 KiB, download", "files/s", True),
    ("small_find", "1,000 × 10 KiB, find({}) listing", "files/s", True),
    ("single_up", "1 client, 32 MiB upload", "MiB/s", True),
    ("single_down", "1 client, 32 MiB download", "MiB/s", True),
    ("single_total", "1 client, 32 MiB up+down", "MiB/s", True),
    ("conc_total", "8 clients, 32 MiB up+down each (aggregate)", "MiB/s", True),
    ("big_by_name", "100k bucket: download by name", "ms", False),
    ("empty_by_name", "small bucket: download by name", "ms", False),
    ("big_prefix", "100k bucket: prefix listing ^abc", "ms", False),
    ("empty_prefix", "small bucket: prefix listing ^abc", "ms", False),
]


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fmt(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def series(runs: list[dict], system: str, key: str) -> list:
    return [run.get(system, {}).get(key, "not run") for run in runs]


def ratios(runs: list[dict], a: str, b: str, key: str) -> list[float]:
    """Per-run a/b for runs where both measured."""
    out = []
    for va, vb in zip(series(runs, a, key), series(runs, b, key)):
        if _num(va) and _num(vb) and vb > 0:
            out.append(va / vb)
    return out


def median_range(values: list[float]) -> str:
    return f"{_fmt(statistics.median(values))} ({_fmt(min(values))}–{_fmt(max(values))})"


def cell(runs: list[dict], system: str, key: str, base: str) -> str:
    values = series(runs, system, key)
    nums = [v for v in values if _num(v)]
    errors = [v for v in values if not _num(v)]
    if not nums:
        return f"**failed**: {errors[0] if errors else 'no data'}"
    text = median_range(nums)
    if system != base:
        r = ratios(runs, system, base, key)
        if r:
            text += f"<br>×{_fmt(statistics.median(r))} ({_fmt(min(r))}–{_fmt(max(r))})"
    if errors:
        text += f"<br>{len(errors)}/{len(values)} runs failed: {errors[0]}"
    return text


def compression_lines(runs: list[dict], large_mib: int) -> list[str]:
    """The OP_COMPRESSED rows (gridlite only): the large file per compressor and content kind."""
    measured = [run["gridlite"] for run in runs if "z_snappy_random_up" in run.get("gridlite", {})]
    if not measured:
        return []

    def value(key: str) -> str:
        nums = [r[key] for r in measured if _num(r.get(key))]
        if not nums:
            errors = [r.get(key, "not run") for r in measured]
            return f"**failed**: {errors[0]}"
        return median_range(nums) if len(nums) > 1 else _fmt(nums[0])

    lines = ["## OP_COMPRESSED (gridlite)", "",
             f"The {large_mib} MiB file up and down through pymongo with `compressors=` each compressor "
             "(both ends compress and inflate on this machine; loopback has no slow link to save), on the "
             "random content above and on log-like text (snappy keeps ~25 %, zlib ~14 %, zstd ~9 %). "
             f"{len(measured)} run(s); MiB/s.", "",
             "| compressor | random up | random down | text up | text down |", "|---|---|---|---|---|",
             f"| none | {value('large_up')} | {value('large_down')} | {value('z_none_text_up')} | "
             f"{value('z_none_text_down')} |"]
    for compressor in ("snappy", "zlib", "zstd"):
        cells = [value(f"z_{compressor}_{kind}_{way}") for kind in ("random", "text") for way in ("up", "down")]
        lines.append(f"| {compressor} | " + " | ".join(cells) + " |")
    return lines + [""]


def targets(runs: list[dict], rss: dict, base: str = "gridlite") -> list[tuple[str, str, str]]:
    """(target, measured, verdict) rows."""
    rows = []

    def ratio_target(label, key, other, factor, fallback_key=None):
        r = ratios(runs, base, other, key)
        note = ""
        if not r and fallback_key:
            r = ratios(runs, base, other, fallback_key)
            note = f" (on {fallback_key.replace('_', ' ')}: {other} failed the 256 MiB download)"
        if not r:
            rows.append((label, f"no comparable runs ({other} failed)", "n/a"))
            return
        m = statistics.median(r)
        rows.append((label, f"×{_fmt(m)} ({_fmt(min(r))}–{_fmt(max(r))}){note}", "met" if m >= factor else "not met"))

    ratio_target("upload 256 MiB ≥ 0.85 × ceiling", "large_up", "ceiling", 0.85)
    ratio_target("download 256 MiB ≥ 0.70 × ceiling", "large_down", "ceiling", 0.70)
    ratio_target("upload ≥ 2 × NeoSQLite", "large_up", "NeoSQLite", 2.0)
    ratio_target("upload ≥ 7 × NX-27017", "large_up", "NX-27017", 7.0)
    ratio_target("download ≥ 5 × NX-27017", "large_down", "NX-27017", 5.0, fallback_key="single_down")
    ratio_target("small files upload/s ≥ 0.80 × ceiling", "small_up", "ceiling", 0.80)
    ratio_target("small files download/s ≥ 0.80 × ceiling", "small_down", "ceiling", 0.80)
    peak = rss.get("rss_peak_mib")
    if _num(peak):
        verified = rss.get("rss_verified")
        rows.append(("daemon peak RSS ≤ 150 MiB through 1 GiB up+down",
                     f"{peak:.0f} MiB VmHWM (content verified: {verified})",
                     "met" if peak <= 150 and verified else "not met"))
    else:
        rows.append(("daemon peak RSS ≤ 150 MiB through 1 GiB up+down", str(peak), "not met"))
    errors = [v for v in series(runs, base, "conc_errors")]
    totals = series(runs, base, "conc_total")
    failed = [v for v in totals if not _num(v)] + [v for v in errors if _num(v) and v > 0]
    r = ratios(runs, base, base, "conc_total")
    agg = [a / s for a, s in zip(totals, series(runs, base, "single_total")) if _num(a) and _num(s)]
    if failed or not agg:
        rows.append(("8 concurrent clients: no errors, aggregate ≥ single-client",
                     f"errors: {failed[0] if failed else 'no data'}", "not met"))
    else:
        m = statistics.median(agg)
        rows.append(("8 concurrent clients: no errors, aggregate ≥ single-client",
                     f"no errors; aggregate/single ×{_fmt(m)} ({_fmt(min(agg))}–{_fmt(max(agg))})",
                     "met" if m >= 1.0 else "not met"))
    for label, big, small in (("by-name download", "big_by_name", "empty_by_name"),
                              ("prefix listing", "big_prefix", "empty_prefix")):
        pairs = [a / b for a, b in zip(series(runs, base, big), series(runs, base, small)) if _num(a) and _num(b)]
        if not pairs:
            rows.append((f"100k bucket {label} ≤ 1.5 × small-bucket latency", "failed", "not met"))
            continue
        m = statistics.median(pairs)
        rows.append((f"100k bucket {label} ≤ 1.5 × small-bucket latency",
                     f"×{_fmt(m)} ({_fmt(min(pairs))}–{_fmt(max(pairs))})", "met" if m <= 1.5 else "not met"))
    del r
    return rows


def chart(runs: list[dict], systems: list[str], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    panels = [m for m in METRICS if m[3]][:9]
    fig, axes = plt.subplots(3, 3, figsize=(15, 11))
    colors = ["#1f77b4", "#7f7f7f", "#ff7f0e", "#2ca02c", "#d62728"]
    for ax, (key, label, unit, _) in zip(axes.flat, panels):
        for i, system in enumerate(systems):
            nums = [v for v in series(runs, system, key) if _num(v)]
            if nums:
                med = statistics.median(nums)
                ax.bar(i, med, color=colors[i % len(colors)],
                       yerr=[[med - min(nums)], [max(nums) - med]], capsize=4)
            else:
                ax.bar(i, 0, color=colors[i % len(colors)])
                ax.text(i, 0, "failed", ha="center", va="bottom", color="red", fontsize=9)
        ax.set_xticks(range(len(systems)), systems, fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.set_ylabel(unit)
    fig.suptitle("Throughput per system (median of runs, bars span min–max); higher is better")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def markdown(runs: list[dict], systems: list[str], rss: dict, peaks: dict, builds: dict,
             machine: list[str], config: dict, chart_name: str, elapsed: float) -> str:
    base = systems[0]
    lines = ["# Benchmarks", "",
             "Generated by `make bench` (bench/run_bench.py); do not edit by hand — rerun instead.", "",
             "The same pymongo `gridfs.GridFSBucket` code (default 255 KiB chunks, random content, every "
             "download verified by SHA-256) runs against: **gridlite** (release build, fresh data directory, "
             "default durability); **ceiling**, an in-memory server built for the bench "
             "(Sources/gridlite-ceiling) that answers the same commands with no storage work — the most "
             "any server can deliver to pymongo on this machine; **NX-27017** (NeoSQLite's wire server, "
             "its defaults); and **NeoSQLite** in-process through its own `GridFSBucket` (no network, "
             "no wire protocol).", "",
             f"Each cell: median of {len(runs)} runs (min–max). Under it, ×ratio to {base} in the same run "
             "(median, min–max): above 1 means more throughput than gridlite for MiB/s and files/s rows, "
             "and slower (higher latency) for ms rows. Failures are shown with their error.", "",
             "| workload | " + " | ".join(systems) + " |",
             "|---|" + "---|" * len(systems)]
    for key, label, unit, _ in METRICS:
        lines.append(f"| {label} ({unit}) | " + " | ".join(cell(runs, s, key, base) for s in systems) + " |")
    peak_cells = []
    for s in systems:
        p = peaks.get(s)
        peak_cells.append(f"{p / 1024:.0f} MiB" if p else "n/a (in-process)")
    lines.append("| daemon peak RSS over the whole session (VmHWM) | " + " | ".join(peak_cells) + " |")
    lines += [""] + compression_lines(runs, config.get("large_mib", 0))
    lines += [f"![throughput per system]({chart_name})", "",
              "## Targets (gridlite)", "", "| target | measured | verdict |", "|---|---|---|"]
    for target, measured, verdict in targets(runs, rss, base):
        lines.append(f"| {target} | {measured} | {verdict} |")
    lines += ["",
              f"Peak RSS target: a fresh gridlite daemon streamed {config['rss_mib']} MiB up and back down "
              f"through one file (8 MiB writes and reads); upload {_fmt(rss.get('rss_up_mibs', 0) or 0)} MiB/s, "
              f"download {_fmt(rss.get('rss_down_mibs', 0) or 0)} MiB/s.", "",
              "## Method", "",
              f"- Runs: {len(runs)}; in each run every system runs every workload, systems in a rotated "
              "order (so background load on the shared machine is spread across systems).",
              f"- One large file: {config['large_mib']} MiB, `upload_from_stream` then "
              "`open_download_stream(id).read()`.",
              f"- Small files: {config['small_count']} files of {config['small_kib']} KiB uploaded one by one, "
              "downloaded one by one by id, then `find({})` listing them all.",
              f"- Concurrency: {config['clients']} client processes (started beforehand, released together by "
              f"a barrier) each upload then download their own {config['client_mib']} MiB file; aggregate = "
              "all bytes moved / wall time until the last client finished. The 1-client row is the same "
              "with one process.",
              f"- Lookups: a bucket of {config['bucket_files']:,} files (100 of them named `abc-NNN`, spread "
              "evenly; the rest `file-NNNNNN`) against a small bucket holding only the same 100 `abc-` files "
              "(an otherwise empty bucket, so that by-name downloads have something to find); the two "
              "buckets take turns call by call. By-name: median of repeated `open_download_stream_by_name(name).read()`; prefix: median of "
              "`list(find({filename: {$regex: '^abc'}}))`, which must return the 100 files. Wire servers "
              "gridlite and ceiling get the bucket as the files/chunks documents pymongo's GridFS writes, "
              "through `insert_many` in batches of 10,000, plus GridFS's two indexes. NeoSQLite gets "
              "`upload_from_stream` per file through its own GridFSBucket; so does NX-27017, into its "
              "database file (NX-27017 serves NeoSQLite's GridFS tables and does not treat documents "
              "inserted into `<bucket>.files` through the wire as GridFS files). Buckets, not "
              "databases, keep workloads apart, because NX-27017 by default keeps every logical "
              "database in one SQLite file. Build times (s): "
              + ", ".join(f"{s} {_fmt(t)}" if _num(t) else f"{s} failed: {t}" for s, t in builds.items()) + ".",
              f"- Whole `make bench` measurement phase: {elapsed / 60:.1f} min.", "",
              "## Machine", ""]
    lines += [f"- {m}" for m in machine]
    lines += ["- The machine was shared with other engineers' builds while this ran: absolute numbers are "
              "noisy; the ratios within one run are what to compare.", ""]
    return "\n".join(lines)
