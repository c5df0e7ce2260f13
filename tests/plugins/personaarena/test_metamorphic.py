"""Metamorphic tests on a recorded PersonaArena episode: edit what the judges or the
tracker answered, run the same config again from that database, and the metrics move
the way the edit says."""

from __future__ import annotations

from simkit.plugins.personaarena.world import CHECKPOINTS
from tests.plugins.personaarena.helpers import simulation
from tests.recorded import copy_db, edit_answers, final_metric


async def run(db) -> str:
    sim = simulation(db, "max_turns=8", "seed=4")
    await sim.run()
    return sim.run_id


def scores_set_to(value: int):
    return lambda a: {**a, "scores": {k: value for k in a["scores"]}} if "scores" in a else a


async def test_lower_and_higher_judge_scores_move_the_overall_score(tmp_path):
    db = tmp_path / "recorded.db"
    original = await run(db)
    before = final_metric(db, original, "overall")
    for value, direction in ((1, -1), (5, +1)):
        edited = copy_db(db, tmp_path / f"edited-{value}.db")
        assert edit_answers(edited, ("judge.score", "judge.debate", "judge.final"), scores_set_to(value)) >= 3
        after = final_metric(edited, await run(edited), "overall")
        assert after == value and (after - before) * direction > 0


async def test_a_tracker_that_saw_everything_at_once_stops_the_episode_early(tmp_path):
    db = tmp_path / "recorded.db"
    original = await run(db)
    assert final_metric(db, original, "early_stop") == 0
    edited = copy_db(db, tmp_path / "edited.db")
    assert edit_answers(edited, ("personaarena.track",), lambda a: {**a, "shown": list(CHECKPOINTS)}) > 0
    again = await run(edited)
    assert final_metric(edited, again, "early_stop") == 1
    assert final_metric(edited, again, "turns") < final_metric(db, original, "turns")
    assert final_metric(edited, again, "coverage") == 1
