"""Printing results: the server and its baseline (the relay, or for files a plain socket
copy) side by side, the ratio, the issue's targets."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final, TextIO

from messenger_server.bench.scenarios import Measurement

BUSY_WARNING: Final = 0.9
"""A generator busier than this may be the limit instead of the target."""
NOISE_WARNING: Final = 0.2
"""Other processes busier than this (in cores) disturb wall-clock figures."""


@dataclass(frozen=True)
class Goal:
    """A target from the issue: ``figure`` of the server compared with ``limit``, either
    as is or as a ratio to the baseline's (``relative``)."""

    figure: str
    at_least: bool
    limit: float
    relative: bool = False

    def describe(self) -> str:
        sign = "≥" if self.at_least else "≤"
        return f"{sign} {self.limit:g}x baseline" if self.relative else f"{sign} {self.limit:g}"

    def met(self, server: float | None, relay: float | None) -> bool | None:
        value = server
        if self.relative:
            if server is None or relay is None or relay == 0:
                return None
            value = server / relay
        if value is None:
            return None
        return value >= self.limit if self.at_least else value <= self.limit


GOALS: Final[dict[str, list[Goal]]] = {
    "direct": [
        Goal("messages/s", True, 0.5, relative=True),
        Goal("CPU µs/message", False, 40.0),
        Goal("latency p99 ms (paced)", False, 20.0),
    ],
    "group": [Goal("deliveries/s", True, 1.0, relative=True)],
    "backlog": [Goal("login → all acked ms", False, 1500.0)],
    "idle": [Goal("KiB/connection", False, 4.0)],
    "logins": [Goal("logins/s", True, 5000.0)],
    "file": [
        Goal("upload MB/s", True, 0.5, relative=True),
        Goal("download MB/s", True, 0.5, relative=True),
        Goal("RSS growth MiB (upload)", False, 32.0),
        Goal("RSS growth MiB (download)", False, 32.0),
        Goal("text latency p99 ms (upload)", False, 100.0),
        Goal("text latency p99 ms (download)", False, 100.0),
    ],
    "prelogin": [Goal("KiB/connection", False, 16.0)],
    "flood": [Goal("p99 flood/quiet", False, 2.0)],
}


@dataclass
class ScenarioResult:
    name: str
    description: str
    measurements: list[Measurement] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(m.valid for m in self.measurements)

    def by_target(self, target: str) -> Measurement | None:
        return next((m for m in self.measurements if m.target == target), None)

    @property
    def baseline(self) -> Measurement | None:
        """What the server is compared with (the relay, or the copy)."""
        return next((m for m in self.measurements if m.target != "server"), None)

    def as_json(self) -> dict[str, object]:
        return {
            "scenario": self.name,
            "description": self.description,
            "valid": self.valid,
            "results": {
                m.target: {
                    "valid": m.valid,
                    "figures": m.figures,
                    "failures": m.failures,
                    "notes": m.notes,
                    "checked": m.checked,
                    "runs": m.runs or [m.figures],
                }
                for m in self.measurements
            },
            "goals": {
                goal.figure: {
                    "goal": goal.describe(),
                    "met": self._goal_met(goal),
                }
                for goal in GOALS.get(self.name, [])
            },
        }

    def _goal_met(self, goal: Goal) -> bool | None:
        server, baseline = self.by_target("server"), self.baseline
        if server is None or not server.valid:
            return None
        baseline_value = baseline.figures.get(goal.figure) if baseline is not None else None
        return goal.met(server.figures.get(goal.figure), baseline_value)


