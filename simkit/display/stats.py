"""Statistics that say what they are: replicates, intervals with their labels, two-group tests.

- A replicate is a distinct seed. Runs of one group with the same seed and the same settings
  (config apart from output paths) are identical reruns: they are reported as such and
  counted once (the first run's value stands for them).
- An interval carries what it is (a 95% Student-t interval of the mean), over what (distinct
  seeds) and n; with n = 1 there is none.
- Two groups can be compared by the difference of their means with a 95% interval and a
  named test: Welch's t (unequal variances) or a percentile bootstrap.
- Runs can be grouped by model, by the model of a role (the `run_models` table when the file
  has it, else the config), by scenario, by run, or by any config key (`set:KEY`, e.g. a
  swept `--set`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from simkit.errors import UsageError
from simkit.store.run_config import config_value, settings_fingerprint

LEVEL = 0.95
GROUPINGS = ("model", "role:NAME", "scenario", "run", "set:KEY")


@dataclass(frozen=True)
class Interval:
    """A mean with (when n >= 2) its interval, and what it rests on."""

    mean: float | None
    low: float | None
    high: float | None
    n: int
    method: str = "t"  # "t": Student-t interval of the mean; "pop-sd": mean ± population SD
    over: str = "seeds"  # what the n values are

    @property
    def half_width(self) -> float | None:
        return None if self.low is None or self.high is None else (self.high - self.low) / 2

    @property
    def label(self) -> str:
        """What the interval is, over what, n: "95% t-CI of the mean over 3 seeds"."""
        if self.n < 2:
            return f"single value (n={self.n}, no interval)"
        if self.method == "pop-sd":
            return f"mean ± population SD over {self.n} {self.over}"
        return f"{LEVEL:.0%} t-CI of the mean over {self.n} {self.over}"

    def text(self, digits: int = 3) -> str:
        if self.mean is None:
            return "n/a"
        if self.half_width is None:
            return f"{self.mean:.{digits}g}"
        return f"{self.mean:.{digits}g} ± {self.half_width:.2g}"


def interval(values: Sequence[float | None], method: str = "t", over: str = "seeds") -> Interval:
    vals = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    n = len(vals)
    if n == 0:
        return Interval(None, None, None, 0, method, over)
    mean = sum(vals) / n
    if n < 2:
        return Interval(mean, None, None, 1, method, over)
    if method == "pop-sd":
        sd = float(np.std(vals))
        return Interval(mean, mean - sd, mean + sd, n, method, over)
    sd = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, method, over)


@dataclass(frozen=True)
class Difference:
    """Mean of group B minus mean of group A, its 95% interval and the test behind it."""

    a: str
    b: str
    diff: float | None
    low: float | None
    high: float | None
    p: float | None
    test: str  # "Welch's t" or "bootstrap (10,000 resamples, percentile)"
    n_a: int
    n_b: int

    @property
    def label(self) -> str:
        return f"{self.b} − {self.a}: {LEVEL:.0%} CI by {self.test}, n={self.n_a} and {self.n_b} seeds"


def difference(a_name: str, a: Sequence[float], b_name: str, b: Sequence[float], test: str = "welch",
               seed: int = 0) -> Difference:
    xa = np.asarray([v for v in a if v is not None], dtype=float)
    xb = np.asarray([v for v in b if v is not None], dtype=float)
    if len(xa) == 0 or len(xb) == 0:
        return Difference(a_name, b_name, None, None, None, None, _test_name(test), len(xa), len(xb))
    diff = float(xb.mean() - xa.mean())
    if test == "bootstrap":
        if len(xa) < 2 or len(xb) < 2:
            return Difference(a_name, b_name, diff, None, None, None, _test_name(test), len(xa), len(xb))
        rng = np.random.default_rng(seed)
        boots = rng.choice(xb, (10_000, len(xb))).mean(1) - rng.choice(xa, (10_000, len(xa))).mean(1)
        low, high = np.quantile(boots, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        p = float(min(1.0, 2 * min((boots <= 0).mean(), (boots >= 0).mean())))
        return Difference(a_name, b_name, diff, float(low), float(high), p, _test_name(test), len(xa), len(xb))
    if len(xa) < 2 or len(xb) < 2 or (xa.var() == 0 and xb.var() == 0):
        return Difference(a_name, b_name, diff, None, None, None, _test_name(test), len(xa), len(xb))
    res = stats.ttest_ind(xb, xa, equal_var=False)
    ci = res.confidence_interval(LEVEL)
    return Difference(a_name, b_name, diff, float(ci.low), float(ci.high), float(res.pvalue), _test_name(test),
                      len(xa), len(xb))


def _test_name(test: str) -> str:
    if test == "bootstrap":
        return "bootstrap (10,000 resamples, percentile)"
    if test == "welch":
        return "Welch's t"
    raise UsageError(f"--test: expected welch or bootstrap, got {test!r}")


# -- runs into groups of replicates -------------------------------------------------------------
def _run_models(reader, run_id: str) -> list[dict]:
    if "run_models" not in reader.db.table_names():
        return []
    return list(reader.db.query("select * from run_models where run_id = ?", [run_id]))


def group_of(reader, run: dict, by: str) -> str:
    """The group a run falls in under `--by`."""
    config = json.loads(run["config_json"] or "{}")
    if by == "run":
        return run["run_id"]
    if by == "scenario":
        return str(run["scenario"])
    if by == "model":
        subjects = [r["model"] for r in _run_models(reader, run["run_id"]) if r.get("kind") == "subject"]
        return ", ".join(sorted(set(subjects))) if subjects else str(run["model"])
    if by.startswith("role:"):
        role = by.removeprefix("role:")
        rows = [r for r in _run_models(reader, run["run_id"]) if r["role"] == role]
        if rows:
            return str(rows[0]["model"])
        llm = config.get("llm") or {}
        pinned = ((llm.get("roles") or {}).get(role) or {}).get("model")
        return str(pinned or llm.get("model") or run["model"])
    if by.startswith("set:"):
        key = by.removeprefix("set:")
        value = config_value(config, key)
        return f"{key}={value}" if value is not None else f"{key} unset"
    raise UsageError(f"--by: expected one of {', '.join(GROUPINGS)}, got {by!r}")


@dataclass
class Group:
    """The runs of one group: replicates (distinct seeds) and the identical reruns folded into them."""

    key: str
    runs: list[dict] = field(default_factory=list)  # one per replicate (the first run of each)
    reruns: dict[str, list[str]] = field(default_factory=dict)  # replicate run id -> its identical reruns

    @property
    def seeds(self) -> list[int]:
        return sorted({r["seed"] for r in self.runs})

    @property
    def over(self) -> str:
        """"seeds" when every replicate has its own seed, else "runs" (settings differ too)."""
        return "seeds" if len(self.seeds) == len(self.runs) else "runs"

    @property
    def n_reruns(self) -> int:
        return sum(len(v) for v in self.reruns.values())


def group_runs(reader, run_ids: Sequence[str], by: str, key_of=None) -> list[Group]:
    """Runs grouped under `by` (or by `key_of(run)`), identical reruns (same settings, same
    seed) counted once."""
    groups: dict[str, Group] = {}
    seen: dict[tuple[str, str, int], str] = {}
    for rid in run_ids:
        run = reader.run(rid)
        key = key_of(run) if key_of else group_of(reader, run, by)
        group = groups.setdefault(key, Group(key))
        ident = (key, settings_fingerprint(json.loads(run["config_json"] or "{}")), run["seed"])
        if ident in seen:
            group.reruns.setdefault(seen[ident], []).append(run["run_id"])
            continue
        seen[ident] = run["run_id"]
        group.runs.append(run)
    return list(groups.values())


__all__ = ["Difference", "Group", "Interval", "difference", "group_of", "group_runs", "interval"]
