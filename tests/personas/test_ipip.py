"""The IPIP-50 key: hand-computed answer sheets, and properties of any sheet."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkit.errors import UsageError
from simkit.personas import ipip

CODES = ipip.ITEM_CODES


def sheet(**by_trait):
    """All items of a trait answered with one value (default 3)."""
    return {c: by_trait.get(ipip.BY_CODE[c].trait, 3) for c in CODES}


def test_fifty_items_ten_per_trait_with_the_published_reverse_keys():
    assert len(ipip.ITEMS) == 50
    reverse = sorted(i.code for i in ipip.ITEMS if i.reverse)
    assert reverse == sorted(["E2", "E4", "E6", "E8", "E10", "N2", "N4", "A1", "A3", "A5", "A7",
                              "C2", "C4", "C6", "C8", "O2", "O4", "O6"])
    for t in "OCEAN":
        assert sum(i.trait == t for i in ipip.ITEMS) == 10


def test_agreeing_with_everything_is_not_a_high_score():
    # hand-computed: E has 5 reversed items -> (5*5 + 5*1)/10 = 3.0; N has 2 -> (8*5+2*1)/10 = 4.2;
    # A and C have 4 -> 3.4; O has 3 -> 3.8
    s = ipip.score(sheet(O=5, C=5, E=5, A=5, N=5))
    assert s.as_tuple() == (3.8, 3.4, 3.0, 3.4, 4.2)


def test_a_prototypical_anxious_introvert():
    answers = {}
    for item in ipip.ITEMS:
        if item.trait == "E":  # "I keep in the background": 5; "I am the life of the party": 1
            answers[item.code] = 5 if item.reverse else 1
        elif item.trait == "N":
            answers[item.code] = 1 if item.reverse else 5
        else:
            answers[item.code] = 3
    s = ipip.score(answers)
    assert (s.E, s.N, s.O, s.C, s.A) == (1.0, 5.0, 3.0, 3.0, 3.0)


def test_a_mixed_sheet_computed_by_hand():
    answers = sheet()
    answers.update({"O1": 5, "O2": 2, "O3": 4, "O4": 1, "O5": 4, "O6": 2, "O7": 5, "O8": 3, "O9": 4, "O10": 5})
    # keyed: 5, 4, 4, 5, 4, 4, 5, 3, 4, 5 -> 43 / 10
    assert ipip.score(answers).O == 4.3
    answers.update({"C1": 2, "C2": 5, "C3": 1, "C4": 4, "C5": 2, "C6": 5, "C7": 3, "C8": 4, "C9": 1, "C10": 2})
    # keyed: 2, 1, 1, 2, 2, 1, 3, 2, 1, 2 -> 17 / 10
    assert ipip.score(answers).C == 1.7


def test_incomplete_or_invalid_sheets_are_errors_that_name_the_item():
    answers = sheet()
    del answers["A7"]
    with pytest.raises(UsageError, match="missing items A7"):
        ipip.score(answers)
    with pytest.raises(UsageError, match="N3: expected an integer 1-5, got 6"):
        ipip.score({**sheet(), "N3": 6})
    with pytest.raises(UsageError, match="unknown items X1"):
        ipip.score({**sheet(), "X1": 3})


def test_inconsistency_tells_in_character_answers_from_acquiescence():
    introvert = {i.code: (5 if i.reverse else 1) if i.trait == "E" else 3 for i in ipip.ITEMS}
    assert ipip.inconsistency(introvert) == 0.0
    # agreeing with "I talk a lot"-type items and with their reversals alike
    acquiescent = ipip.inconsistency(sheet(O=5, C=5, E=5, A=5, N=5))
    assert acquiescent > 1.1  # above the default rejection limit


sheets = st.fixed_dictionaries({c: st.integers(1, 5) for c in CODES})


@given(sheets)
def test_scores_lie_on_the_instrument_grid(answers):
    s = ipip.score(answers)
    for v in s.as_tuple():
        assert 1 <= v <= 5
        assert abs(v * 10 - round(v * 10)) < 1e-9


@given(sheets)
def test_answering_the_opposite_mirrors_every_score(answers):
    mirrored = ipip.score({c: 6 - a for c, a in answers.items()})
    for a, b in zip(ipip.score(answers).as_tuple(), mirrored.as_tuple()):
        assert a + b == pytest.approx(6.0)
