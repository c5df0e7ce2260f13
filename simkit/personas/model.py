"""The `Persona` model and its JSONL exchange format."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simkit.errors import UsageError

TRAITS = ("O", "C", "E", "A", "N")
INTEREST_GROUPS = ("entertainment", "sports", "lifestyle", "society", "culture", "technology")


class Demographics(BaseModel):
    model_config = ConfigDict(extra="forbid")
    age: int | None = Field(default=None, ge=0, le=120)
    gender: str | None = None
    region: str | None = None
    occupation: str | None = None


class BigFive(BaseModel):
    """Item-mean scores on the IPIP-50 scale (1-5)."""

    model_config = ConfigDict(extra="forbid")
    O: float = Field(ge=1, le=5)
    C: float = Field(ge=1, le=5)
    E: float = Field(ge=1, le=5)
    A: float = Field(ge=1, le=5)
    N: float = Field(ge=1, le=5)

    def as_tuple(self) -> tuple[float, ...]:
        return tuple(getattr(self, t) for t in TRAITS)


FACT_GROUPS = ("background", "personality", "values", "interests", "experiences")


class Facts(BaseModel):
    """Structured facts in the five groups PersonaArena's checkpoints are judged against
    (the paper's persona facts: background, personality, values, interests, experiences),
    each a few short statements."""

    model_config = ConfigDict(extra="forbid")
    background: list[str] = Field(default_factory=list)
    personality: list[str] = Field(default_factory=list)
    values: list[str] = Field(default_factory=list)
    interests: list[str] = Field(default_factory=list)
    experiences: list[str] = Field(default_factory=list)

    def missing(self) -> list[str]:
        """The groups without a single statement."""
        return [g for g in FACT_GROUPS if not getattr(self, g)]


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    demographics: Demographics = Demographics()
    interests: list[str] = Field(default_factory=list)
    narrative: str = ""
    big_five: BigFive | None = None
    facts: Facts = Field(default_factory=Facts)
    provenance: dict = Field(default_factory=dict)
    quality: float | None = Field(default=None, ge=0, le=1)


def load_personas(path: Path) -> list[Persona]:
    """Read a JSONL persona file; errors name the file and line."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path}: persona file not found")
    if path.is_dir():
        raise UsageError(f"{path}: is a directory, expected a JSONL persona file")
    personas = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a UTF-8 text file (expected a JSONL persona file)") from None
    if "\x00" in text:
        raise UsageError(f"{path}: a binary file, expected a JSONL persona file")
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            personas.append(Persona.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise UsageError(f"{path}:{lineno}: {where}: {first['msg']}") from None
    if not personas:
        raise UsageError(f"{path}: persona file is empty")
    return personas


def write_personas(path: Path, personas: list[Persona]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for p in personas:
            fh.write(p.model_dump_json(exclude_none=True) + "\n")
