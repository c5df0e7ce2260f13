"""Personas: the model, loading, generation from posts, Big Five measurement, alignment."""

from simkit.personas.model import Persona, load_personas

__all__ = ["Persona", "load_personas"]
