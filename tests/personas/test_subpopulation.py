"""--subpopulation parsing (property-based) and matching."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkit.errors import UsageError
from simkit.personas.model import INTEREST_GROUPS, Persona
from simkit.personas.subpopulation import parse_constraint, select


def person(pid, age=30, gender="female", region="Leeds, UK", occupation="nurse", interests=("sports",)):
    return Persona(id=pid, name=pid, interests=list(interests),
                   demographics={"age": age, "gender": gender, "region": region, "occupation": occupation})


@given(st.integers(0, 119), st.integers(0, 119))
def test_age_ranges_round_trip(a, b):
    lo, hi = min(a, b), max(a, b)
    c = parse_constraint(f"age={lo}-{hi}")
    assert c.age_range == (lo, hi)
    assert c.matches(person("p", age=lo)) and c.matches(person("p", age=hi))
    assert not c.matches(person("p", age=hi + 1))


@given(st.lists(st.sampled_from(INTEREST_GROUPS), min_size=1, max_size=3))
def test_interest_lists_match_any_shared_group(groups):
    c = parse_constraint("interests=" + ",".join(groups))
    assert c.matches(person("p", interests=[groups[-1]]))
    others = [g for g in INTEREST_GROUPS if g not in groups]
    if others:
        assert not c.matches(person("p", interests=others))


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_a_usage_error(text):
    try:
        parse_constraint(text)
    except UsageError as exc:
        assert str(exc).startswith("--subpopulation ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("height=180", "unknown key 'height'"),
        ("region", "expected KEY=VALUE"),
        ("age=old", "age must be A-B"),
        ("age=40-20", "age range is empty"),
        ("interests=cooking", "unknown interest group 'cooking'"),
    ],
)
def test_bad_constraints_say_what_is_wrong(text, message):
    with pytest.raises(UsageError, match=message):
        parse_constraint(text)


def test_constraints_combine_with_and_and_alternatives_with_or():
    people = [
        person("a", age=25, region="Leeds, UK"),
        person("b", age=45, region="Dublin, Ireland"),
        person("c", age=25, region="Austin, Texas, USA", gender="male"),
        person("d", age=22, region="Cork, Ireland", interests=("culture",)),
    ]
    chosen = select(people, [parse_constraint("region=uk,IRELAND"), parse_constraint("age=18-34"),
                             parse_constraint("interests=sports")])
    assert [p.id for p in chosen] == ["a"]
    assert [p.id for p in select(people, [parse_constraint("gender=male")])] == ["c"]
    assert [p.id for p in select(people, [parse_constraint("age=40-")])] == ["b"]
