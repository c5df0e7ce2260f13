"""Rule checks on a drafted persona: the cheap half of the quality filter.

The LLM judge rates fidelity; these rules catch what a judge misses or a small model gets
wrong: a name that is not a name, a narrative too short or too long, facts that contradict the source or each other,
and personal identifiers (contact details, handles, addresses, long verbatim passages) that
would leak from a real user's posts into a shipped persona. Each returns a reason or None.
"""

from __future__ import annotations

import re

IDENTIFIERS: dict[str, re.Pattern] = {
    "an email address": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "a web link": re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|io|co\.uk|blogspot\.com)\b", re.I),
    "a phone number": re.compile(r"(?<![\w.])\+?\d[\d ()-]{7,}\d(?![\w.])"),
    "a social-media handle": re.compile(r"(?<![\w@])@[A-Za-z_][A-Za-z0-9_]{2,}"),
    "a street address": re.compile(
        r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Close|Way)\b"
    ),
}
_STATED_AGE = re.compile(r"\b(\d{1,3})[- ]years?[- ]old\b|\baged (\d{1,3})\b", re.I)
_WORD = re.compile(r"[a-z0-9']+")
_NAME = re.compile(r"^[^\W\d_][^\W\d_'’.-]*(?:['’.-][^\W\d_]+)*(?: [^\W\d_][^\W\d_'’.-]*(?:['’.-][^\W\d_]+)*){1,3}$")
VERBATIM_WORDS = 12


def find_identifiers(text: str) -> list[tuple[str, str]]:
    """(kind, match) for every personal identifier in the text."""
    return [(kind, m.group(0)) for kind, pattern in IDENTIFIERS.items() for m in pattern.finditer(text)]


def identifier_problem(persona_text: str, posts: list[str]) -> str | None:
    found = find_identifiers(persona_text)
    if not found:
        return None
    kind, value = found[0]
    copied = any(value.lower() in post.lower() for post in posts)
    return f"contains {kind} ({value}){' copied from the posts' if copied else ''}"


def verbatim_problem(narrative: str, posts: list[str], span: int = VERBATIM_WORDS) -> str | None:
    """A run of `span` words copied from the posts, which could carry identifying detail."""
    words = _WORD.findall(narrative.lower())
    if len(words) < span:
        return None
    source = {tuple(ws[i:i + span]) for post in posts for ws in [_WORD.findall(post.lower())]
              for i in range(len(ws) - span + 1)}
    for i in range(len(words) - span + 1):
        if tuple(words[i:i + span]) in source:
            return f"copies a passage of {span}+ words from the posts (\"{' '.join(words[i:i + span])}\")"
    return None


def name_problem(name: str) -> str | None:
    """A first and last name (2-4 words of letters), not a handle or an echo of the prompt."""
    if not _NAME.match(name.strip()):
        return f"name {name!r} is not a first and last name"
    return None


def length_problem(narrative: str, min_chars: int, max_chars: int) -> str | None:
    n = len(narrative.strip())
    if n < min_chars:
        return f"narrative too short ({n} characters, minimum {min_chars})"
    if n > max_chars:
        return f"narrative too long ({n} characters, maximum {max_chars})"
    return None


def consistency_problem(age: int, gender: str, narrative: str, meta: dict) -> str | None:
    """Facts that contradict the source's known facts, or the narrative's own statements."""
    known_age = meta.get("age")
    if isinstance(known_age, int) and abs(known_age - age) > 5:
        return f"age {age} contradicts the source (the author is {known_age})"
    known_gender = str(meta.get("gender", "")).lower()
    if known_gender in ("female", "male") and gender in ("female", "male") and known_gender != gender:
        return f"gender {gender} contradicts the source ({known_gender})"
    for match in _STATED_AGE.finditer(narrative):
        stated = int(match.group(1) or match.group(2))
        if abs(stated - age) > 2:
            return f"the narrative says {stated} years old but the age field is {age}"
    return None


def rule_problems(draft, posts: list[str], meta: dict, min_chars: int, max_chars: int) -> str | None:
    """The first rule a draft breaks, or None if it passes all of them."""
    facts = [fact for group in draft.facts.model_dump().values() for fact in group]
    text = " ".join([draft.name, draft.region, draft.occupation, draft.narrative, *facts])
    return (
        identifier_problem(text, posts)
        or name_problem(draft.name)
        or length_problem(draft.narrative, min_chars, max_chars)
        or consistency_problem(draft.age, draft.gender, draft.narrative, meta)
        or verbatim_problem(draft.narrative, posts)
        or next((p for p in (verbatim_problem(f, posts) for f in facts) if p), None)
    )
