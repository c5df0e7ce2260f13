"""Scripted answers for the persona pipeline: plausible, deterministic, no model.

Registered on a `ScriptedBackend` for tests and dry runs (`--llm scripted`). They read the
prompts the pipeline really sends: the narrative responder reads the posts and the known
facts, picks interest groups by topic words and describes the author's temperament from
tone words, and states the five fact groups from the same cues (values and experiences from
topic cues, e.g. a food-bank post gives "volunteered a shift at a food bank"); the IPIP responder reads that description back and answers each item (in the
shuffled order it was asked) from the implied trait levels, with a little noise. So a
persona whose posts worry a lot ends up with a high N score, as it should.
"""

from __future__ import annotations

import re

import numpy as np

from simkit.llm.base import LLMRequest
from simkit.personas import ipip
from simkit.personas.model import INTEREST_GROUPS

TOPIC_WORDS = {
    "entertainment": ("episode", "show", "film", "cinema", "playlist", " live ", "quiz", "karaoke", "season"),
    "sports": ("match", "goal", "team", "ref", "training", "10k", "personal best", "coached", "transfer"),
    "lifestyle": ("cooked", "bakery", "plants", "walk", "painted", "packed", "recipe", "spend", "scratch"),
    "society": ("council", "petition", "election", "food bank", "neighbour", "community", "rent", "bus route"),
    "culture": ("book", "museum", "exhibition", "poetry", "theatre", "reading", "history", "sketching"),
    "technology": ("server", "app", "debugging", "script", "battery", "two-factor", "printer", "ai "),
}
# tone cues in posts -> the temperament words the narrative uses -> the level IPIP answers use
TONE = {
    ("E", +1): (("party", "friends over", "stranger", "karaoke", "the more the merrier"), "outgoing and sociable"),
    ("E", -1): (("stayed in", "social battery", "nobody to talk", "small doses", "don't have to talk"), "reserved and private"),
    ("N", +1): (("anxious", "couldn't sleep", "too much", "checked three times", "worry all"), "anxious and easily stressed"),
    ("N", -1): (("these things happen", "stay so calm", "moved on", "slept fine"), "calm and even-tempered"),
    ("C", +1): (("plan the week", "colour-coded", "early", "due"), "organised and dependable"),
    ("C", -1): (("forgot", "oops", "last week, started", "work on the sofa"), "disorganised and spontaneous"),
    ("A", +1): (("kind", "helped", "lend a hand", "shopping"), "warm and helpful"),
    ("A", -1): (("deserve a special", "not interested in hearing", "someone had to say", "don't do small talk"), "blunt and critical"),
    ("O", +1): (("been thinking", "curiosity", "story", "different route"), "curious and imaginative"),
    ("O", -1): (("why change", "normal burger", "a square is a square", "my routine"), "conventional and practical"),
}
HABITS = {  # a cue in the posts -> what the narrative says the author does
    "match": "follows football and argues about referees", "10k": "is training for a 10k",
    "coached": "coaches a youth team at weekends", "personal best": "keeps track of personal bests",
    "episode": "binge-watches TV series", " live ": "goes to gigs", "cinema": "goes to the cinema",
    "quiz": "never misses a pub quiz", "cooked": "cooks big batches at home", "bakery": "hunts for good bakeries",
    "plants": "looks after a lot of houseplants", "no-spend": "tries to keep spending down",
    "food bank": "volunteers at a food bank", "petition": "signs petitions about local issues",
    "meeting about": "goes to community meetings", "bus route": "depends on public transport",
    "book club": "belongs to a book club", "museum": "spends afternoons in museums",
    "theatre": "goes to the theatre", "portuguese": "is learning a language",
    "server": "tinkers with home servers", "debugging": "writes code", "printer": "is the family's IT help",
    "two-factor": "cares about online security", "battery": "repairs their own gadgets",
}
VALUES = {  # a cue in the posts -> a value the facts state
    "food bank": "helping people who are struggling", "petition": "having a say in local decisions",
    "meeting about": "a community that looks after itself", "no-spend": "living within their means",
    "two-factor": "privacy and security online", "plan the week": "being prepared",
    "friends over": "time with friends", "coached": "giving young people a chance", "helped": "being there for others",
    "personal best": "steady self-improvement", "book club": "learning and good conversation",
    "my routine": "routine and familiar things", "curiosity": "curiosity and new ideas", "rent": "fair housing",
}
GROUP_VALUES = {"entertainment": "enjoying life's small pleasures", "sports": "effort and fair play",
                "lifestyle": "a comfortable, well-kept home life", "society": "fairness in their community",
                "culture": "learning and ideas", "technology": "things that work well"}
