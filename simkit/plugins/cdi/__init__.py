"""CDI: a privacy test bed for tool-using agents. A data sender holds a subject's sensitive
and shareable facts; a data recipient tries to extract them over mock apps; prompting,
guarding and contextualized defense instructing (CDI) defend the sender, and the shared
disclosure judge scores PP, HS and AD. See README.md in this folder for the mapping."""

from simkit.plugins.cdi.plugin import CDIPlugin

__all__ = ["CDIPlugin"]
