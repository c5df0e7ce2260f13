"""Write `personas/source_posts.jsonl`: a small corpus of users' posts, made for simkit.

No real user's words are in it. Each of 500 invented users gets a profile (age, gender,
region, occupation, one to three interest groups) and a latent Big Five profile drawn with
the human inter-trait correlations; their 5-8 posts combine topic posts for their interests
with everyday posts whose tone follows their strongest traits (an anxious user worries in
writing, a tidy one plans, a sociable one throws parties). A few users put contact details
in a post, as real users do, so the pipeline's identifier filter has something to catch.

Deterministic: `python personas/make_corpus.py` always writes the same file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SEED = 20250912
N_USERS = 500
OUT = Path(__file__).with_name("source_posts.jsonl")
CORR = np.array([  # O, C, E, A, N: the shipped reference's correlations
    [1.000, 0.069, 0.186, 0.119, -0.106],
    [0.069, 1.000, 0.101, 0.166, -0.258],
    [0.186, 0.101, 1.000, 0.353, -0.264],
    [0.119, 0.166, 0.353, 1.000, -0.119],
    [-0.106, -0.258, -0.264, -0.119, 1.000],
])

REGIONS = [
    "Leeds, UK", "Glasgow, UK", "Bristol, UK", "Dublin, Ireland", "Cork, Ireland", "Toronto, Canada",
    "Halifax, Canada", "Calgary, Canada", "Austin, Texas, USA", "Columbus, Ohio, USA", "Portland, Oregon, USA",
    "Atlanta, Georgia, USA", "Minneapolis, USA", "Phoenix, Arizona, USA", "Boston, USA", "Sacramento, USA",
    "Melbourne, Australia", "Brisbane, Australia", "Perth, Australia", "Auckland, New Zealand",
    "Pune, India", "Bengaluru, India", "Manila, Philippines", "Cebu, Philippines", "Lagos, Nigeria",
    "Nairobi, Kenya", "Cape Town, South Africa", "Singapore", "Berlin, Germany", "Amsterdam, Netherlands",
]
OCCUPATIONS = [
    "nurse", "primary school teacher", "software developer", "accountant", "electrician", "barista",
    "graphic designer", "student", "retired engineer", "warehouse supervisor", "pharmacist", "chef",
    "bus driver", "marketing coordinator", "civil servant", "dental hygienist", "freelance photographer",
    "data analyst", "plumber", "librarian", "paramedic", "call centre agent", "architect", "farmer",
    "shop assistant", "university lecturer", "mechanic", "social worker", "stay-at-home parent",
    "journalist", "lab technician", "real estate agent", "security guard", "physiotherapist",
]
GROUPS = ["entertainment", "sports", "lifestyle", "society", "culture", "technology"]

FILL = {
    "show": ["Severance", "The Bear", "Slow Horses", "Only Murders in the Building", "Bluey", "Shogun", "Taskmaster"],
    "band": ["Fontaines D.C.", "Arctic Monkeys", "Tems", "Phoebe Bridgers", "Burna Boy", "Wet Leg", "Khruangbin"],
    "film": ["Dune Part Two", "Past Lives", "Oppenheimer", "Poor Things", "The Holdovers", "Inside Out 2"],
    "team": ["the Leafs", "Celtic", "Leeds United", "the Wallabies", "the Buckeyes", "Arsenal", "the Raptors"],
    "sport": ["5-a-side", "parkrun", "pickup basketball", "cricket nets", "swimming", "cycling", "netball"],
    "dish": ["a lentil dal", "sourdough", "jollof rice", "a Thai green curry", "banana bread", "adobo", "shakshuka"],
    "gadget": ["a Raspberry Pi", "my old ThinkPad", "a secondhand Pixel", "a mechanical keyboard", "a 3D printer"],
    "book": ["Klara and the Sun", "Piranesi", "Demon Copperhead", "Braiding Sweetgrass", "The Overstory", "Homegoing"],
    "issue": ["the bus cuts", "rent going up again", "the new housing plan", "school funding", "the hospital waiting lists",
              "the council budget", "the heat wave warnings"],
    "place": ["the museum", "the market", "the old cinema", "the library", "the community garden", "the waterfront"],
    "day": ["Saturday", "Sunday", "Friday night", "Tuesday", "last weekend", "yesterday"],
    "num": ["three", "four", "five", "six", "ten", "twelve"],
}

TOPIC_POSTS = {
    "entertainment": [
        "Finally caught up on {show}. That last episode had me yelling at the screen. No spoilers but WOW.",
        "Saw {band} live {day}. My ears are still ringing and I regret nothing.",
        "Went to see {film} on a whim. Two and a half hours and I didn't check my phone once, which says a lot.",
        "Unpopular opinion: the second season of {show} is better than the first. Fight me.",
        "Made a playlist for the drive tomorrow. Heavy on {band}, a bit of 90s stuff, zero skips allowed.",
        "Rewatched {film} with my cousin who had never seen it. Watching someone see it for the first time is the best.",
        "Is it just me or are cinema snacks now more expensive than the ticket? Paid a small fortune for popcorn {day}.",
        "Quiz night at the pub went badly. We knew every film question and nothing about geography.",
        "Three episodes of {show} 'just to see where it goes'. It is now 1am.",
        "The {band} album is on repeat and my neighbours probably know every word by now.",
    ],
    "sports": [
        "{team} made me suffer again {day}. Two goals up at half time and somehow we drew. Every single week.",
        "Did {sport} this morning for the first time in a month. Legs have filed a formal complaint.",
        "New personal best at {sport} today! Knocked almost a minute off. Small wins.",
        "Watched the match at my uncle's. He shouted at the ref for ninety minutes straight, I think the ref heard him.",
        "Signed up for a 10k in the spring. Someone please remind me why when I'm training in the rain in February.",
        "Our {sport} group has {num} regulars now. Started with just me and one mate two years ago.",
        "Anyone else think the transfer window is just a soap opera for people who like spreadsheets?",
        "Coached the under-10s {day}. They lost 6-1 and were thrilled because they scored. Honestly the right attitude.",
        "Season tickets went up again. Still renewed. Of course I renewed.",
        "Rained the whole of {sport} this morning and somehow it was the best session all month.",
    ],
    "lifestyle": [
        "Made {dish} from scratch {day}. It took three hours and was gone in ten minutes.",
        "Swapped my morning scroll for a walk around the block. Week two and I actually feel less groggy.",
        "Repotted all my plants today. Found out the one I thought was dying was just in the wrong window.",
        "Tried a no-spend week. Made it to Thursday before I bought a coffee I did not need.",
        "Found a tiny bakery near {place} that does cardamom buns. This is going to be a problem.",
        "Packed for a weekend away in one small bag. Growth.",
        "Batch cooked for the week: {dish}, roast veg and a big pot of soup. Future me will be grateful.",
        "Finally painted the spare room. Went with a green called 'quiet meadow'. It is in fact very green.",
        "First attempt at {dish} from my gran's recipe. Not as good as hers, never will be, still lovely.",
        "Decluttered the wardrobe and found {num} jumpers I forgot I owned.",
    ],
    "society": [
        "Went to the meeting about {issue} at the community centre. Packed room, lots of anger, not many answers.",
        "Read three different articles on {issue} and they all said different things. Who do you even trust now.",
        "Signed the petition about {issue}. Not sure it changes anything but it felt better than doing nothing.",
        "Volunteered at the food bank {day}. The queue was longer than last year and that should worry all of us.",
        "My bus route got cut and now the trip to work takes 50 minutes. Whoever decided this doesn't take the bus.",
        "Election leaflets everywhere. Every one of them promises to fix {issue}, none of them say how.",
        "Our street set up a group chat to share tools and lifts. Small thing but it actually works.",
        "Had a long chat with a neighbour about {issue}. We disagree on almost everything but it was a good conversation.",
        "The library near me might close because of {issue}. It's the only warm quiet place some people have.",
        "Wrote to my local councillor about {issue}. Got a reply in two days, which honestly surprised me.",
    ],
    "culture": [
        "Finished {book} last night. I need a few days before I can start anything else.",
        "Spent the afternoon at {place}. There's a small exhibition on local textile workers, really worth an hour.",
        "Book club picked {book} this month. Half of us loved it, half gave up at page 80. Lively evening.",
        "Went to a poetry open mic {day}. Didn't read anything myself but maybe next time.",
        "Learning the basics of Portuguese on my lunch breaks. Day 40. I can order coffee and apologise.",
        "The local theatre did a stripped-back Macbeth with five actors. Brilliant and a bit terrifying.",
        "Tried sketching at {place} today. The drawings are rough but I forgot about everything else for two hours.",
        "Reading about the history of my town. Turns out the old cinema was a chapel before it was a roller rink.",
        "Halfway through {book} and I keep underlining sentences like a student again.",
        "Free entry day at {place}. Went for an hour, stayed for four.",
    ],
    "technology": [
        "Set up {gadget} as a home server {day}. Took all evening, works perfectly, will never touch it again.",
        "Every app wants a subscription now. I just want to pay once for a calculator, is that too much to ask.",
        "Spent two hours debugging something that turned out to be a missing comma. Classic.",
        "Tried one of those AI chat tools to plan my week. It was confidently wrong about what day it was.",
        "Replaced the battery in my phone myself. Tiny screws, a lot of swearing, phone lives on.",
        "Finally turned on two-factor everywhere after my friend's account got hacked. Do it today, honestly.",
        "Built a little script that texts me when my plants need water. Peak nerd, no regrets.",
        "My dad asked me to fix his printer for the fourth time this year. I am the family IT department.",
        "Moved all my photos off the cloud onto {gadget}. Feels good to own my stuff again.",
        "Why does every update move the one button I actually use?",
    ],
}

TRAIT_POSTS = {  # posts whose tone follows a strong trait, high (+) or low (-)
    ("E", +1): [
        "Had {num} friends over for dinner {day} and it turned into a kitchen dance party by midnight. Best night in ages.",
        "Ended up chatting to a stranger on the train for the whole journey. We're meeting for coffee next week.",
        "Organising a picnic for everyone from work. The more the merrier, bring whoever you like!",
        "Karaoke {day}. I did three songs. Nobody asked me to. Everyone sang along anyway.",
    ],
    ("E", -1): [
        "Cancelled plans {day} and stayed in with a book and tea. Zero regrets, my social battery was empty.",
        "Work party next week. Already planning where I can stand so I don't have to talk to too many people.",
        "Perfect evening: headphones on, long walk, nobody to talk to.",
        "I like my friends a lot, I just like them in small doses and one at a time.",
    ],
    ("N", +1): [
        "Couldn't sleep again, kept replaying a conversation from work in my head. Why do I do this.",
        "Got an email that just said 'can we talk tomorrow' and now I'm going to be anxious all night.",
        "Some days everything feels like too much. Today was one of those days.",
        "Checked three times that I locked the door. Still not sure. Going back to check.",
    ],
    ("N", -1): [
        "Flight got cancelled, rebooked for tomorrow, grabbed dinner at the airport. These things happen.",
        "People keep asking how I stay so calm about deadlines. Honestly, worrying never made anything go faster.",
        "Lost my wallet {day}. Cancelled the cards, had a coffee, moved on. It's just stuff.",
        "Rough week at work but I slept fine. Tomorrow is a new day.",
    ],
    ("C", +1): [
        "Sunday ritual: plan the week, prep the lunches, clear the inbox. Monday me will thank Sunday me.",
        "Colour-coded my calendar and labelled every box in the shed. Deeply satisfying.",
        "Handed the report in two days early. I don't like leaving things to the last minute.",
        "I keep a list of every bill and when it's due. Nothing has been late in four years.",
    ],
    ("C", -1): [
        "Found a parking ticket from March in my coat pocket. It is now November. Oops.",
        "Meant to start the assignment last week, started it an hour ago. It'll be fine. Probably.",
        "My desk has reached the point where I work on the sofa instead.",
        "Forgot my keys, my lunch and my charger today. Impressive even for me.",
    ],
    ("A", +1): [
        "My neighbour has been ill so I've been doing her shopping. She insists on paying me in biscuits. Fair trade.",
        "Whatever you're going through today, be kind to yourself. And to the tired person serving your coffee.",
        "Helped a lost tourist find the station and ended up walking them all the way there. Nice chat though.",
        "Always happy to lend a hand if anyone needs help moving this weekend, just message me.",
    ],
    ("A", -1): [
        "People who stop dead at the top of escalators deserve a special kind of fine.",
        "Not interested in hearing everyone's opinion on my life choices, thanks.",
        "Told a colleague his idea was bad. It was bad. Someone had to say it.",
        "I don't do small talk and I don't pretend to care about things I don't care about.",
    ],
    ("O", +1): [
        "Been thinking about why we find some music sad. Is it the key, the tempo, or just what we learned as kids?",
        "Signed up for a pottery class, a night course on astronomy and a Spanish meetup. Curiosity is expensive.",
        "Wrote a short story about a lighthouse keeper who collects other people's dreams. Might turn it into something.",
        "Took a different route home just to see what was there. Found a tiny museum of old radios.",
    ],
    ("O", -1): [
        "Same holiday spot for the eleventh year running. Why change what works.",
        "Tried the fancy fusion place everyone's talking about. Give me a normal burger any day.",
        "Don't see the point of modern art. A square is a square.",
        "I like my routine. Same breakfast, same walk, same show in the evening. No complaints.",
    ],
}

OPENERS = ["Ok so", "Update:", "Honestly,", "Random thought:", "Small win:", "Not gonna lie,", "So.", "Well."]
CLOSERS = ["Anyway.", "Send help.", "Worth it.", "No regrets.", "Could be worse.", "Onwards.", "Thoughts?",
           "Will report back.", "That's it, that's the post.", "Long week."]
HASHTAGS = {"entertainment": ["#nowwatching", "#gigs", "#movienight"], "sports": ["#parkrun", "#matchday", "#training"],
            "lifestyle": ["#homecooking", "#plantparent", "#slowliving"], "society": ["#localnews", "#community"],
            "culture": ["#bookclub", "#amreading", "#museums"], "technology": ["#selfhosted", "#techsupport", "#coding"]}
STYLES = ["plain", "plain", "lowercase", "excited", "dry", "hashtags"]


def voice(post: str, style: str, group: str | None, rng: np.random.Generator) -> str:
    """The same news told in one user's habitual way: openers, sign-offs, case, hashtags."""
    if rng.random() < 0.25:
        opener = OPENERS[int(rng.integers(len(OPENERS)))]
        post = f"{opener} {post[0].lower() + post[1:] if opener.endswith(',') else post}"
    if rng.random() < 0.3:
        post = f"{post} {CLOSERS[int(rng.integers(len(CLOSERS)))]}"
    if style == "lowercase":
        post = post.lower().rstrip(".")
    elif style == "excited":
        post = post.replace(". ", "! ", 1).rstrip(".") + "!"
    elif style == "dry":
        post = post.replace("!", ".")
    elif style == "hashtags" and group:
        post = f"{post} {HASHTAGS[group][int(rng.integers(len(HASHTAGS[group])))]}"
    return post


