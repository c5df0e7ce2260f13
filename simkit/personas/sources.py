"""Readers for the users' posts that personas are generated from.

Formats:
- simkit JSONL (default): one user per line,
  `{"user_id": "u017", "posts": ["text", ...], "meta": {"age": 34, "gender": "female",
  "region": "Leeds, UK", "occupation": "nurse"}}`; a post may also be `{"text": ..., "date": ...}`;
  `meta` and each of its keys are optional.
- Blog Authorship Corpus, original layout: a folder of `<id>.<gender>.<age>.<industry>.<sign>.xml`
  files holding `<date>...</date><post>...</post>` pairs (latin-1, not well-formed XML).
- Blog Authorship Corpus, CSV layout (`blogtext.csv`): columns id, gender, age, topic, sign,
  date, text; one post per row.
"""

from __future__ import annotations

import csv
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from simkit.errors import UsageError

FORMATS = ("auto", "simkit", "blog-xml", "blog-csv")
_META_KEYS = ("age", "gender", "region", "occupation")
_BLOG_POST = re.compile(r"<date>(.*?)</date>\s*<post>(.*?)</post>", re.S | re.I)


@dataclass
class SourceUser:
    user_id: str
    posts: list[str]
    meta: dict = field(default_factory=dict)

    def trimmed(self, max_posts: int, max_chars: int) -> list[str]:
        """The first posts, cut so the prompt fits a small model's context."""
        out, used = [], 0
        for post in self.posts[:max_posts]:
            room = max_chars - used
            if room < 80:
                break
            text = post if len(post) <= room else post[:room].rsplit(" ", 1)[0] + " ..."
            out.append(text)
            used += len(text)
        return out


def read_source(path: Path, fmt: str = "auto", max_posts: int | None = None) -> list[SourceUser]:
    """Users with at least one post; only the first `max_posts` of each are kept, so the
    whole Blog Authorship Corpus (681,288 posts) reads without holding every post."""
    path = Path(path)
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: choose one of {', '.join(FORMATS)}")
    if not path.exists():
        raise UsageError(f"{path}: source file not found")
    if fmt == "auto":
        fmt = "blog-xml" if path.is_dir() else "blog-csv" if path.suffix.lower() == ".csv" else "simkit"
    users = {"simkit": _simkit, "blog-xml": _blog_xml, "blog-csv": _blog_csv}[fmt](path, max_posts)
    users = [u for u in users if u.posts]
    if not users:
        raise UsageError(f"{path}: no users with posts found")
    return users


def _simkit(path: Path, max_posts: int | None) -> list[SourceUser]:
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; the simkit format is one JSONL file (or use --format blog-xml)")
    users: list[SourceUser] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UsageError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            user = _simkit_user(path, lineno, record, seen)
            user.posts = user.posts[:max_posts]
            users.append(user)
    return users


def _simkit_user(path: Path, lineno: int, record, seen: set) -> SourceUser:
    where = f"{path}:{lineno}"
    if not isinstance(record, dict):
        raise UsageError(f"{where}: expected an object with user_id and posts")
    user_id = record.get("user_id")
    if not isinstance(user_id, (str, int)) or str(user_id).strip() == "":
        raise UsageError(f"{where}: user_id: required (a string)")
    user_id = str(user_id)
    if user_id in seen:
        raise UsageError(f"{where}: user_id {user_id!r} appears twice")
    seen.add(user_id)
    posts = record.get("posts")
    if not isinstance(posts, list):
        raise UsageError(f"{where}: posts: expected a list of texts")
    texts = []
    for i, post in enumerate(posts):
        text = post.get("text") if isinstance(post, dict) else post
        if not isinstance(text, str):
            raise UsageError(f"{where}: posts[{i}]: expected a text or an object with 'text'")
        if text.strip():
            texts.append(text.strip())
    meta = record.get("meta") or {}
    if not isinstance(meta, dict):
        raise UsageError(f"{where}: meta: expected an object")
    unknown = sorted(set(meta) - set(_META_KEYS))
    if unknown:
        raise UsageError(f"{where}: meta.{unknown[0]}: unknown key (known: {', '.join(_META_KEYS)})")
    return SourceUser(user_id, texts, {k: v for k, v in meta.items() if v not in (None, "")})


def _blog_meta(gender: str, age: str, industry: str) -> dict:
    meta: dict = {"gender": gender.lower()} if gender else {}
    if age.strip().isdigit():
        meta["age"] = int(age)
    if industry and industry != "indUnk":
        meta["occupation"] = industry.replace("-", " ").lower()
    return meta


def _blog_xml(path: Path, max_posts: int | None) -> list[SourceUser]:
    if not path.is_dir():
        raise UsageError(f"{path}: the blog-xml format is a folder of <id>.<gender>.<age>.<industry>.<sign>.xml files")
    users = []
    for file in sorted(path.glob("*.xml")):
        parts = file.stem.split(".")
        if len(parts) != 5:
            raise UsageError(f"{file}: name should be <id>.<gender>.<age>.<industry>.<sign>.xml")
        text = file.read_text(encoding="latin-1")
        posts = [" ".join(html.unescape(p).split()) for _, p in _BLOG_POST.findall(text)][:max_posts]
        users.append(SourceUser(parts[0], posts, _blog_meta(parts[1], parts[2], parts[3])))
    return users


def _blog_csv(path: Path, max_posts: int | None) -> list[SourceUser]:
    users: dict[str, SourceUser] = {}
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("id", "gender", "age", "topic", "text") if c not in (reader.fieldnames or [])]
        if missing:
            raise UsageError(f"{path}: not the blog-csv layout: missing columns {', '.join(missing)}")
        for row in reader:
            user = users.setdefault(row["id"], SourceUser(row["id"], [], _blog_meta(row["gender"], row["age"], row["topic"])))
            text = " ".join((row["text"] or "").split())
            if text and (max_posts is None or len(user.posts) < max_posts):
                user.posts.append(text)
    return list(users.values())
