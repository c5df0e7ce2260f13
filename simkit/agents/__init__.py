"""The agent layer plugins build on: compiled-once LangGraph graphs (`graph`), prompt
templates (`prompts`), a memory stream (`memory`), a dialogue transcript (`dialogue`),
tools (`toolbox`) and the tool-calling loop (`tool_loop`)."""
