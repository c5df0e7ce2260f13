"""`per_object`: results kept per argument object, by identity."""

from simkit.memo import per_object


def test_a_result_is_made_once_per_object_and_not_shared_with_an_equal_one():
    made: list[dict] = []

    @per_object(limit=2)
    def text(obj: dict) -> str:
        made.append(obj)
        return str(sorted(obj))

    a, b = {"x": 1}, {"x": 1}
    assert text(a) == text(a) == text(b) == "['x']"
    assert [m is a for m in made] == [True, False]  # a once, then b (equal, but another object)


def test_the_store_is_emptied_past_its_limit():
    made: list[object] = []

    @per_object(limit=2)
    def mark(obj: object) -> int:
        made.append(obj)
        return len(made)

    objs = [object() for _ in range(4)]
    for o in objs:
        mark(o)
    assert mark(objs[0]) == 5  # forgotten when the store went past 2 objects
    assert mark(objs[0]) == 5
