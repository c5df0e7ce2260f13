"""CharacterBox: characters of a scene acting and speaking, a narrator as world model that
adjudicates each action, and a judge scoring each character's trajectory on seven metrics.
See README.md in this folder for the mapping to the paper and the authors' code."""

from simkit.plugins.characterbox.plugin import CharacterBoxPlugin

__all__ = ["CharacterBoxPlugin"]