EXPERIENCES = {  # a cue in the posts -> something the facts say happened to the author
    "10k": "trained for a 10k run", "coached": "coached a youth team through a season",
    "personal best": "set a new personal best", "match": "watched a tense match and argued about the referee",
    "cinema": "saw a film at the cinema", " live ": "went to a live gig", "quiz": "took part in a pub quiz",
    "cooked": "cooked a big batch of food for the week", "bakery": "found a new bakery", "plants": "repotted their houseplants",
    "food bank": "volunteered a shift at a food bank", "petition": "signed a petition about a local issue",
    "bus route": "had their bus route changed", "museum": "spent an afternoon in a museum", "theatre": "went to the theatre",
    "book club": "hosted their book club", "server": "rebuilt a home server", "debugging": "spent an evening debugging code",
    "printer": "fixed the family printer", "battery": "replaced a battery in an old gadget",
    "couldn't sleep": "lay awake worrying before a big day", "forgot": "forgot an appointment and had to rearrange it",
    "stranger": "struck up a conversation with a stranger", "colour-coded": "planned their week in a colour-coded calendar",
}
NAMES = {
    "female": ("Maya Okafor", "Priya Nair", "Grace Lim", "Aoife Walsh", "Nadia Haddad", "Zara Ahmed", "Ruth Mensah",
               "Hannah Berg", "Chloe Dubois", "Amara Eze", "Julia Novak", "Mei Tan", "Sofia Russo", "Kate Byrne"),
    "male": ("Tom Brennan", "Lucas Meyer", "Daniel Reyes", "Owen Price", "Ben Kowalski", "Leo Santos", "Ravi Menon",
             "Kwame Boateng", "Jonas Weber", "Marco Silva", "Sean Doyle", "Hiro Sato", "Ade Bello", "Luke Foster"),
    "non-binary": ("Sam Carter", "Alex Morgan", "Robin Hale", "Jordan Ellis", "Kai Lindqvist", "Rowan Pike"),
}
_POST = re.compile(r"^\[\d+\] (.*)$", re.M)
_FACTS = re.compile(r"^About the author: (.*)\.$", re.M)
_ITEM = re.compile(r"^q(\d\d)\. (.*)$", re.M)
_BY_TEXT = {item.text: item for item in ipip.ITEMS}


def _user_text(request: LLMRequest) -> str:
    return "\n".join(m["content"] for m in request.messages if m["role"] == "user")


def _facts(text: str) -> dict:
    match = _FACTS.search(text)
    if not match:
        return {}
    return dict(part.split(": ", 1) for part in match.group(1).split("; ") if ": " in part)


def narrative(request: LLMRequest, rng: np.random.Generator) -> dict:
    text = _user_text(request)
    posts = " ".join(_POST.findall(text)).lower()
    facts = _facts(text)
    scores = {g: sum(posts.count(w) for w in words) for g, words in TOPIC_WORDS.items()}
    interests = [g for g in INTEREST_GROUPS if scores[g] > 0]
    interests = sorted(interests, key=lambda g: -scores[g])[:3] or [str(rng.choice(INTEREST_GROUPS))]
    tones = [label for (_, _), (cues, label) in TONE.items() if any(c in posts for c in cues)]
    age = int(facts.get("age", rng.integers(20, 60)))
    gender = facts.get("gender", str(rng.choice(["female", "male"])))
    occupation = facts.get("occupation", "office worker")
    region = facts.get("region", "Manchester, UK")
    names = NAMES.get(gender, NAMES["non-binary"])
    name = names[int(rng.integers(len(names)))]
    habits = [phrase for cue, phrase in HABITS.items() if cue in posts][:3] or ["posts about everyday life"]
    first = name.split()[0]
    story = (
        f"{first} is a {age}-year-old {occupation} living in {region}. "
        f"{first} {_series(habits)}. "
        f"People who know {first} would call them {_series(tones[:3]) if tones else 'even-tempered and hard to read'}. "
        f"Their posts are short, informal updates, mostly about {' and '.join(interests)}."
    )
    values = [v for cue, v in VALUES.items() if cue in posts][:2] or [GROUP_VALUES[interests[0]]]
    happened = [e for cue, e in EXPERIENCES.items() if cue in posts][:3] or [f"wrote about {interests[0]} over several weeks"]
    facts = {
        "background": [f"{first} is a {age}-year-old {occupation}.", f"{first} lives in {region}."],
        "personality": [f"{first} is {t}." for t in tones[:3]] or [f"{first} is even-tempered and hard to read."],
        "values": [f"{first} values {v}." for v in values],
        "interests": [f"{first} {h}." for h in habits],
        "experiences": [f"{first} {e}." for e in happened],
    }
    return {"name": name, "age": age, "gender": gender, "region": region, "occupation": occupation,
            "interests": interests, "narrative": story, "facts": facts}


def _series(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def judge(request: LLMRequest, rng: np.random.Generator) -> dict:
    """Fidelity 4 when the persona's interests show up in the posts' topics, 2 when they do not."""
    text = _user_text(request).lower()
    posts = " ".join(_POST.findall(text))
    interests = re.search(r"^interests: (.*)\.$", text, re.M)
    groups = [g.strip() for g in interests.group(1).split(",")] if interests else []
    supported = [g for g in groups if any(w in posts for w in TOPIC_WORDS.get(g, ()))]
    if groups and len(supported) == len(groups):
        return {"fidelity": 4, "reason": "The interests and tone match the posts."}
    return {"fidelity": 2, "reason": "Interests are not supported by the posts."}


BASELINE = {"O": 3.8, "C": 3.4, "E": 3.0, "A": 3.8, "N": 3.0}  # near human means: an ordinary person


def trait_levels(description: str) -> dict[str, float]:
    levels = dict(BASELINE)
    for (trait, sign), (_, label) in TONE.items():
        if label in description:
            levels[trait] += 1.0 * sign
    return levels


def ipip_answers(request: LLMRequest, rng: np.random.Generator) -> dict:
    system = " ".join(m["content"] for m in request.messages if m["role"] == "system")
    levels = {t: v + rng.normal(0, 0.35) for t, v in trait_levels(system).items()}  # individual differences
    out = {}
    for number, text in _ITEM.findall(_user_text(request)):
        item = _BY_TEXT[text]
        answer = int(np.clip(round(levels[item.trait] + rng.normal(0, 0.7)), 1, 5))
        out[f"q{number}"] = ipip.keyed(item, answer)  # keyed() is its own inverse
    return out


def register(backend) -> None:
    """Attach the persona responders to a `ScriptedBackend`."""
    backend.register("persona.narrative", narrative)
    backend.register("persona.judge", judge)
    backend.register("persona.ipip", ipip_answers)
