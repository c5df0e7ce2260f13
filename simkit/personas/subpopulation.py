"""Subpopulation constraints: `region=UK,Ireland`, `age=18-34`, `interests=sports`, `gender=female`.

Each constraint is KEY=VALUES with comma-separated alternatives; a persona matches when it
satisfies every constraint (AND across keys, OR within one). Region and occupation match
case-insensitively as substrings ("UK" matches "Leeds, UK"); gender matches exactly; age is
a range `A-B`, `A-` or `-B`, or a single age; interests match if any group is shared.
"""

from __future__ import annotations

from dataclasses import dataclass

from simkit.errors import UsageError
from simkit.personas.model import INTEREST_GROUPS, Persona

KEYS = ("region", "age", "interests", "gender", "occupation")


@dataclass(frozen=True)
class Constraint:
    key: str
    values: tuple[str, ...] = ()
    age_range: tuple[int, int] | None = None

    def matches(self, persona: Persona) -> bool:
        d = persona.demographics
        if self.key == "age":
            return d.age is not None and self.age_range[0] <= d.age <= self.age_range[1]
        if self.key == "interests":
            return bool(set(self.values) & set(persona.interests))
        field = getattr(d, self.key)
        if field is None:
            return False
        if self.key == "gender":
            return field.lower() in self.values
        return any(v in field.lower() for v in self.values)

    def __str__(self) -> str:
        if self.key == "age":
            return f"age={self.age_range[0]}-{self.age_range[1]}"
        return f"{self.key}={','.join(self.values)}"


def parse_constraint(text: str) -> Constraint:
    key, sep, raw = text.partition("=")
    key = key.strip().lower()
    if not sep or not raw.strip():
        raise UsageError(f"--subpopulation {text}: expected KEY=VALUE, e.g. region=UK or age=18-34")
    if key not in KEYS:
        raise UsageError(f"--subpopulation {text}: unknown key {key!r} (known: {', '.join(KEYS)})")
    if key == "age":
        return Constraint("age", age_range=_age_range(text, raw.strip()))
    values = tuple(v.strip().lower() for v in raw.split(",") if v.strip())
    if not values:
        raise UsageError(f"--subpopulation {text}: no values given")
    if key == "interests":
        unknown = [v for v in values if v not in INTEREST_GROUPS]
        if unknown:
            raise UsageError(f"--subpopulation {text}: unknown interest group {unknown[0]!r} "
                             f"(groups: {', '.join(INTEREST_GROUPS)})")
    return Constraint(key, values)


def _age_range(text: str, raw: str) -> tuple[int, int]:
    lo, dash, hi = raw.partition("-")
    try:
        low = int(lo) if lo.strip() else 0
        high = int(hi) if hi.strip() else 120
        if not dash:
            high = low
    except ValueError:
        raise UsageError(f"--subpopulation {text}: age must be A-B, A-, -B or one age (whole years)") from None
    if low > high or low < 0:
        raise UsageError(f"--subpopulation {text}: the age range is empty")
    return low, high


def select(personas: list[Persona], constraints: list[Constraint]) -> list[Persona]:
    return [p for p in personas if all(c.matches(p) for c in constraints)]
