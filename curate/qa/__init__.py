"""Label QA: every build checks each recording's labels against what its frames show, and
publishes the result as `meta/qa.json` and the card's "Label QA" section.

Silent errors have burnt users of gameplay datasets again and again: camera deltas truncated to
integers, axes swapped, frames and actions a tick apart, events with no action behind them, no-op
stretches while the view moves. Each check gives every episode a value (`checks.episode_qa`,
measured in the build's step); an episode whose value is over the recipe's threshold (`qa:`) is
flagged, a warning in the card and, with `--strict`, a failed build. Tools read the report by
its check names:

    {"checks": {NAME: {"flagged": [episode ids], "threshold": ..., "values": {id: value}}},
     "stats": {"noop_share" | "longest_noop_run" | "gui_share": {id: value}},
     "labels": {space: {label: count}},
     "recorders": {version: {"episodes": n, "flagged": {NAME: [ids]}, "noop_share", "gui_share",
                             "labels"}},
     "left_out": [{"name", "code", "reason"}]}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from curate.qa.checks import CONTRACT_LAG, Value

QA_PATH = "meta/qa.json"

# check -> what its value is, for the card
CHECKS: dict[str, str] = {
    "camera_lag": "ticks from a camera move to the frame that shows it (contract: 1)",
    "camera_gain": "the view's move per recorded degree, over the 70-degree view's (1 is right)",
    "camera_axes": "whether yaw and pitch move the view along their own axes and signs",
    "noop_while_moving": "longest run of no-op ticks while the view turns",
    "frozen_frames": "longest run of ticks turning the camera while the picture stands still",
    "gui_lag": "ticks from a recorded GUI change to the frame that shows it (0 is right)",
    "stuck_input": "longest hold of one key or button, in seconds",
    "orphan_events": "craft_item events with no click in a GUI, mine_block with no attack, "
    "in the 2 s before",
    "camera_clipped": "share of ticks whose camera reaches VPT's 10-degree clip",
}
STATS = ("noop_share", "longest_noop_run", "gui_share")


def over(check: str, value: Value, threshold: float | None) -> bool:
    """Whether an episode's value of `check` is flagged; a value of None never is."""
    if value is None:
        return False
    if check == "camera_axes":
        return value != "ok"
    assert isinstance(value, int | float) and threshold is not None, (check, value)
    if check == "camera_lag":
        return abs(value - CONTRACT_LAG) > threshold
    if check == "camera_gain":
        return abs(value - 1) > threshold
    return abs(value) > threshold


def rule(check: str, threshold: float | None) -> str:
    """When `check` flags an episode, in words."""
    if check == "camera_axes":
        return "anything but ok"
    if check in ("camera_lag", "camera_gain", "gui_lag"):
        right = 0 if check == "gui_lag" else 1
        return f"more than {threshold} from {right}"
    return f"over {threshold}"


def recorder_of(name: str) -> str:
    """The recorder version in a VPT index path (`.../data/6.13/name.jsonl` -> 6.13), else
    "unversioned"."""
    found = re.search(r"(?:^|/)(\d+(?:\.\d+)+)/[^/]+$", name)
    return found[1] if found else "unversioned"


def qa_report(
    episodes: Mapping[str, tuple[str, Mapping[str, Value], Mapping[str, Mapping[str, int]]]],
    thresholds: Mapping[str, float],
    left_out: list[dict[str, str]],
) -> dict:
    """The release's report from each built episode's (recording name, values, label counts
    per space), by episode id."""
    ids = sorted(episodes)
    checks: dict[str, dict] = {}
    for check in CHECKS:
        threshold = thresholds.get(check)
        values = {e: episodes[e][1].get(check) for e in ids}
        flagged = [e for e in ids if over(check, values[e], threshold)]
        checks[check] = {"flagged": flagged, "threshold": threshold, "values": values}
    stats = {name: {e: episodes[e][1].get(name) for e in ids} for name in STATS}
    recorded_by = {e: recorder_of(episodes[e][0]) for e in ids}
    recorders: dict[str, dict] = {}
    for version in sorted(set(recorded_by.values())):
        mine = [e for e in ids if recorded_by[e] == version]
        recorders[version] = {
            "episodes": len(mine),
            "flagged": {
                c: [e for e in checks[c]["flagged"] if recorded_by[e] == version] for c in CHECKS
            },  # fmt: skip
            **{s: _mean(stats[s][e] for e in mine) for s in ("noop_share", "gui_share")},
            "labels": _summed(episodes[e][2] for e in mine),
        }
    return {"checks": checks, "stats": stats, "labels": _summed(episodes[e][2] for e in ids),
            "recorders": recorders, "left_out": left_out}  # fmt: skip


def flagged_lines(report: dict) -> list[str]:
    """One line per check that flagged episodes: what `--strict` and the card's warnings say."""
    lines = []
    for check, result in report["checks"].items():
        if result["flagged"]:
            shown = ", ".join(result["flagged"][:10])
            more = f" and {len(result['flagged']) - 10} more" if len(result["flagged"]) > 10 else ""
            lines.append(f"{check} ({rule(check, result['threshold'])}): {shown}{more}")
    return lines


def _summed(counts: Iterable[Mapping[str, Mapping[str, int]]]) -> dict[str, dict[str, int]]:
    """Label counts per space, added up."""
    total: dict[str, dict[str, int]] = {}
    for per_space in counts:
        for space, labels in per_space.items():
            into = total.setdefault(space, {})
            for label, n in labels.items():
                into[label] = into.get(label, 0) + n
    return {space: dict(sorted(labels.items())) for space, labels in sorted(total.items())}


def _mean(values: Iterable[Value]) -> float | None:
    kept = [v for v in values if isinstance(v, int | float)]
    return round(sum(kept) / len(kept), 4) if kept else None
