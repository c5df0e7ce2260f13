"""HTTP servers the tests run on 127.0.0.1: `fault_server` (an OpenAI-compatible stub with
injected faults) and `llama_server` (the real `python -m llama_cpp.server`)."""
