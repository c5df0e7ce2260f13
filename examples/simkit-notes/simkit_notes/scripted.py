"""What the scripted backend answers for `notes.step`: list the notes, read the one whose
title best matches the task, send its text, then stop. It reads the conversation, so a
failed step (a refused send, say) is tried again the way a model would."""

from __future__ import annotations

import re


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def step(request, rng):
    texts = [m.get("content") or "" for m in request.messages]
    task = next((m["content"] for m in request.messages if m["role"] == "user"), "")
    listing = next((t for t in texts if t.startswith("Result of notes_list")), None)
    note = next((t for t in texts if t.startswith("Result of notes_read") and "error" not in t), None)
    sent = any(t.startswith("Result of message_send") and "error" not in t for t in texts)
    if listing is None:
        return {"tool": "notes_list", "arguments": {}}
    if note is None:
        titles = re.findall(r'"(\d+): ([^"]+)"', listing)
        best = max(titles, key=lambda t: len(_words(t[1]) & _words(task)), default=("0", ""))
        return {"tool": "notes_read", "arguments": {"index": int(best[0])}}
    if not sent:
        contact = re.search(r"your contact: (\w+)", " ".join(texts))
        body = note.split(":", 1)[1].strip()
        return {"tool": "message_send", "arguments": {"to": contact.group(1) if contact else "Sam", "text": body[:300]}}
    return {"tool": "none", "message": "Done."}
