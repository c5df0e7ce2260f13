"""`simkit replay` as a user runs it: the HTML report of a real run, and one-line errors."""

from __future__ import annotations

from tests.conftest import run_cli


def test_html_report_of_a_real_run(townhall_run, tmp_path):
    db, run_id = townhall_run
    out = tmp_path / "share" / "report.html"
    proc = run_cli(["replay", run_id[:12], "--db", str(db), "--html", str(out)])
    assert proc.stdout.startswith(f"{out}: ") and f"ticks 0-5 of run {run_id}" in proc.stdout
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and run_id in html
    assert "http://" not in html and "https://" not in html  # nothing to fetch: one shareable file


def test_unknown_run_and_missing_database_are_one_line_errors(townhall_run, tmp_path):
    db, run_id = townhall_run
    proc = run_cli(["replay", "no-such-run", "--db", str(db)], check_rc=2)
    assert proc.stderr.strip().splitlines() == [
        f"error: run 'no-such-run' not found in {db} (recent runs: {run_id})"
    ]
    proc = run_cli(["replay", "x", "--db", str(tmp_path / "nope.db"), "--html", str(tmp_path / "r.html")], check_rc=2)
    assert len(proc.stderr.strip().splitlines()) == 1 and "run database not found" in proc.stderr
    assert not (tmp_path / "r.html").exists()


def test_replay_help_documents_the_command(tmp_path):
    proc = run_cli(["replay", "--help"])
    assert "--html OUT.html" in proc.stdout and "Example:" in proc.stdout
