"""The end-of-run summary must never crash on what a plugin stored."""

from simkit.display.tables import format_value, summary_table


def test_values_format_for_people():
    assert format_value(24770.0) == "24,770"
    assert format_value(0.59883) == "0.5988"
    assert format_value(float("nan")) == "n/a"
    assert format_value(None) == "n/a"  # SQLite stores NaN as NULL


def test_summary_with_null_metric_and_labels():
    run = {"run_id": "r", "scenario": "s", "plugin": "p", "seed": 1, "status": "finished", "error": None,
           "last_tick": 4, "ticks_total": 5, "model": "m", "llm_calls": 3, "cache_hits": 0, "retries": 1,
           "parse_failures": 0, "tokens_in": 10, "tokens_out": 5}
    metrics = [{"tick": -1, "name": "x.avg", "value": None, "labels_json": '{"group": "society"}'}]
    table = summary_table(run, metrics)
    cells = [str(c) for col in table.columns for c in col._cells]  # plain strings or rich Text
    assert "x.avg{group=society}" in cells and "n/a" in cells
