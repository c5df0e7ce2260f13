"""The Python API (`import simkit`): run, branch, estimate and read runs from a notebook.

    import simkit
    run = simkit.run("scenarios/trendsim.yaml", llm="scripted", out="runs/nb.db")
    run.metrics                     # a pandas DataFrame
    child = run.branch(at=30, set={"attack.share": 0.5})
    run.compare(child)              # final metrics side by side, and where the two diverge
    run.plot("opinion.mean")        # the metric per tick (matplotlib)
    for r in simkit.open("runs/nb.db"): print(r.run_id, r.status)

Inside Jupyter (a running event loop) use `await simkit.arun(...)`; `simkit.run` works
there too (it runs the simulation on a worker thread). The `simkit` command is a layer
over these functions. pandas is an optional extra (`pip install simkit[notebook]`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Callable

from simkit.errors import UsageError

TIME_LABELS = ("hour", "tick", "round", "step")
CORE_TABLES = ("events", "exposures", "llm_calls", "metrics", "judgements", "agents", "agent_state", "ticks")


# -- configuring and running ---------------------------------------------------------------
def _set_path(data: dict, dotted: str, value: Any) -> None:
    node = data
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise UsageError(f"{dotted}: {key} is not a mapping")
    node[keys[-1]] = value


def load(scenario: str | Path | Mapping, *, sets: Mapping[str, Any] | list[str] | None = None, seed: int | None = None,
         llm: str | Mapping | None = None, out: str | Path | None = None):
    """A validated (config, plugin config, source path) from a scenario file or mapping.
    `sets` are overrides as the CLI's `--set` (strings `key=value`) or a mapping of dotted
    keys to values (a key outside the top level is in the plugin's section)."""
    from simkit.config import TOP_LEVEL_KEYS, apply_overrides, parse_llm_flag, read_yaml
    from simkit.engine.runner import configure

    source = None
    if isinstance(scenario, Mapping):
        data = json.loads(json.dumps(dict(scenario), default=str))
    else:
        source = Path(scenario)
        data = read_yaml(source)
    if seed is not None:
        data["seed"] = seed
    if llm is not None:
        data.setdefault("llm", {}).update(parse_llm_flag(llm) if isinstance(llm, str) else dict(llm))
    if out is not None:
        data["output"] = {"db": str(out)}
    if isinstance(sets, Mapping):
        plugin = data.get("plugin")
        for key, value in sets.items():
            head = key.split(".", 1)[0]
            if isinstance(plugin, str) and head not in TOP_LEVEL_KEYS and head != plugin:
                key = f"{plugin}.{key}"
            _set_path(data, key, value)
    elif sets:
        apply_overrides(data, list(sets))
    config, plugin_cfg = configure(data, str(source or "config"))
    return config, plugin_cfg, source


def simulation(scenario=None, *, resume: str | None = None, db: str | Path | None = None, budget: str | None = None, **kw):
    """A prepared `Simulation`: a new run of `scenario`, or (`resume=RUN_ID`) the stored run
    `RUN_ID` of `db` (its stored settings; a branch keeps its fork)."""
    from simkit.engine.budget import Budget
    from simkit.engine.estimate import price_of
    from simkit.engine.runner import Simulation, config_from_run
    from simkit.store.reader import RunReader

    source = None
    if resume:
        if db is None:
            if scenario is None:
                raise UsageError("resume: name the run's database (db=...)")
            db = load(scenario, **kw)[0].output.db
        reader = RunReader.open(Path(db))
        resume = reader.run(resume)["run_id"]
        config, plugin_cfg = config_from_run(reader, resume)
        reader.db.conn.close()
        if kw.get("llm"):  # the backend may change on resume (the server moved), the answers may not
            from simkit.config import parse_llm_flag

            llm = kw["llm"]
            config.llm = config.llm.model_copy(update=parse_llm_flag(llm) if isinstance(llm, str) else dict(llm))
        source = Path(scenario) if isinstance(scenario, (str, Path)) else None
    else:
        config, plugin_cfg, source = load(scenario, **kw)
        db = db or config.output.db
    parsed = Budget.parse(budget, price_of(config.llm.for_role(""))) if budget else None
    return Simulation(config, plugin_cfg, Path(db), source=source, run_id=resume, budget=parsed)


def _in_thread(coro_fn: Callable[[], Any]) -> Any:
    """Run a coroutine to completion on a fresh loop in a worker thread (when the caller
    already has a running loop, as Jupyter does)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro_fn())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["error"] = exc

    t = threading.Thread(target=target, name="simkit-run")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _block(coro_fn: Callable[[], Any]) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_fn())
    return _in_thread(coro_fn)


async def arun(scenario=None, *, resume: str | None = None, db=None, budget: str | None = None, **kw) -> "Run":
    """Run (or resume) a scenario; returns the `Run`. For notebooks: `await simkit.arun(...)`."""
    sim = simulation(scenario, resume=resume, db=db, budget=budget, **kw)
    result = await _run_and_close(sim, bool(resume))
    return Run(result.db_path, result.run_id)


async def _run_and_close(sim, resume: bool):
    """Run a simulation and close its database where it was opened (SQLite connections
    belong to their thread; a notebook's run happens on a worker thread)."""
    try:
        return await sim.run(resume=resume)
    finally:
        if sim.writer is not None:
            sim.writer.close()
            sim.writer = None


def run(scenario=None, *, resume: str | None = None, db=None, budget: str | None = None, **kw) -> "Run":
    """Run (or resume) a scenario to its end (or its budget); returns the `Run`.
    Keywords: `sets` (overrides), `seed`, `llm` ("scripted", "openai:MODEL", ...), `out`."""
    return _block(lambda: arun(scenario, resume=resume, db=db, budget=budget, **kw))


def branch(parent: "Run | str", at: int, set: Mapping[str, Any] | list[str] | None = None, *, db=None, out=None,
           budget: str | None = None, execute: bool = True) -> "Run":
    """A counterfactual branch of `parent` from tick `at` with the changed settings `set`
    (see simkit.engine.branch); run to its end unless `execute=False`."""
    from simkit.engine.branch import create_branch

    if isinstance(parent, Run):
        db, parent = db or parent.db, parent.run_id
    if db is None:
        raise UsageError("branch: name the parent's database (db=...)")
    sets = [f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in (set or {}).items()] if isinstance(set, Mapping) else list(set or [])
    run_id, target, _changes = create_branch(Path(db), parent, at, sets, out=Path(out) if out else None)
    if execute:
        return globals()["run"](resume=run_id, db=target, budget=budget)
    return Run(target, run_id)


def estimate(scenario, **kw):
    """The expected calls, tokens and cost of a run (`simkit.engine.estimate.Estimate`)."""
    from simkit.engine.estimate import estimate as dry_estimate

    config, plugin_cfg, source = load(scenario, **kw)
    return _block(lambda: asyncio.to_thread(dry_estimate, config, plugin_cfg, source))


# -- reading runs --------------------------------------------------------------------------
def _pandas():
    try:
        import pandas
    except ModuleNotFoundError:
        raise UsageError("the notebook API's tables need pandas: pip install 'simkit[notebook]'") from None
    return pandas


class Run:
    """One stored run. Tables are pandas DataFrames, read when asked for."""

    def __init__(self, db: str | Path, run_id: str):
        from simkit.store.reader import RunReader

        self.db = Path(db)
        self._reader = RunReader.open(self.db)
        self.run_id = self._reader.run(run_id)["run_id"]

    def __repr__(self) -> str:
        info = self.info
        return f"<Run {self.run_id} {info['status']} ticks {(info['last_tick'] or 0) + 1}/{info['ticks_total']}>"

    @property
    def info(self) -> dict:
        """The `runs` row (status, counters, lineage)."""
        return self._reader.run(self.run_id)

    @property
    def status(self) -> str:
        return self.info["status"]

    @property
    def config(self) -> dict:
        return json.loads(self.info["config_json"])

    @property
    def health(self) -> list[str]:
        from simkit.engine.health import stored_warnings

        return stored_warnings(self.info)

    @property
    def parent(self) -> "Run | None":
        pid = self.info.get("parent_run_id")
        try:
            return Run(self.db, pid) if pid else None
        except UsageError:  # in another database
            return None

    def table(self, name: str):
        """Any table of the run (core or the plugin's, e.g. `trendsim_comments`) as a DataFrame."""
        pd = _pandas()
        if name not in self._reader.db.table_names():
            return pd.DataFrame()
        return pd.DataFrame(list(self._reader.rows(name, self.run_id)))

    def tables(self) -> list[str]:
        """The run's plugin tables."""
        prefix = self.info["plugin"] + "_"
        return [t for t in self._reader.db.table_names() if t.startswith(prefix)]

    events = property(lambda self: self.table("events"))
    exposures = property(lambda self: self.table("exposures"))
    llm_calls = property(lambda self: self.table("llm_calls"))
    metrics = property(lambda self: self.table("metrics"))
    judgements = property(lambda self: self.table("judgements"))
    agents = property(lambda self: self.table("agents"))

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self.tables():
            return self.table(name)
        raise AttributeError(f"Run has no attribute or plugin table {name!r}")

    def final(self) -> dict[str, float | None]:
        """Final metrics by name (labelled ones as `name{k=v}`)."""
        out = {}
        for m in self._reader.metrics(self.run_id, -1):
            labels = json.loads(m["labels_json"] or "{}")
            out[m["name"] + ("{" + ",".join(f"{k}={v}" for k, v in labels.items()) + "}" if labels else "")] = m["value"]
        return out

    def series(self, metric: str, labels: Mapping[str, Any] | None = None):
        """A metric per tick (a DataFrame with tick, value and the labels)."""
        df = self.metrics
        if df.empty:
            return df
        df = df[(df["name"] == metric) & (df["tick"] >= 0)].copy()
        if labels:
            keep = df["labels_json"].map(lambda s: all(json.loads(s or "{}").get(k) == v for k, v in labels.items()))
            df = df[keep]
        return df[["tick", "value", "labels_json"]].reset_index(drop=True)

    def compare(self, *others: "Run"):
        """Final metrics of this run and `others` side by side (a DataFrame, one column per
        run); for one other run, `.attrs['divergence']` says where they diverge."""
        pd = _pandas()
        runs = [self, *others]
        df = pd.DataFrame({r.run_id: pd.Series(r.final(), dtype="float64") for r in runs})
        if len(others) == 1 and others[0].db == self.db:
            df.attrs["divergence"] = self.divergence(others[0])
        return df

    def divergence(self, other: "Run") -> list[str]:
        """Where this run and `other` (same database) diverge: first differing event, metric differences."""
        from simkit.engine.branch import divergence_lines

        return divergence_lines(self._reader, self.run_id, other.run_id)

    def branch(self, at: int, set: Mapping[str, Any] | list[str] | None = None, **kw) -> "Run":
        return branch(self, at, set, **kw)

    def plot(self, metric: str, *, labels: Mapping[str, Any] | None = None, ax=None, others: tuple["Run", ...] = ()):
        """Draw `metric` per tick for this run (and `others`); returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _fig, ax = plt.subplots(figsize=(7, 3.5))
        for r in (self, *others):
            s = r.series(metric, labels)
            if s.empty:
                continue
            # labels that name the time (TrendSim's hourly `hour`) are the x axis, not a line each
            s["line"] = s["labels_json"].map(
                lambda t: json.dumps({k: v for k, v in json.loads(t or "{}").items() if k not in TIME_LABELS}, sort_keys=True))
            for lab, part in s.groupby("line"):
                extra = "" if lab == "{}" else f" {lab}"
                ax.plot(part["tick"], part["value"], marker=".", label=f"{r.run_id}{extra}")
        ax.set_xlabel("tick")
        ax.set_ylabel(metric)
        ax.legend(fontsize="small")
        return ax


class Runs(Mapping):
    """The runs of one database, oldest first; index by run id (or a unique prefix) or position."""

    def __init__(self, db: str | Path):
        from simkit.store.reader import RunReader

        self.db = Path(db)
        self._ids = [r["run_id"] for r in RunReader.open(self.db).runs()]

    def __getitem__(self, key: str | int) -> Run:
        if isinstance(key, int):
            return Run(self.db, self._ids[key])
        return Run(self.db, key)

    def __iter__(self) -> Iterator[Run]:  # type: ignore[override]
        return (Run(self.db, rid) for rid in self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def compare(self, *run_ids: str):
        runs = [self[r] for r in (run_ids or self._ids)]
        return runs[0].compare(*runs[1:])


def open(db: str | Path) -> Runs:  # noqa: A001 - simkit.open(db), as the issue names it
    """The runs stored in `db`."""
    return Runs(db)


def sweep(scenario, grid: Mapping[str, list], *, seeds: int = 1, **kw) -> list[Run]:
    """Run every grid point (serially) into one database; returns the runs. For parallel
    sweeps use `simkit sweep --jobs N`."""
    from simkit.engine.executors import run_point
    from simkit.engine.sweep import plan_sweep

    config, _plugin_cfg, source = load(scenario, **{k: v for k, v in kw.items() if k != "sets"})
    if source is None:
        raise UsageError("sweep: pass a scenario file")
    extra: dict[str, Any] = {}
    if kw.get("out"):
        extra["output"] = {"db": str(kw["out"])}
    if kw.get("llm"):
        from simkit.config import parse_llm_flag

        extra["llm"] = parse_llm_flag(kw["llm"]) if isinstance(kw["llm"], str) else dict(kw["llm"])
    axes = [f"{k}={','.join(str(v) for v in values)}" for k, values in grid.items()]
    axes += [f"{k}={v}" for k, v in (kw.get("sets") or {}).items()] if isinstance(kw.get("sets"), Mapping) else list(kw.get("sets") or [])
    points, base = plan_sweep(source, axes, seeds, extra)

    def execute(sim, resume, title):
        return _block(lambda: _run_and_close(sim, resume)), 0.0

    results = [run_point(p, execute) for p in points]
    return [Run(base.output.db, r.run_id) for r in results]
