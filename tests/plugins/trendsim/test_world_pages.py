"""The ranked comment list and the page state machine."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.plugins.trendsim.answers import EmotionUpdate, first_integer, to_percent
from simkit.plugins.trendsim.pages import ACTIONS, BROWSING, COMMENT, END, MAIN, Visit
from simkit.plugins.trendsim.world import World, load_topics

ALL_ACTIONS = sorted({a for acts in ACTIONS.values() for a in acts})


def world_with(n_comments: int) -> World:
    world = World(load_topics()["marathon-hospital"])
    for i in range(n_comments):
        world.publish(world.new_comment(f"user-{i:04d}", f"comment {i}", f"t{i}", "trolling" if i % 3 == 0 else None))
    return world


def test_comments_rank_by_likes_with_ties_older_first():
    world = world_with(5)
    assert world.ranking == [1, 2, 3, 4, 5]
    world.like_comment(4)
    assert world.ranking == [4, 1, 2, 3, 5]
    world.like_comment(2)  # ties with 4 at one like: the older (2) goes first
    assert world.ranking == [2, 4, 1, 3, 5]
    world.like_comment(5), world.like_comment(5)
    assert world.ranking == [5, 2, 4, 1, 3]
    assert world.comments[5].best_rank == 1 and world.comments[3].best_rank == 3


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 8), max_size=40))
def test_ranking_always_equals_a_full_sort(likes):
    world = world_with(8)
    for cid in likes:
        world.like_comment(cid)
    assert world.ranking == sorted(world.comments, key=lambda c: (-world.comments[c].likes, c))


def test_a_visit_walks_browsing_main_comment_and_back():
    visit = Visit(world_with(6), "user-0100", max_actions=10)
    assert visit.valid_actions() == ("enter", "leave")
    visit.take("enter")
    assert visit.state == MAIN and [c["cid"] for c in visit.page()["comments"]] == [1, 2, 3, 4]
    visit.take("more_comments")
    assert [c["rank"] for c in visit.page()["comments"]] == [5, 6]
    assert "more_comments" not in visit.valid_actions()
    step = visit.take("open_comment", index=2)
    assert visit.state == COMMENT and step.cid == 6
    visit.take("like_comment")
    assert visit.page()["likes"] == 1 and visit.world.comments[6].likes == 0  # the world changes in apply
    visit.take("back")
    assert visit.state == MAIN and visit.offset == 4  # the paper keeps the comment page offset
    assert visit.ranking[0] == 6 and visit.world.ranking[0] == 1


@pytest.mark.parametrize(
    "state, proposed, expected",
    [(BROWSING, "reply", "leave"), (MAIN, "back", "leave"), (MAIN, None, "leave"), (COMMENT, "comment", "back"), (COMMENT, "garbage", "back")],
)
def test_invalid_actions_fall_back_as_documented(state, proposed, expected):
    visit = Visit(world_with(3), "user-0100")
    if state != BROWSING:
        visit.take("enter")
    if state == COMMENT:
        visit.take("open_comment", index=1)
    assert visit.take(proposed).action == expected


def test_open_comment_falls_back_to_the_first_shown_and_is_not_offered_without_comments():
    visit = Visit(world_with(3), "user-0100")
    visit.take("enter")
    assert visit.take("open_comment", index=99).cid == 1
    empty = Visit(world_with(0), "user-0100")
    empty.take("enter")
    assert "open_comment" not in empty.valid_actions()
    assert empty.take("open_comment").action == "leave"


def test_own_comment_shows_at_the_bottom_but_cannot_be_opened():
    visit = Visit(world_with(2), "user-0100")
    visit.take("enter")
    visit.take("comment", text="mine")
    comments = visit.page()["comments"]
    assert comments[-1]["own"] and comments[-1]["text"] == "mine" and comments[-1]["cid"] is None
    assert visit.openable() == [1, 2]


def test_a_visit_ends_after_four_actions():
    visit = Visit(world_with(3), "user-0100")
    for action in ("enter", "like_topic", "repost", "like_topic"):
        visit.take(action)
    assert visit.done and visit.state == END and len(visit.steps) == 4


@settings(max_examples=200, deadline=None)
@given(
    n_comments=st.integers(0, 10),
    proposals=st.lists(st.tuples(st.sampled_from(ALL_ACTIONS + ["nonsense", None]), st.one_of(st.none(), st.integers(-3, 12), st.text(max_size=3))), max_size=12),
)
def test_any_proposals_give_a_legal_walk(n_comments, proposals):
    visit = Visit(world_with(n_comments), "user-0100")
    for proposed, index in proposals:
        if visit.done:
            break
        page, valid = visit.state, visit.valid_actions()
        step = visit.take(proposed, text="t", index=index)
        assert step.page == page and step.action in valid
        if step.action == "open_comment":
            assert step.cid in visit.world.comments
    assert len(visit.steps) <= 4


@settings(max_examples=200)
@given(st.one_of(st.integers(-1000, 1000), st.floats(-500, 500), st.text(max_size=12)))
def test_percentages_are_read_like_the_authors_code(raw):
    value = to_percent(raw)
    if isinstance(value, int):
        assert 0 <= value <= 100
        assert EmotionUpdate.model_validate({"emotion": raw}).emotion == value


def test_first_integer_takes_the_first_number_in_a_sentence():
    assert first_integer("I'd say 62% now, up from 50") == 62
    assert to_percent("150") == 100 and to_percent(-5) == 0
    assert first_integer("no number") == "no number"
