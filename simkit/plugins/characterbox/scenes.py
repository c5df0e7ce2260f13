"""Scene files in the authors' JSON layout (CharacterBox `data/*/*.json`), read strictly.

A file is `{"title", "scenes": [{"id", "event", "time", "location", "description",
"characters": [{"name", "description", "position", "states", ...}], "actions": [opening
beat], "plot", "chunk"}]}`. A missing field, or a character named twice, is one ConfigError line
naming the file and the field. Fields the authors' own loader ignores (their pydantic v1
models drop extras: e.g. `characters[].dialogue` in generated_data/Harry_Potter.json,
`actions[].description` in generated_data/The_Lord_of_the_Rings.json) are ignored here too,
with one warning per file naming them.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    field_validator,
    model_validator,
)

from simkit.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="allow")  # extras are collected by `_extras` and warned about

CJK = re.compile("[\u4e00-\u9fff]")


def language_of(text: str) -> str:
    """"zh" when the text holds a CJK ideograph, else "en" (the authors' detect_language)."""
    return "zh" if CJK.search(text) else "en"


def _extras(model: BaseModel, where: str = "") -> list[str]:
    """Dotted paths of the fields a model (and its children) did not declare."""
    out = [f"{where}{k}" for k in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, BaseModel):
                index = f"[{i}]" if isinstance(value, list) else ""
                out += _extras(item, f"{where}{name}{index}.")
    return out


class CharacterInfo(_Strict):
    name: str
    description: str
    position: str
    states: str
    id: int | None = None
    gender: str = ""

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a character needs a name")
        return value.strip()


class Beat(_Strict):
    """One line of the opening beat: what a character did and said before round 1."""

    character: str
    action: str = ""
    dialogue: str = ""
    action_id: int | None = None
    character_id: int | None = None


class Chunk(_Strict):
    id: int | None = None
    text: str = ""


class SceneInfo(_Strict):
    id: int
    event: str
    time: str
    location: str
    description: str
    characters: list[CharacterInfo]
    actions: list[Beat] = []
    plot: str = ""
    chunk: Chunk | None = None

    @model_validator(mode="after")
    def _cast(self) -> SceneInfo:
        if not self.characters:
            raise ValueError("characters: a scene needs at least one character")
        seen: dict[str, str] = {}
        for i, c in enumerate(self.characters):
            if c.name.casefold() in seen:
                first = seen[c.name.casefold()]
                same = "is named twice" if first == c.name else f"and {first!r} are one name (case aside)"
                raise ValueError(f"characters[{i}].name: {c.name!r} {same}")
            seen[c.name.casefold()] = c.name
        ids = [c.id for c in self.characters if c.id is not None]
        if len(set(ids)) != len(ids):
            first = next(i for i in ids if ids.count(i) > 1)
            a, b = [c.name for c in self.characters if c.id == first][:2]
            raise ValueError(f"characters: {a!r} and {b!r} share the id {first}")
        for i, beat in enumerate(self.actions):
            if beat.character.strip().casefold() not in seen:
                raise ValueError(f"actions[{i}].character: {beat.character!r} is not a character of the scene")
        return self

    @property
    def language(self) -> str:
        return language_of(self.event)


class SceneFile(_Strict):
    title: str
    scenes: list[SceneInfo]


def _where(error: dict) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in error["loc"]).replace(".[", "[")


def load_scene_file(path: Path) -> SceneFile:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: scene file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a JSON scene file ({exc})") from None
    try:
        work = SceneFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = _where(error)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "missing field"
        elif error["type"] == "extra_forbidden":
            message = "unknown field"
        raise ConfigError(f"{path}: {where}: {message}" if where else f"{path}: {message}") from None
    ignored = sorted({re.sub(r"\[\d+\]", "[]", p) for p in _extras(work)})
    if ignored:
        print(f"warning: {path}: ignored fields the authors' loader ignores too: {', '.join(ignored)}", file=sys.stderr)
    return work


def load_scenes(path: Path, ids: list[int] | None = None) -> list[tuple[str, SceneInfo]]:
    """(title, scene) pairs of a file, or of every *.json file under a folder (its subfolders
    too, e.g. the authors' `data/` with extracted_scenes/ and generated_data/; sorted by path),
    keeping `ids` only when given (in file order)."""
    path = Path(path)
    files = sorted(path.rglob("*.json")) if path.is_dir() else [path]
    if not files:
        raise ConfigError(f"{path}: no *.json scene files in this folder")
    out = []
    for file in files:
        work = load_scene_file(file)
        out += [(work.title, scene) for scene in work.scenes]
    if ids:
        known = {s.id for _, s in out}
        missing = [i for i in ids if i not in known]
        if missing:
            raise ConfigError(f"{path}: characterbox.scene_ids: no scene with id {missing[0]} (ids: {sorted(known)})")
        out = [(t, s) for t, s in out if s.id in ids]
    return out