CONTACT_POSTS = [
    "Selling my old bike, good condition, 80 quid. Email me at {email} if you're interested.",
    "Running a fundraiser for the animal shelter, details on my page or ping me @{handle}.",
    "Lost a grey cat near the park, answers to Biscuit. Call {phone} if you see him please!",
]
FIRST = ["sam", "alex", "jo", "chris", "pat", "dee", "kim", "ravi", "tolu", "maria", "lee", "nina"]


def fill(template: str, rng: np.random.Generator, extra: dict | None = None) -> str:
    values = {k: v[int(rng.integers(len(v)))] for k, v in FILL.items()}
    values.update(extra or {})
    return template.format(**values)


def make_user(k: int, rng: np.random.Generator) -> dict:
    age = int(np.clip(rng.gamma(2.2, 8.0) + 17, 18, 78))
    gender = str(rng.choice(["female", "male"], p=[0.5, 0.5])) if rng.random() > 0.03 else "non-binary"
    region = REGIONS[int(rng.integers(len(REGIONS)))]
    occupation = "student" if age < 22 and rng.random() < 0.6 else OCCUPATIONS[int(rng.integers(len(OCCUPATIONS)))]
    if age >= 67 and rng.random() < 0.7:
        occupation = "retired " + occupation.removeprefix("retired ")
    interests = [GROUPS[i] for i in sorted(rng.choice(6, size=int(rng.integers(1, 4)), replace=False))]
    z = rng.multivariate_normal(np.zeros(5), CORR)  # latent O, C, E, A, N
    n_posts = int(rng.integers(5, 9))
    strong = [(t, 1 if v > 0 else -1, abs(v)) for t, v in zip("OCEAN", z) if abs(v) > 0.6]
    strong.sort(key=lambda s: -s[2])
    style = STYLES[int(rng.integers(len(STYLES)))]
    posts = []
    trait_slots = min(len(strong) * 2, n_posts // 2)
    used: set[str] = set()  # a user does not tell the same story twice
    for i in range(trait_slots):
        trait, sign, _ = strong[i % len(strong)]
        pool = TRAIT_POSTS[(trait, sign)]
        template = pool[int(rng.integers(len(pool)))]
        if template not in used:
            used.add(template)
            posts.append(voice(fill(template, rng), style, None, rng))
    while len(posts) < n_posts:
        group = interests[int(rng.integers(len(interests)))]
        template = TOPIC_POSTS[group][int(rng.integers(len(TOPIC_POSTS[group])))]
        if template not in used:
            used.add(template)
            posts.append(voice(fill(template, rng), style, group, rng))
    if rng.random() < 0.06:
        name = FIRST[int(rng.integers(len(FIRST)))]
        contact = {"email": f"{name}.{100 + k}@example.com", "handle": f"{name}_{k:03d}",
                   "phone": f"+44 7700 900{k:03d}"}
        posts.append(fill(CONTACT_POSTS[int(rng.integers(len(CONTACT_POSTS)))], rng, contact))
    order = rng.permutation(len(posts))
    return {
        "user_id": f"u{k:03d}",
        "posts": [posts[i] for i in order],
        "meta": {"age": age, "gender": gender, "region": region, "occupation": occupation},
    }


def main() -> None:
    rng = np.random.default_rng(SEED)
    with OUT.open("w", encoding="utf-8") as fh:
        for k in range(N_USERS):
            fh.write(json.dumps(make_user(k, rng), ensure_ascii=False) + "\n")
    print(f"wrote {N_USERS} users to {OUT}")


if __name__ == "__main__":
    main()
