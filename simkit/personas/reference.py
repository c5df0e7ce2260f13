"""Reference distributions of Big Five scores that a persona set is aligned to.

Two sources: a shipped JSON of aggregate statistics (means, SDs, correlations, quantiles;
no respondent rows), read as a Gaussian copula with the empirical marginals (respects the
1-5 bounds and the skew of O and A) or as a plain multivariate normal truncated to the
bounds; or a user's own sample of scores (CSV or JSONL). Both answer the two questions
alignment and reporting ask: "draw n reference people" and "draw n evenly spread
reference points" (quasi-random, for the optimal-transport selection step).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats
from scipy.interpolate import PchipInterpolator

from simkit.errors import UsageError
from simkit.personas.model import TRAITS

SHIPPED = Path(__file__).resolve().parents[2] / "personas" / "ipip50_reference.json"
MODELS = ("copula", "mvn")


class Reference:
    """A distribution over 5-D trait vectors (columns in `TRAITS` order, 1-5 scale)."""

    label: str = "reference"
    source: str = ""

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def spread(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n points that cover the distribution more evenly than a random draw, in an order
        whose every prefix is itself spread out."""
        return self.sample(n, rng)


@dataclass
class AggregateReference(Reference):
    """Aggregate statistics, sampled as a copula (default) or a truncated MVN."""

    mean: np.ndarray
    sd: np.ndarray
    corr: np.ndarray
    quantile_p: np.ndarray | None
    quantiles: np.ndarray | None  # (len(p), 5)
    bounds: tuple[float, float] = (1.0, 5.0)
    resolution: float | None = 0.1
    model: str = "copula"
    label: str = "reference"
    source: str = ""

    def __post_init__(self):
        self._chol = np.linalg.cholesky(self.corr)
        if self.model == "copula":
            lo, hi = self.bounds
            p = np.concatenate([[0.0], self.quantile_p, [1.0]])
            self._inverse_cdf = [
                PchipInterpolator(p, np.concatenate([[lo], self.quantiles[:, k], [hi]]))
                for k in range(len(TRAITS))
            ]

    def _from_normal(self, z: np.ndarray) -> np.ndarray:
        z = z @ self._chol.T
        if self.model == "copula":
            u = stats.norm.cdf(z)
            x = np.column_stack([f(u[:, k]) for k, f in enumerate(self._inverse_cdf)])
        else:
            x = self.mean + z * self.sd
        if self.resolution:
            x = np.round(x / self.resolution) * self.resolution
        return np.clip(x, *self.bounds)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.model == "copula":
            return self._from_normal(rng.standard_normal((n, len(TRAITS))))
        out = np.empty((0, len(TRAITS)))
        while len(out) < n:  # truncated MVN: redraw rows that fall outside the bounds
            x = self.mean + (rng.standard_normal((2 * n, len(TRAITS))) @ self._chol.T) * self.sd
            x = x[np.all((x >= self.bounds[0]) & (x <= self.bounds[1]), axis=1)]
            out = np.vstack([out, x])
        out = out[:n]
        if self.resolution:
            out = np.clip(np.round(out / self.resolution) * self.resolution, *self.bounds)
        return out

    def spread(self, n: int, rng: np.random.Generator) -> np.ndarray:
        sobol = stats.qmc.Sobol(d=len(TRAITS), scramble=True, seed=rng)
        u = sobol.random_base2(max(1, int(np.ceil(np.log2(n)))))[:n]  # every prefix is spread out too
        z = stats.norm.ppf(np.clip(u, 1e-9, 1 - 1e-9))
        return self._from_normal(z)  # MVN points past the bounds are clipped, keeping the even spread


@dataclass
class SampleReference(Reference):
    """A user-supplied sample of scores, drawn from without replacement where possible."""

    rows: np.ndarray
    label: str = "reference sample"
    source: str = ""

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        replace = n > len(self.rows)
        return self.rows[rng.choice(len(self.rows), size=n, replace=replace)]


def load_reference(path: Path | str | None = None, model: str = "copula") -> Reference:
    """Read the shipped aggregates (default), another aggregate JSON, or a sample file
    (.csv with O,C,E,A,N columns; .jsonl of personas or of {"O":..,...} rows)."""
    if model not in MODELS:
        raise UsageError(f"reference model {model!r}: choose one of {', '.join(MODELS)}")
    path = Path(path) if path else SHIPPED
    if not path.exists():
        raise UsageError(f"{path}: reference file not found")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _aggregate(path, model)
    if suffix == ".csv":
        return _sample(path, _csv_rows(path))
    if suffix == ".jsonl":
        return _sample(path, _jsonl_rows(path))
    raise UsageError(f"{path}: reference must be .json (aggregates), .csv or .jsonl (a sample of scores)")