def number(value: float | None, figure: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if "busy" in figure:
        return f"{value * 100:.0f} %"
    if isinstance(value, int):
        return f"{value:,}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_result(result: ScenarioResult, out: TextIO) -> None:
    def write(line: str) -> None:
        print(line, file=out)

    write(f"\n== {result.name}: {result.description}")
    names = [m.target for m in result.measurements]
    for measurement in result.measurements:
        if not measurement.valid:
            write(f"{measurement.target}: INVALID — no figures. What failed:")
            for failure in measurement.failures:
                write(f"  - {failure}")
    valid = [m for m in result.measurements if m.valid]
    if not valid:
        return
    figures = list(dict.fromkeys(f for m in valid for f in m.figures))
    ratio = len(valid) >= 2  # the first measured against the second
    goals = {g.figure: g for g in GOALS.get(result.name, [])} if names[0] == "server" else {}
    header = f"  {'':<30}" + "".join(f"{m.target:>12}" for m in valid)
    if ratio:
        header += f"{valid[0].target + '/' + valid[1].target:>16}"
        header += "   target (issue)" if goals else ""
    write(header)
    for figure in figures:
        values = [m.figures.get(figure) for m in valid]
        line = f"  {figure:<30}" + "".join(f"{number(v, figure):>12}" for v in values)
        if ratio:
            first, second = values[0], values[1]
            quotient = f"{first / second:.2f}x" if first is not None and second else "n/a"
            if "busy" in figure or figure.startswith("paced rate"):
                quotient = ""  # not a property of the target
            line += f"{quotient:>16}"
            goal = goals.get(figure)
            if goal is not None:
                met = result._goal_met(goal)
                verdict = "n/a" if met is None else ("met" if met else "MISSED")
                line += f"   {goal.describe()}: {verdict}"
        write(line)
    for measurement in valid:
        write(f"  {measurement.target} verified: {measurement.checked}")
        for note in measurement.notes:
            write(f"  {measurement.target}: {note}")
        for figure, value in measurement.figures.items():
            during = figure.split("busy", 1)[-1]
            if figure.startswith("generator busy") and value is not None and value > BUSY_WARNING:
                write(
                    f"  {measurement.target}: warning: the load generator was"
                    f" {value * 100:.0f} % busy{during}: its rates may be the generator's"
                    " limit, not the target's"
                )
            if figure.startswith("others busy") and value is not None and value > NOISE_WARNING:
                write(
                    f"  {measurement.target}: warning: other processes kept"
                    f" {value * 100:.0f} % of a core busy{during}: rates and latencies are"
                    " disturbed (CPU per message much less)"
                )


def markdown(results: list[ScenarioResult], out: TextIO) -> None:
    """The results as Markdown tables (for docs/benchmarks.md): one per scenario, every
    figure, the server next to its baseline with the ratio and the issue's targets."""

    def write(line: str) -> None:
        print(line, file=out)

    for result in results:
        write(f"\n**{result.name}** — {result.description}\n")
        measured = result.measurements
        server = measured[0] if measured else None
        relay = measured[1] if len(measured) > 1 else None
        invalid = [m for m in result.measurements if not m.valid]
        for measurement in invalid:
            write(f"{measurement.target}: **invalid**: " + "; ".join(measurement.failures))
        if server is None or not server.valid:
            continue
        goals = {g.figure: g for g in GOALS.get(result.name, [])}
        if server.target != "server":
            goals = {}
        other_name = relay.target if relay is not None else "relay"
        write(
            f"| figure | {server.target} | {other_name} | {server.target} / {other_name}"
            " | target |"
        )
        write("|---|--:|--:|--:|---|")
        for figure, value in server.figures.items():
            other = relay.figures.get(figure) if relay is not None and relay.valid else None
            ratio = ""
            if "busy" not in figure and not figure.startswith("paced rate"):
                ratio = f"{value / other:.2f}x" if value is not None and other else ""
            goal = goals.get(figure)
            verdict = ""
            if goal is not None:
                met = result._goal_met(goal)
                state = "n/a" if met is None else ("met" if met else "**missed**")
                verdict = f"{goal.describe()}: {state}"
            write(
                f"| {figure} | {number(value, figure)} | {number(other, figure)}"
                f" | {ratio} | {verdict} |"
            )
