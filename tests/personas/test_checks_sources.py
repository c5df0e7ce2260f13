"""Rule checks on drafts, and the readers of users' posts."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkit.errors import UsageError
from simkit.personas import checks
from simkit.personas.sources import read_source


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("write to sam.101@example.com any time", "an email address"),
        ("see www.myblog.com for more", "a web link"),
        ("call +44 7700 900123 tonight", "a phone number"),
        ("follow @sam_101 for updates", "a social-media handle"),
        ("she lives at 42 Elm Street", "a street address"),
    ],
)
def test_identifiers_are_found(text, kind):
    assert checks.find_identifiers(text)[0][0] == kind


def test_plain_prose_has_no_identifiers():
    assert checks.find_identifiers("Dana, 41, a bus driver from Leeds, ran a 10k in 2023 and loves jollof rice.") == []


def test_identifier_problem_says_when_it_was_copied_from_the_posts():
    posts = ["Selling my bike, email me at sam.101@example.com"]
    reason = checks.identifier_problem("Sam (sam.101@example.com) sells bikes.", posts)
    assert reason == "contains an email address (sam.101@example.com) copied from the posts"


def test_verbatim_passages_are_caught_short_overlaps_are_not():
    posts = ["Spent two hours debugging something that turned out to be a missing comma. Classic."]
    assert checks.verbatim_problem("He spent two hours debugging something that turned out to be a missing comma.", posts)
    assert checks.verbatim_problem("He often spends two hours debugging, usually over a missing comma.", posts) is None


def test_consistency_against_the_source_and_within_the_narrative():
    assert "contradicts the source" in checks.consistency_problem(60, "female", "", {"age": 30})
    assert "gender male contradicts" in checks.consistency_problem(30, "male", "", {"gender": "female"})
    assert "says 52 years old" in checks.consistency_problem(30, "female", "A 52-year-old nurse.", {})
    assert checks.consistency_problem(30, "female", "A 30-year-old nurse.", {"age": 31, "gender": "female"}) is None


@given(st.text(max_size=200))
def test_identifier_search_never_fails(text):
    for kind, value in checks.find_identifiers(text):
        assert value in text


def test_simkit_jsonl_source(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text(
        json.dumps({"user_id": "u1", "posts": ["hello", {"text": "world", "date": "2024-01-01"}],
                    "meta": {"age": 30}}) + "\n\n" + json.dumps({"user_id": 2, "posts": []}) + "\n"
    )
    users = read_source(path)
    assert [(u.user_id, u.posts, u.meta) for u in users] == [("u1", ["hello", "world"], {"age": 30})]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"posts": ["x"]}', ":1: user_id: required"),
        ('{"user_id": "a", "posts": "x"}', ":1: posts: expected a list"),
        ('{"user_id": "a", "posts": [3]}', ":1: posts\\[0\\]: expected a text"),
        ('{"user_id": "a", "posts": ["x"], "meta": {"shoe": 9}}', ":1: meta.shoe: unknown key"),
        ("[1, 2", ":1: not valid JSON"),
    ],
)
def test_bad_source_lines_name_the_line(tmp_path, line, message):
    path = tmp_path / "posts.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(UsageError, match=message):
        read_source(path)


def test_duplicate_users_and_empty_sources_are_errors(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"user_id": "a", "posts": ["x"]}\n{"user_id": "a", "posts": ["y"]}\n')
    with pytest.raises(UsageError, match=":2: user_id 'a' appears twice"):
        read_source(path)
    path.write_text('{"user_id": "a", "posts": []}\n')
    with pytest.raises(UsageError, match="no users with posts"):
        read_source(path)


def test_blog_authorship_xml_layout(tmp_path):
    folder = tmp_path / "blogs"
    folder.mkdir()
    (folder / "1000331.female.37.indUnk.Leo.xml").write_bytes(
        b"<Blog>\n<date>31,May,2004</date>\n<post>\n  Went to the caf\xe9 &amp; read.\n</post>\n"
        b"<date>29,May,2004</date>\n<post>Rain again.</post>\n</Blog>\n"
    )
    (folder / "1000866.male.17.Student.Libra.xml").write_text("<Blog><date>1</date><post>hi</post></Blog>")
    users = read_source(folder)
    assert users[0].user_id == "1000331" and users[0].meta == {"gender": "female", "age": 37}
    assert users[0].posts == ["Went to the café & read.", "Rain again."]
    assert users[1].meta == {"gender": "male", "age": 17, "occupation": "student"}


def test_blog_authorship_csv_layout(tmp_path):
    path = tmp_path / "blogtext.csv"
    path.write_text("id,gender,age,topic,sign,date,text\n"
                    '7,male,25,Technology,Aries,"01,May,2004","  First  post "\n'
                    '7,male,25,Technology,Aries,"02,May,2004",Second\n'
                    "8,female,33,indUnk,Leo,x,Hello\n")
    users = read_source(path)
    assert [(u.user_id, u.posts) for u in users] == [("7", ["First post", "Second"]), ("8", ["Hello"])]
    assert [u.posts for u in read_source(path, max_posts=1)] == [["First post"], ["Hello"]]
    assert users[0].meta["occupation"] == "technology" and "occupation" not in users[1].meta


@pytest.mark.parametrize("name", ["Maya Okafor", "Seán Ó Briain", "Mary-Jane O'Neil", "Zoë de Vries", "Li Wei"])
def test_real_looking_names_pass(name):
    assert checks.name_problem(name) is None


@pytest.mark.parametrize("name", ["Jordan", "<NAME>", ".smoll", "Specter103",
                                  "A new first and last name you make up", "@sam_101 Smith"])
def test_handles_placeholders_and_prompt_echoes_are_not_names(name):
    assert checks.name_problem(name) == f"name {name!r} is not a first and last name"


records = st.dictionaries(
    st.sampled_from(["user_id", "posts", "meta", "extra"]),
    st.none() | st.integers() | st.text(max_size=8) | st.lists(st.text(max_size=8) | st.integers(), max_size=3)
    | st.dictionaries(st.sampled_from(["age", "gender", "text", "shoe"]), st.integers() | st.text(max_size=5), max_size=2),
    max_size=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(records, min_size=1, max_size=4))
def test_any_jsonl_is_users_or_a_usage_error_naming_the_file(tmp_path, lines):
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    try:
        users = read_source(path)
    except UsageError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert all(u.posts and isinstance(u.user_id, str) for u in users)
