"""What one soak run measured, the pass/fail rules, and the printed summary."""

from __future__ import annotations

import collections
import threading
from dataclasses import asdict, dataclass, field, fields, is_dataclass

from procstat import Snapshot
from verify import Verification


class HostileTally:
    """Outcomes of hostile inputs by case; the ones outside a case's expected set are kept."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent = 0
        self.outcomes: collections.Counter = collections.Counter()
        self.misbehaved: dict[str, str] = {}
        self.unusable: dict[str, str] = {}

    def record(self, outcome) -> None:
        with self.lock:
            self.sent += 1
            self.outcomes[outcome.outcome] += 1
            if not outcome.expected and outcome.case not in self.misbehaved:
                self.misbehaved[outcome.case] = f"{outcome.outcome} ({outcome.detail})"[:240]
            if not outcome.connection_usable and outcome.case not in self.unusable:
                self.unusable[outcome.case] = outcome.detail[:240]


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


@dataclass
class SoakReport:
    seconds: int
    connections: int
    workers: int
    droppers: int
    hostile_sockets: int
    rss_tolerance_mib: int
    hostile: HostileTally = field(default_factory=HostileTally)       # phase 1, one of each
    hostile_load: HostileTally = field(default_factory=HostileTally)  # phase 3
    killed: list[str] = field(default_factory=list)
    hung: list[str] = field(default_factory=list)
    load_survived: bool = False
    stuck_threads: list[str] = field(default_factory=list)
    ops: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    bytes_up: int = 0
    bytes_down: int = 0
    start: Snapshot | None = None
    end: Snapshot | None = None
    peak_rss_kib: int = 0
    hwm_kib: int = 0
    peak_fds: int = 0
    peak_sockets: int = 0
    files_expected: int = 0
    verified_before: Verification | None = None
    verified_after: Verification | None = None
    alive_at_end: bool = False
    daemon_log_tail: str = ""

    def failures(self) -> list[str]:
        """Every broken promise; empty means the run passed."""
        out = [f"hostile input killed the daemon: {k}" for k in self.killed]
        out += [f"hostile input hung the daemon: {h}" for h in self.hung]
        if not self.load_survived:
            out.append("the daemon did not survive the load")
        if self.stuck_threads:
            out.append(f"clients still running long after the deadline: {self.stuck_threads[:5]}")
        if self.ops.get("errors"):
            out.append(f"{self.ops['errors']} errors on well-behaved clients, e.g. {self.errors[:3]}")
        for label, check in (("before", self.verified_before), ("after", self.verified_after)):
            if check is None:
                out.append(f"files not verified {label} the restart")
            elif check.bad or check.files != self.files_expected:
                out.append(f"{label} the restart: {len(check.bad)} of {check.files} files damaged "
                           f"({self.files_expected} acknowledged), e.g. {check.bad[:3]}")
        if not self.alive_at_end:
            out.append("the restarted daemon did not answer ping")
        if self.start and self.end:
            if self.end.sockets > self.start.sockets:
                out.append(f"sockets not back to start: {self.start.sockets} → {self.end.sockets}")
            if self.end.others > self.start.others:
                out.append(f"non-file descriptors not back to start: {self.start.others} → {self.end.others}")
            if self.end.rss_kib > self.start.rss_kib + self.rss_tolerance_mib * 1024:
                out.append(f"RSS {mib(self.end.rss_kib)} at the end, more than {self.rss_tolerance_mib} MiB "
                           f"over the start ({mib(self.start.rss_kib)})")
        elif self.load_survived:
            out.append("RSS/descriptors not measured")
        return out

    def summary(self) -> str:
        lines = [f"=== soak: {self.seconds} s, {self.connections} connections ({self.workers} pymongo workers "
                 f"sharing one pool, {self.droppers} raw clients dropping connections with cursors open), "
                 f"{self.hostile_sockets} hostile sockets ==="]
        lines.append("operations:")
        for kind, n in sorted(self.ops.items()):
            if kind != "errors":
                lines.append(f"  {kind:40} {n:>9}")
        lines.append(f"  GridFS bytes up / down checked: {self.bytes_up / 2**20:.1f} / {self.bytes_down / 2**20:.1f} MiB")
        lines.append(f"errors on well-behaved clients: {self.ops.get('errors', 0)}")
        lines += [f"  {e}" for e in self.errors[:10]]
        probe = self.hostile
        lines.append(f"hostile inputs, probe (each alone): {probe.sent} sent, outcomes {dict(probe.outcomes)}")
        lines += [f"  KILLED the daemon: {k}" for k in self.killed]
        lines += [f"  HUNG the daemon: {h}" for h in self.hung]
        for name, what in {**probe.misbehaved, **self.hostile_load.misbehaved}.items():
            lines.append(f"  unexpected answer to {name}: {what}")
        for name, what in {**probe.unusable, **self.hostile_load.unusable}.items():
            lines.append(f"  connection unusable after {name}: {what}")
        lines.append(f"hostile inputs during the load: {self.hostile_load.sent} sent, "
                     f"outcomes {dict(self.hostile_load.outcomes)}")
        for label, check in (("before restart", self.verified_before), ("after restart", self.verified_after)):
            if check:
                lines.append(f"files verified {label}: {check.files - len(check.bad)} of {self.files_expected} "
                             f"intact ({check.bytes / 2**20:.1f} MiB)")
        if self.start and self.end:
            lines.append(f"RSS: start {mib(self.start.rss_kib)}, peak {mib(self.peak_rss_kib)} (VmHWM "
                         f"{mib(self.hwm_kib)}), end {mib(self.end.rss_kib)} (tolerance +{self.rss_tolerance_mib} MiB)")
            lines.append(f"descriptors: start {self.start.fds} ({self.start.sockets} sockets, {len(self.start.files)} "
                         f"files, {self.start.others} other), peak {self.peak_fds} ({self.peak_sockets} sockets), "
                         f"end {self.end.fds} ({self.end.sockets} sockets, {len(self.end.files)} files, "
                         f"{self.end.others} other)")
            added = sorted(set(self.end.files) - set(self.start.files))
            if added:
                lines.append(f"  files open at the end but not at the start: {added}")
        failures = self.failures()
        lines.append("RESULT: " + ("PASS" if not failures else "FAIL"))
        lines += [f"  - {f}" for f in failures]
        if failures:
            lines.append(f"daemon log tail: {self.daemon_log_tail}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        data = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name not in ("hostile", "hostile_load"):
                data[f.name] = asdict(value) if is_dataclass(value) else value
        for name in ("hostile", "hostile_load"):
            tally = getattr(self, name)
            data[name] = {"sent": tally.sent, "outcomes": dict(tally.outcomes),
                          "misbehaved": tally.misbehaved, "unusable": tally.unusable}
        data["failures"] = self.failures()
        return data
