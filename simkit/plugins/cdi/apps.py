"""The mock apps (messenger, email, social posts, notes) as in-memory state with an activity
log, and the tools an agent uses on them.

Every change is a row in a plugin table (`cdi_messages`, `cdi_notes`), so the state of any
tick can be rebuilt from the database; the engine's resume re-executes committed ticks and
rebuilds this object exactly. Notifications are activity-log entries that involve an agent
but were not written by it, newer than the agent's last look (B3 `get_new_activity`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from simkit.agents.toolbox import Tool, ToolBox, ToolRefused, tool
from simkit.plugins.cdi.scenario import APP_NAMES, Person

# After these reads an instructor may speak (the authors' four content reads).
CONTENT_READS = frozenset({"messenger_read", "email_read", "social_read", "notes_read"})
SEND_TOOLS = {"messenger": "messenger_send", "email": "email_send", "social": "social_post"}
STOP_TOOLS = ("end_action_cycle", "complete_task")


@dataclass
class Message:
    """A messenger message, an email or a post (`to` is empty for a public post)."""

    id: int
    app: str
    sender: str
    to: list[str]
    text: str
    subject: str = ""
    tick: int = 0

    def view(self, names: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "from": names[self.sender]}
        if self.to:
            out["to"] = ", ".join(names[t] for t in self.to)
        if self.subject:
            out["subject"] = self.subject
        out["text"] = self.text
        return out


@dataclass
class Note:
    id: int
    owner: str
    title: str
    body: str


@dataclass
class Apps:
    """One episode's app state shared by the three agents (ids subject, sender, recipient)."""

    people: dict[str, Person]
    messages: list[Message] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)  # agent -> id of the last message it was notified of

    @property
    def names(self) -> dict[str, str]:
        return {a: p.name for a, p in self.people.items()}

    def resolve(self, who: str, allowed: list[str]) -> str:
        """An agent id from a name, first name, handle or email the model wrote."""
        key = who.strip().lower().lstrip("@")
        for agent in allowed:
            person = self.people[agent]
            if key in {person.name.lower(), person.name.split()[0].lower(), person.handle, person.email, agent}:
                return agent
        contacts = "; ".join(f"{self.people[a].name} ({self.people[a].email})" for a in allowed)
        raise ToolRefused(f"unknown contact {who!r}; your contacts are: {contacts}")

    def add_message(self, app: str, sender: str, to: list[str], text: str, subject: str = "", tick: int = 0) -> Message:
        message = Message(len(self.messages) + 1, app, sender, to, text, subject, tick)
        self.messages.append(message)
        return message

    def add_note(self, owner: str, title: str, body: str) -> Note:
        note = Note(len(self.notes) + 1, owner, title, body)
        self.notes.append(note)
        return note

    def involves(self, agent: str, m: Message) -> bool:
        return m.sender != agent and (agent in m.to or (m.app == "social" and not m.to))

    def pending(self, agent: str) -> list[Message]:
        """Messages for `agent` it has not been notified of."""
        return [m for m in self.messages if m.id > self.seen.get(agent, 0) and self.involves(agent, m)]

    def notify(self, agent: str) -> list[str]:
        """The notification lines for `agent` ("2 new messages on Messenger"), marked seen."""
        new = self.pending(agent)
        if self.messages:
            self.seen[agent] = self.messages[-1].id
        counts: dict[str, int] = {}
        for m in new:
            counts[m.app] = counts.get(m.app, 0) + 1
        noun = {"messenger": "message", "email": "email", "social": "post"}
        return [f"{n} new {noun[app]}{'s' if n > 1 else ''} on {APP_NAMES[app]}" for app, n in counts.items()]

    def inbox(self, agent: str, app: str, contact: str | None = None, limit: int = 10) -> list[Message]:
        """What `agent` sees in `app`: its conversations (both directions), or the public feed."""
        rows = [m for m in self.messages if m.app == app and (
            (app == "social" and not m.to) or m.sender == agent or agent in m.to)]
        if contact:
            rows = [m for m in rows if contact in (m.sender, *m.to)]
        return rows[-limit:]


# -- tool arguments ------------------------------------------------------------------------
class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoArgs(Args):
    pass


class SendMessage(Args):
    to: str = Field(min_length=1, max_length=80, description="the contact's name")
    message: str = Field(min_length=1, max_length=800)


class ReadMessages(Args):
    contact: str | None = Field(default=None, max_length=80, description="only the conversation with this contact")
    max_count: int = Field(default=10, ge=1, le=50)


class SendEmail(Args):
    to: str = Field(min_length=1, max_length=80, description="name or email address")
    subject: str = Field(default="", max_length=120)
    body: str = Field(min_length=1, max_length=1200)


class Search(Args):
    keyword: str = Field(default="", max_length=80)


class ReadEmail(Args):
    email_id: int = Field(ge=1, le=10_000)


class Post(Args):
    content: str = Field(min_length=1, max_length=800)