def _aggregate(path: Path, model: str) -> AggregateReference:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object of aggregate statistics")
    traits = data.get("traits", list(TRAITS))
    if traits != list(TRAITS):
        raise UsageError(f"{path}: traits: expected {list(TRAITS)}, got {traits}")

    def array(key: str, shape: tuple[int, ...]) -> np.ndarray:
        if key not in data:
            raise UsageError(f"{path}: {key}: required key is missing")
        try:
            value = np.asarray(data[key], dtype=float)
        except (TypeError, ValueError):
            raise UsageError(f"{path}: {key}: expected numbers") from None
        if value.shape != shape or not np.all(np.isfinite(value)):
            raise UsageError(f"{path}: {key}: expected {'x'.join(map(str, shape))} finite numbers")
        return value

    mean, sd, corr = array("mean", (5,)), array("sd", (5,)), array("corr", (5, 5))
    if np.any(sd <= 0):
        raise UsageError(f"{path}: sd: every standard deviation must be positive")
    if not np.allclose(corr, corr.T) or not np.allclose(np.diag(corr), 1):
        raise UsageError(f"{path}: corr: must be symmetric with ones on the diagonal")
    if np.linalg.eigvalsh(corr).min() <= 0:
        raise UsageError(f"{path}: corr: not positive definite")
    bounds = data.get("bounds", [1, 5])
    if (not isinstance(bounds, list) or len(bounds) != 2 or not all(_number(b) for b in bounds)
            or bounds[0] >= bounds[1]):
        raise UsageError(f"{path}: bounds: expected [low, high] with low < high")
    resolution = data.get("resolution")
    if resolution is not None and not (_number(resolution) and resolution > 0):
        raise UsageError(f"{path}: resolution: expected a positive number or null")
    qp = qs = None
    quantiles = data.get("quantiles")
    if quantiles is not None:
        try:
            qp = np.asarray(quantiles["p"], dtype=float)
            qs = np.column_stack([np.asarray(quantiles[t], dtype=float) for t in TRAITS])
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"{path}: quantiles: needs 'p' and one list per trait ({exc})") from None
        if qs.shape[0] != len(qp) or np.any(np.diff(qp) <= 0) or qp[0] <= 0 or qp[-1] >= 1:
            raise UsageError(f"{path}: quantiles: p must rise strictly inside (0, 1), one value per p")
        if np.any(np.diff(qs, axis=0) < 0):
            raise UsageError(f"{path}: quantiles: values must not decrease with p")
    elif model == "copula":
        model = "mvn"  # no marginals to map through: the copula reduces to the normal
    return AggregateReference(
        mean=mean, sd=sd, corr=corr, quantile_p=qp, quantiles=qs, bounds=(float(bounds[0]), float(bounds[1])),
        resolution=resolution, model=model,
        label=f"{data.get('id', path.stem)} ({model})", source=str(data.get("source", "")),
    )


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _sample(path: Path, rows: list[list[float]]) -> SampleReference:
    if len(rows) < 2:
        raise UsageError(f"{path}: a reference sample needs at least 2 rows of scores")
    array = np.asarray(rows, dtype=float)
    return SampleReference(rows=array, label=f"{path.name} (sample of {len(array)})", source=str(path))


def _row(path: Path, where: str, record: dict) -> list[float]:
    scores = record.get("big_five", record) if isinstance(record, dict) else None
    if not isinstance(scores, dict):
        raise UsageError(f"{path}:{where}: expected an object with scores {', '.join(TRAITS)}")
    values = []
    for t in TRAITS:
        if t not in scores or scores[t] in (None, ""):
            raise UsageError(f"{path}:{where}: trait {t} is missing")
        try:
            value = float(scores[t])
        except (TypeError, ValueError):
            raise UsageError(f"{path}:{where}: {t}: not a number ({scores[t]!r})") from None
        if not 1 <= value <= 5:
            raise UsageError(f"{path}:{where}: {t}: {value} is outside the 1-5 scale")
        values.append(value)
    return values


def _csv_rows(path: Path) -> list[list[float]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [t for t in TRAITS if t not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(f"{path}: header lacks the trait columns {', '.join(missing)}")
        return [_row(path, str(i), r) for i, r in enumerate(reader, 2)]


def _jsonl_rows(path: Path) -> list[list[float]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UsageError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
                rows.append(_row(path, str(lineno), record))
    return rows
