"""One async LLM interface (`LLMClient.complete`) over interchangeable backends.

`base.py` holds the contract, `client.py` the layers every backend shares (cache,
concurrency, retries, structured output, accounting); each backend is one module.
"""

from simkit.llm.base import Backend, Completion, LLMRequest, RawCompletion
from simkit.llm.client import LLMClient

__all__ = ["Backend", "Completion", "LLMClient", "LLMRequest", "RawCompletion"]
