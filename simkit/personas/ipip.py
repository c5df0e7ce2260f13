"""The IPIP-50 Big-Five factor markers (Goldberg 1992; public domain, ipip.ori.org) and their key.

Persona scores must be on the same instrument, keying and scale as the human reference
(`reference.py`), so this module is the single place that knows the items: their text,
which trait each measures, which are reverse-keyed, and how answers become 1-5 item means.
Neuroticism is keyed toward N (not Emotional Stability), as in the Open-Source
Psychometrics data the shipped reference comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from simkit.errors import UsageError
from simkit.personas.model import TRAITS, BigFive


@dataclass(frozen=True)
class Item:
    code: str  # e.g. "E2": trait letter and position within the trait
    text: str
    trait: str
    reverse: bool


# (code, text, reverse-keyed). Order within a trait follows the published item lists.
_ITEMS: tuple[tuple[str, str, bool], ...] = (
    ("E1", "Am the life of the party.", False),
    ("E2", "Don't talk a lot.", True),
    ("E3", "Feel comfortable around people.", False),
    ("E4", "Keep in the background.", True),
    ("E5", "Start conversations.", False),
    ("E6", "Have little to say.", True),
    ("E7", "Talk to a lot of different people at parties.", False),
    ("E8", "Don't like to draw attention to myself.", True),
    ("E9", "Don't mind being the center of attention.", False),
    ("E10", "Am quiet around strangers.", True),
    ("N1", "Get stressed out easily.", False),
    ("N2", "Am relaxed most of the time.", True),
    ("N3", "Worry about things.", False),
    ("N4", "Seldom feel blue.", True),
    ("N5", "Am easily disturbed.", False),
    ("N6", "Get upset easily.", False),
    ("N7", "Change my mood a lot.", False),
    ("N8", "Have frequent mood swings.", False),
    ("N9", "Get irritated easily.", False),
    ("N10", "Often feel blue.", False),
    ("A1", "Feel little concern for others.", True),
    ("A2", "Am interested in people.", False),
    ("A3", "Insult people.", True),
    ("A4", "Sympathize with others' feelings.", False),
    ("A5", "Am not interested in other people's problems.", True),
    ("A6", "Have a soft heart.", False),
    ("A7", "Am not really interested in others.", True),
    ("A8", "Take time out for others.", False),
    ("A9", "Feel others' emotions.", False),
    ("A10", "Make people feel at ease.", False),
    ("C1", "Am always prepared.", False),
    ("C2", "Leave my belongings around.", True),
    ("C3", "Pay attention to details.", False),
    ("C4", "Make a mess of things.", True),
    ("C5", "Get chores done right away.", False),
    ("C6", "Often forget to put things back in their proper place.", True),
    ("C7", "Like order.", False),
    ("C8", "Shirk my duties.", True),
    ("C9", "Follow a schedule.", False),
    ("C10", "Am exacting in my work.", False),
    ("O1", "Have a rich vocabulary.", False),
    ("O2", "Have difficulty understanding abstract ideas.", True),
    ("O3", "Have a vivid imagination.", False),
    ("O4", "Am not interested in abstract ideas.", True),
    ("O5", "Have excellent ideas.", False),
    ("O6", "Do not have a good imagination.", True),
    ("O7", "Am quick to understand things.", False),
    ("O8", "Use difficult words.", False),
    ("O9", "Spend time reflecting on things.", False),
    ("O10", "Am full of ideas.", False),
)

ITEMS: tuple[Item, ...] = tuple(Item(code, text, code.rstrip("0123456789"), rev) for code, text, rev in _ITEMS)
ITEM_CODES: tuple[str, ...] = tuple(i.code for i in ITEMS)
BY_CODE: dict[str, Item] = {i.code: i for i in ITEMS}
LIKERT = {1: "very inaccurate", 2: "moderately inaccurate", 3: "neither accurate nor inaccurate",
          4: "moderately accurate", 5: "very accurate"}


def keyed(item: Item, answer: int) -> int:
    """The answer as a point on the trait's scale (reverse-keyed items become 6 - answer)."""
    return 6 - answer if item.reverse else answer


def score(answers: Mapping[str, int]) -> BigFive:
    """Item means per trait from a full answer sheet {item code: 1..5}.

    Every one of the 50 items must be answered with an integer 1-5: a partial sheet would
    make trait means incomparable with the reference, so it is an error, not a guess.
    """
    missing = [c for c in ITEM_CODES if c not in answers]
    if missing:
        raise UsageError(f"IPIP-50 answer sheet: missing items {', '.join(missing[:5])}"
                         + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
    extra = sorted(set(answers) - set(ITEM_CODES))
    if extra:
        raise UsageError(f"IPIP-50 answer sheet: unknown items {', '.join(extra[:5])}")
    totals = {t: 0 for t in TRAITS}
    for code, answer in answers.items():
        if isinstance(answer, bool) or not isinstance(answer, int) or not 1 <= answer <= 5:
            raise UsageError(f"IPIP-50 answer sheet: {code}: expected an integer 1-5, got {answer!r}")
        item = BY_CODE[code]
        totals[item.trait] += keyed(item, answer)
    return BigFive(**{t: round(totals[t] / 10, 2) for t in TRAITS})


def inconsistency(answers: Mapping[str, int]) -> float:
    """Mean within-trait spread of keyed answers (0 = perfectly consistent, ~1.4 = random).

    Agreeing with an item and with its reversal (say "I talk a lot" and "I don't talk a lot")
    shows the answers were not given in character; generation rejects sheets above a limit.
    """
    spreads = []
    for t in TRAITS:
        values = [keyed(BY_CODE[c], answers[c]) for c in ITEM_CODES if BY_CODE[c].trait == t]
        mean = sum(values) / len(values)
        spreads.append((sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5)
    return round(sum(spreads) / len(spreads), 3)
