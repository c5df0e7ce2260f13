"""Bad files and paths give one line naming what and where, with exit 2 (usage) or 1
(runtime), never `internal error` or a traceback."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from tests.conftest import ROOT, run_cli

TRENDSIM = ROOT / "scenarios" / "trendsim.yaml"
RUN = ["run", str(TRENDSIM), "--llm", "scripted", "--set", "population.size=2", "--quiet"]


def one_line(proc, code: int, *needles: str) -> str:
    err = proc.stderr.strip()
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "\n" not in err and "Traceback" not in err and "internal error" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.fixture(scope="module")
def good_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("good") / "good.db"
    run_cli([*RUN, "--out", str(db)])
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the whole database in the one file: copies are whole
    con.close()
    return db


@pytest.fixture
def files(tmp_path, good_db):
    (tmp_path / "text.db").write_text("hello\n")
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    (tmp_path / "bin.jsonl").write_bytes(bytes(range(256)) * 8)
    corrupt = tmp_path / "corrupt.db"
    shutil.copy(good_db, corrupt)
    with open(corrupt, "r+b") as fh:
        fh.seek(4096)  # every page after the schema page
        fh.write(b"\xff" * (corrupt.stat().st_size - 4096))
    return tmp_path


@pytest.mark.parametrize("out, needle", [("text.db", "not a SQLite run database"), ("adir", "is a directory"),
                                         ("afile/x.db", "is a file")])
def test_bad_out_path(files, out, needle):
    one_line(run_cli([*RUN, "--out", str(files / out)], check_rc=None), 2, str(files / out), needle)


@pytest.mark.parametrize("personas, needle", [("bin.jsonl", "not a UTF-8 text file"), ("adir", "is a directory")])
def test_bad_persona_file(files, personas, needle):
    proc = run_cli([*RUN, "--out", str(files / "new.db"), "--set", f"population.personas={files / personas}"], check_rc=None)
    one_line(proc, 2, personas, needle)


@pytest.mark.parametrize("command", [["runs", "list", "--db"], ["export", "x", "--db"], ["runs", "show", "x", "--db"]])
def test_damaged_or_foreign_database(files, command):
    one_line(run_cli([*command, str(files / "corrupt.db")], check_rc=None), 1, "corrupt.db", "damaged")
    one_line(run_cli([*command, str(files / "text.db")], check_rc=None), 2, "text.db", "not a SQLite run database")


def test_run_into_a_damaged_database(files):
    one_line(run_cli([*RUN, "--out", str(files / "corrupt.db")], check_rc=None), 1, "corrupt.db", "damaged")


def test_merge_of_a_bad_source_leaves_the_target_unchanged(files, good_db):
    target = files / "target.db"
    shutil.copy(good_db, target)
    before = sqlite3.connect(target).execute("select sql from sqlite_master order by name").fetchall()
    one_line(run_cli(["merge", str(target), str(files / "text.db")], check_rc=None), 2, "text.db")
    one_line(run_cli(["merge", str(target), str(files / "corrupt.db")], check_rc=None), 1, "corrupt.db")
    odd = files / "odd.db"  # a runs table without the standard columns, and a plugin table
    con = sqlite3.connect(odd)
    con.execute("create table runs (run_id text)")
    con.execute("insert into runs values ('r')")
    con.execute("create table zz_plugin (run_id text, extra text)")
    con.commit()
    con.close()
    one_line(run_cli(["merge", str(target), str(odd)], check_rc=None), 2, "odd.db", "status")
    after = sqlite3.connect(target).execute("select sql from sqlite_master order by name").fetchall()
    assert after == before


def test_replay_html_to_an_impossible_path(files, good_db):
    run_id = sqlite3.connect(good_db).execute("select run_id from runs").fetchone()[0]
    one_line(run_cli(["replay", run_id, "--db", str(good_db), "--html", str(files / "afile" / "r.html")], check_rc=None),
             2, "afile")


def test_ambiguous_run_id_prefix_lists_the_matches(files, good_db):
    db = files / "two.db"
    shutil.copy(good_db, db)
    run_cli([*RUN, "--out", str(db)])
    ids = [r for (r,) in sqlite3.connect(db).execute("select run_id from runs")]
    err = one_line(run_cli(["runs", "show", "trendsim-", "--db", str(db)], check_rc=None), 2, "matches 2 runs")
    assert all(i in err for i in ids)


def test_runs_list_piped_keeps_whole_run_ids(good_db):
    import os

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    proc = run_cli(["runs", "list", "--db", str(good_db)], env={**env, "COLUMNS": "60"})
    run_id = sqlite3.connect(good_db).execute("select run_id from runs").fetchone()[0]
    assert run_id in proc.stdout


def test_bad_base_url_is_a_config_error(files):
    one_line(run_cli([*RUN, "--out", str(files / "n.db"), "--set", "llm.base_url=localhost:8000"], check_rc=None),
             2, "llm.base_url")


def test_human_labels_are_checked_before_the_run(files):
    bad = files / "labels.jsonl"
    bad.write_text('{"item_id": "a", "metric": "m"}\n')
    proc = run_cli(["run", str(ROOT / "scenarios" / "personaarena.yaml"), "--llm", "scripted", "--quiet",
                    "--out", str(files / "pa.db"), "--set", f"personaarena.human_labels={bad}"], check_rc=None)
    one_line(proc, 2, "human_labels", "missing score")
    assert not (files / "pa.db").exists() or not sqlite3.connect(files / "pa.db").execute(
        "select count(*) from sqlite_master where name = 'runs'").fetchone()[0] or not sqlite3.connect(
        files / "pa.db").execute("select count(*) from runs").fetchone()[0]


def test_cdi_person_of_whitespace_and_binary_scenario_file(files):
    data = json.loads((ROOT / "simkit" / "plugins" / "cdi" / "data" / "scenarios" / "bank-cosigner.json").read_text())
    text = json.dumps(data)
    name = None
    for key in ("subject", "sender", "recipient"):
        if isinstance(data.get(key), dict) and "name" in data[key]:
            name = data[key]["name"]
            break
    assert name, "no person found in the CDI scenario fixture"
    spaced = files / "spaced.json"
    spaced.write_text(text.replace(json.dumps(name), json.dumps("   ")))
    binary = files / "binary.json"
    binary.write_bytes(bytes(range(256)))
    for path, needle in ((spaced, "letter or digit"), (binary, "not a UTF-8")):
        proc = run_cli(["run", str(ROOT / "scenarios" / "cdi.yaml"), "--llm", "scripted", "--quiet", "--out",
                        str(files / "cdi.db"), "--set", f"cdi.scenarios={path}", "--set", "cdi.scenario=bank-cosigner"],
                       check_rc=None)
        one_line(proc, 2, path.name, needle)
