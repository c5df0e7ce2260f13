"""PersonaArena: a persona from the bank role-played by the model under test in a scene an
environment agent stages with NPCs, stopped once five persona checkpoints are covered, and
scored on eight metrics by a panel of debating judges. See README.md in this folder."""

from simkit.plugins.personaarena.plugin import PersonaArenaPlugin

__all__ = ["PersonaArenaPlugin"]