class ReadFeed(Args):
    max_count: int = Field(default=10, ge=1, le=50)


class ReadNote(Args):
    note_id: int = Field(ge=1, le=10_000)


class WriteNote(Args):
    title: str = Field(min_length=1, max_length=120)
    body: str = Field(min_length=1, max_length=1200)


class Thought(Args):
    thought: str = Field(min_length=1, max_length=600)


class Reason(Args):
    reason: str = Field(default="", max_length=300)


Send = Callable[[str, list[str], str, str], Awaitable[dict]]  # (app, to, text, subject) -> receipt


def toolbox(
    apps: Apps, agent: str, app_names: list[str], contacts: list[str], send: Send,
    on_complete: Callable[[str], None], record: Callable[[str, dict], None],
) -> ToolBox:
    """The tools of `agent`: its apps' tools plus think / end_action_cycle / complete_task.
    Sends go through `send` (the plugin performs them at once); reads show the app's inbox;
    `record` keeps a written note in the `cdi_notes` table."""
    names = apps.names

    @tool("messenger_send", "Send a Messenger message to a contact.", SendMessage, kind="send")
    async def messenger_send(a: SendMessage):
        return await send("messenger", [apps.resolve(a.to, contacts)], a.message, "")

    @tool("messenger_read", "Read your Messenger conversations (optionally with one contact).", ReadMessages)
    async def messenger_read(a: ReadMessages):
        who = apps.resolve(a.contact, contacts) if a.contact else None
        return [m.view(names) for m in apps.inbox(agent, "messenger", who, a.max_count)] or "no messages"

    @tool("email_send", "Send an email.", SendEmail, kind="send")
    async def email_send(a: SendEmail):
        return await send("email", [apps.resolve(a.to, contacts)], a.body, a.subject)

    @tool("email_search", "List your emails (id, from, to, subject), optionally by keyword.", Search)
    async def email_search(a: Search):
        rows = [m for m in apps.inbox(agent, "email", limit=50)
                if not a.keyword or a.keyword.lower() in f"{m.subject} {m.text}".lower()]
        return [{k: v for k, v in m.view(names).items() if k != "text"} for m in rows] or "no emails"

    @tool("email_read", "Read one email by its id.", ReadEmail)
    async def email_read(a: ReadEmail):
        found = next((m for m in apps.inbox(agent, "email", limit=10_000) if m.id == a.email_id), None)
        if found is None:
            raise ToolRefused(f"there is no email {a.email_id} in your mailbox; email_search lists them")
        return found.view(names)

    @tool("social_post", "Publish a public post on Social.", Post, kind="send")
    async def social_post(a: Post):
        return await send("social", [], a.content, "")

    @tool("social_read", "Read the latest public posts on Social.", ReadFeed)
    async def social_read(a: ReadFeed):
        return [m.view(names) for m in apps.inbox(agent, "social", None, a.max_count)] or "no posts"

    @tool("notes_search", "List your notes (id and title), optionally by keyword.", Search)
    async def notes_search(a: Search):
        rows = [n for n in apps.notes if n.owner == agent and (not a.keyword or a.keyword.lower() in f"{n.title} {n.body}".lower())]
        return [{"id": n.id, "title": n.title} for n in rows] or "no notes"

    @tool("notes_read", "Read one note by its id.", ReadNote)
    async def notes_read(a: ReadNote):
        found = next((n for n in apps.notes if n.owner == agent and n.id == a.note_id), None)
        if found is None:
            raise ToolRefused(f"there is no note {a.note_id}; notes_search lists them")
        return {"id": found.id, "title": found.title, "body": found.body}

    @tool("notes_write", "Write a private note for yourself.", WriteNote, kind="meta")
    async def notes_write(a: WriteNote):
        note = apps.add_note(agent, a.title, a.body)
        record("cdi_notes", {"note_id": note.id, "owner": agent, "title": note.title, "body": note.body})
        return {"id": note.id}

    @tool("think", "Think about the situation before or after acting; nobody else sees it.", Thought, kind="meta")
    async def think(a: Thought):
        return "noted; now act with one of your app tools, or end the cycle"

    @tool("end_action_cycle", "End this action cycle and wait for new notifications.", Reason, kind="meta")
    async def end_action_cycle(a: Reason):
        return "cycle ended"

    @tool("complete_task", "Mark your whole task as completed (you will not act again).", Reason, kind="meta")
    async def complete_task(a: Reason):
        on_complete(a.reason)
        return "task completed"

    by_app: dict[str, list[Tool]] = {
        "messenger": [messenger_send, messenger_read],
        "email": [email_send, email_search, email_read],
        "social": [social_post, social_read],
        "notes": [notes_search, notes_read, notes_write],
    }
    tools = [t for app in ("messenger", "email", "social", "notes") if app in app_names for t in by_app[app]]
    return ToolBox(tools + [think, end_action_cycle, complete_task])
