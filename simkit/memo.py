"""`per_object`: a one-argument function's result kept per argument object.

For values derived from objects that are not hashable (a schema dict) or whose equality is
dearer than the work (a persona model), and that never change once made: the object itself
is the key, by identity, and is held with its result so its id cannot be reused.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

R = TypeVar("R")


def per_object(limit: int) -> Callable[[Callable[[Any], R]], Callable[[Any], R]]:
    """Decorate `fn(obj)` to run once per object; the store is emptied past `limit` objects."""

    def wrap(fn: Callable[[Any], R]) -> Callable[[Any], R]:
        store: dict[int, tuple[Any, R]] = {}

        @functools.wraps(fn)
        def cached(obj: Any) -> R:
            hit = store.get(id(obj))
            if hit is None or hit[0] is not obj:
                if len(store) > limit:
                    store.clear()
                hit = store[id(obj)] = (obj, fn(obj))
            return hit[1]

        return cached

    return wrap


__all__ = ["per_object"]
