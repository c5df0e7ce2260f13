"""Helpers for agents: compiled-once LangGraph cognition graphs and prompt templates."""
