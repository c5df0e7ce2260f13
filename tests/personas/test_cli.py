"""`simkit personas ...` driven as a user would, in a subprocess on temporary folders."""

import json
import os

import numpy as np
import pytest

from simkit.personas.reference import load_reference
from tests.conftest import ROOT, run_cli

SOURCE = ROOT / "personas" / "source_posts.jsonl"


@pytest.fixture
def env():
    return {**os.environ, "COLUMNS": "200"}


def synthetic_bank(path, n=400, seed=0, skew=0.3):
    rows = load_reference().sample(n, np.random.default_rng(seed))
    rows[:, 2] = np.clip(rows[:, 2] + skew, 1, 5)
    with path.open("w") as fh:
        for i, r in enumerate(rows):
            fh.write(json.dumps({
                "id": f"p{i}", "name": f"P {i}", "interests": [["sports", "culture", "technology"][i % 3]],
                "demographics": {"age": 18 + i % 60, "gender": ["female", "male"][i % 2],
                                 "region": ["Leeds, UK", "Pune, India"][i % 2 == 0 and i % 4 == 0]},
                "big_five": dict(zip("OCEAN", map(float, np.round(r, 2)))),
            }) + "\n")
    return path


def test_generate_then_align_then_inspect(tmp_path, env):
    bank = tmp_path / "bank.jsonl"
    proc = run_cli(["personas", "generate", "--source", str(SOURCE), "--out", str(bank), "--llm", "scripted",
                    "--limit", "40", "--quiet"], env=env)
    assert "500 users: 0 done earlier, 40 kept and 0 rejected now, 460 left (run again to continue)" in proc.stdout
    proc = run_cli(["personas", "generate", "--source", str(SOURCE), "--out", str(bank), "--llm", "scripted",
                    "--quiet"], env=env)
    assert "500 users: 40 done earlier, 460 kept and 0 rejected now" in proc.stdout
    assert len(bank.read_text().splitlines()) == 500

    out = tmp_path / "set.jsonl"
    proc = run_cli(["personas", "align", "--bank", str(bank), "--n", "60", "--out", str(out),
                    "--report-json", str(tmp_path / "report.json")], env=env)
    assert "effective sample size" in proc.stdout and "W1 E" in proc.stdout
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert len(ids) == 60 == len(set(ids))
    assert (tmp_path / "set.png").stat().st_size > 10_000
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["n"] == 60 and report["ess"] > 0 and "W1 O" in report["aligned"]

    proc = run_cli(["personas", "inspect", str(out)], env=env)
    assert "60 personas, 60 with Big Five scores" in proc.stdout and "floor (n=60)" in proc.stdout


def test_subpopulation_reports_how_many_matched(tmp_path, env):
    bank = synthetic_bank(tmp_path / "bank.jsonl")
    out = tmp_path / "uk.jsonl"
    proc = run_cli(["personas", "align", "--bank", str(bank), "--n", "50", "--out", str(out),
                    "--subpopulation", "region=uk", "--subpopulation", "interests=sports,culture"], env=env)
    expected = sum(1 for i in range(400) if not (i % 4 == 0) and i % 3 != 2)
    assert f"subpopulation region=uk and interests=sports,culture: {expected} of 400 personas match" in proc.stdout
    chosen = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(p["demographics"]["region"] == "Leeds, UK" and p["interests"][0] != "technology" for p in chosen)


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        ("missing", ["--n", "5"], "persona p3 has no big_five scores"),
        ("empty", ["--n", "5"], "persona file is empty"),
        ("ok", ["--n", "500"], "--n 500 is larger than the pool (400 personas)"),
        ("ok", ["--n", "5", "--subpopulation", "region=Mars"], "no persona matches region=mars"),
        ("ok", ["--n", "5", "--subpopulation", "colour=red"], "unknown key 'colour'"),
    ],
)
def test_bad_inputs_are_one_clear_line_and_exit_2(tmp_path, env, make, args, message):
    bank = synthetic_bank(tmp_path / "bank.jsonl")
    if make == "missing":
        lines = bank.read_text().splitlines()
        record = json.loads(lines[3])
        del record["big_five"]
        lines[3] = json.dumps(record)
        bank.write_text("\n".join(lines) + "\n")
    elif make == "empty":
        bank.write_text("")
    proc = run_cli(["personas", "align", "--bank", str(bank), "--out", str(tmp_path / "o.jsonl"), *args],
                   env=env, check_rc=2)
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_generate_with_a_bad_source_names_the_line(tmp_path, env):
    source = tmp_path / "posts.jsonl"
    source.write_text('{"user_id": "a", "posts": ["fine"]}\n{"user_id": "b"}\n')
    proc = run_cli(["personas", "generate", "--source", str(source), "--out", str(tmp_path / "b.jsonl"),
                    "--llm", "scripted"], env=env, check_rc=2)
    assert f"{source}:2: posts: expected a list of texts" in proc.stderr


@pytest.mark.slow
@pytest.mark.timeout(960)
def test_generate_on_the_embedded_model_finishes_every_user(tmp_path, env):
    """The real local backend: one user goes through the pipeline and lands in the bank or,
    with a stage and a reason, in the rejected file (SmolLM2-135M usually lands there)."""
    source = tmp_path / "posts.jsonl"
    source.write_text(json.dumps({"user_id": "u1", "posts": [
        "Had friends over for dinner and it turned into a kitchen dance party. Best night in ages.",
        "Saw a band live on Friday. My ears are still ringing and I regret nothing."],
        "meta": {"age": 29, "gender": "female", "region": "Leeds, UK", "occupation": "nurse"}}) + "\n")
    bank = tmp_path / "bank.jsonl"
    proc = run_cli(["personas", "generate", "--source", str(source), "--out", str(bank), "--llm", "local",
                    "--concurrency", "1", "--quiet"], env=env, timeout=900, check_rc=None)
    assert "1 users: 0 done earlier" in proc.stdout
    kept = bank.read_text().splitlines() if bank.exists() else []
    rejected = (tmp_path / "bank.rejected.jsonl").read_text().splitlines()
    assert len(kept) + len(rejected) == 1
    assert proc.returncode == (0 if kept else 1), proc.stderr  # nothing kept: said, and exit 1
    if rejected:
        record = json.loads(rejected[0])
        assert record["stage"] in ("narrative", "rules", "judge", "ipip") and record["reason"]
    else:
        assert json.loads(kept[0])["provenance"]["model"].startswith("local:")


def test_generate_that_keeps_nothing_says_so_and_exits_1(tmp_path, env):
    out = tmp_path / "bank.jsonl"
    res = run_cli(["personas", "generate", "--source", str(SOURCE), "--out", str(out), "--llm", "scripted", "--limit", "3",
                   "--min-fidelity", "5", "--quiet"], env=env, check_rc=1)
    assert "0 kept and 3 rejected now" in res.stdout
    assert "no persona kept: all 3 were rejected" in res.stderr and "bank.rejected.jsonl" in res.stderr
