"""`openai` backend: any OpenAI-compatible chat endpoint through `openai.AsyncOpenAI`.

Works with OpenAI, Azure's OpenAI-compatible endpoint, vLLM, Ollama and the llama.cpp
server (`llm.base_url`). The API key is read from the environment variable named by
`llm.api_key_env` (default OPENAI_API_KEY) and handed only to the HTTP client: it is never
stored in the config, the database or a log line. The SDK's own retries are off; the
`LLMClient` around this backend retries with backoff and jitter.

Errors are translated in one place, `_translate()`:

    429, 5xx, timeouts, connection errors, garbled bodies -> TransientLLMError (retried)
    401, 403, 404, other 4xx                              -> PermanentLLMError (run stops)

Structured output dialects (`llm.dialect`), because servers differ:

    json_schema  response_format={"type": "json_schema", "json_schema": {...}}  OpenAI, vLLM, Ollama
    json_object  response_format={"type": "json_object", "schema": {...}}      llama.cpp python server
                 (bounded numbers sent as enums, which its grammar converter enforces)
    prompt       the schema is only stated in the prompt                        anything else
    auto         json_schema first; when the server rejects a dialect (llama.cpp's server
                 answers HTTP 500 "Input should be 'text' or 'json_object'"; others a 400/422
                 naming response_format), fall back to the next one ONCE and keep it for the
                 rest of the run. That switch is not a server fault: it is not retried,
                 counted or slept on.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import re
from typing import Any, Iterator

import openai

from simkit.config import LLMSettings
from simkit.errors import LLMUnavailable, UsageError
from simkit.llm.base import Backend, LLMRequest, PermanentLLMError, RawCompletion, ToolsRejected, TransientLLMError, openai_tool_choice
from simkit.llm.schema_bounds import enum_bounded_numbers
from simkit.llm.lean_http import LeanHTTP

log = logging.getLogger(__name__)

DIALECTS = ("json_schema", "json_object", "prompt")
DEFAULT_BASE_URL = "https://api.openai.com/v1"
CONNECTIONS_PER_CLIENT = 16
_REJECTION_500 = ("input should be 'text' or 'json_object'", "response_format")
_REJECTION_4XX = ("response_format", "json_schema", "json_object", "structured output", "unsupported format")


class DialectRejected(Exception):
    """The server refused the structured-output dialect we used (not a server fault)."""


class OpenAIBackend(Backend):
    name = "openai"
    native_tools = True  # the Chat Completions `tools` parameter; an endpoint that refuses it gets emulated calls

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        dialect: str = "auto",
        timeout: float = 60.0,
        max_concurrency: int = 8,
    ):
        self._model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.api_key_env = api_key_env
        self.auto = dialect == "auto"
        self.dialect = "json_schema" if self.auto else dialect
        self.timeout = timeout
        self.max_tokens_param = "max_tokens"
        # Without aiohttp, several clients, each with its own connection pool: httpx's pool
        # re-scans every connection whenever a request starts or ends, which at 100
        # connections costs more CPU than the rest of a call (bench/README.md). Round-robin.
        self.n_clients = max(1, -(-max_concurrency // CONNECTIONS_PER_CLIENT))
        self._clients: list[openai.AsyncOpenAI] = []
        self._next = 0
        self._lean: LeanHTTP | None = None  # the chat POST without the SDK (simkit/llm/lean_http.py)

    @classmethod
    def from_config(cls, cfg: LLMSettings) -> "OpenAIBackend":
        if not cfg.model:
            raise UsageError("llm.model: the openai backend needs a model name (e.g. --llm openai:gpt-4o-mini)")
        return cls(
            cfg.model,
            base_url=cfg.base_url,
            api_key_env=cfg.api_key_env,
            dialect=cfg.dialect,
            timeout=cfg.timeout,
            max_concurrency=cfg.max_concurrency,
        )

    @property
    def model(self) -> str:
        return self._model

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The next client, round-robin (created on first use)."""
        if not self._clients:
            key = os.environ.get(self.api_key_env) or "not-needed"
            while True:
                http = _http_client()
                self._clients.append(
                    openai.AsyncOpenAI(
                        base_url=self.base_url,
                        api_key=key,
                        max_retries=0,
                        timeout=self.timeout,  # a float: the SDK's HTTP library differs across versions
                        http_client=http,
                    )
                )
                if http is not None or len(self._clients) >= self.n_clients:
                    break  # aiohttp's pool does not re-scan: one client is enough
        self._next = (self._next + 1) % len(self._clients)
        return self._clients[self._next]

    # -- the contract --------------------------------------------------------------------

    async def check(self) -> None:
        """Fail fast when nothing listens at base_url, or when the key is refused.
        Any other answer (404 for /models, a slow or faulty server) lets the run start."""
        try:
            await asyncio.wait_for(self.client.models.list(), timeout=min(10.0, self.timeout))
        except asyncio.TimeoutError:
            return
        except openai.APIConnectionError as exc:
            if isinstance(exc, openai.APITimeoutError) and not _connect_failed(exc):
                return  # connected, but slow to answer: a busy server is not a dead one
            await self.aclose()  # the run stops here; leave no open HTTP session behind
            raise LLMUnavailable(f"openai backend: {self._unreachable(exc)}") from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            await self.aclose()
            raise LLMUnavailable(f"openai backend: {self._refused(exc)}") from None
        except Exception:  # noqa: BLE001 - the probe is advisory; real calls report real errors
            return

    async def probe(self, timeout: float, *, strict: bool = False) -> str | None:
        """Health probe (`GET /models`): None when the server is up, else why not. `strict`
        is the start-up check: a slow or odd answer counts as up, a refused key raises."""
        try:
            await asyncio.wait_for(self.client.models.list(), timeout=timeout)
        except asyncio.TimeoutError:
            return None if strict else f"{self.base_url} did not answer the health probe within {timeout:g}s"
        except openai.APIConnectionError as exc:
            if strict and isinstance(exc, openai.APITimeoutError) and not _connect_failed(exc):
                return None
            return self._unreachable(exc)
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            if strict:
                raise LLMUnavailable(f"openai backend: {self._refused(exc)}") from None
            return self._refused(exc)
        except openai.APIStatusError as exc:
            if strict or exc.status_code < 500:
                return None  # it answers (a server without /models is still a server)
            return f"HTTP {exc.status_code} from {self.base_url} on the health probe"
        except Exception as exc:  # noqa: BLE001 - the probe is advisory
            return None if strict else f"{self.base_url}: {type(exc).__name__}: {_short(str(exc))}"
        return None

    async def generate(self, request: LLMRequest) -> RawCompletion:
        while True:
            dialect = self.dialect
            try:
                return await self._generate(request, dialect)
            except DialectRejected as exc:
                if not self.auto or dialect == DIALECTS[-1]:
                    raise PermanentLLMError(
                        f"{self.base_url} rejected structured output dialect '{dialect}' ({exc}); "
                        f"set llm.dialect to one of {', '.join(d for d in DIALECTS if d != dialect)}"
                    ) from None
                nxt = DIALECTS[DIALECTS.index(dialect) + 1]
                if self.dialect == dialect:  # concurrent calls may all see the rejection: step once
                    log.info("%s rejected dialect %s; using %s for this run", self.base_url, dialect, nxt)
                    self.dialect = nxt

    async def aclose(self) -> None:
        lean, self._lean = self._lean, None
        if lean is not None:
            await lean.aclose()
        clients, self._clients = self._clients, []
        for client in clients:
            await client.close()

    # -- one request ---------------------------------------------------------------------

    async def _generate(self, request: LLMRequest, dialect: str) -> RawCompletion:
        messages = request.messages
        params: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "temperature": request.temperature,
            self.max_tokens_param: request.max_tokens,
            "seed": request.seed,
        }
        if request.schema_json is not None:
            params["messages"], extra = structured_params(request.schema_json, messages, dialect)
            params.update(extra)
        if request.tools:
            params["tools"] = [tool.openai() for tool in request.tools]
            params["tool_choice"] = openai_tool_choice(request.tool_choice)
        with self._translate(dialect if request.schema_json is not None else None):
            try:
                response = await self._post(params)
            except openai.BadRequestError as exc:
                if self.max_tokens_param == "max_tokens" and "max_completion_tokens" in _error_text(exc):
                    self.max_tokens_param = "max_completion_tokens"  # newer OpenAI models
                    params["max_completion_tokens"] = params.pop("max_tokens")
                    response = await self._post(params)
                elif request.tools and "tool" in _error_text(exc).lower():
                    raise ToolsRejected(f"{self.base_url} does not accept tools: {_short(_error_text(exc))}") from None
                else:
                    raise
            choice = response["choices"][0]
            message = choice["message"]
            text = message.get("content") or ""
            usage = response.get("usage") or {}
            if not isinstance(text, str) or not isinstance(usage, dict):
                raise TypeError("message content is not text")
            calls = [
                {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"].get("arguments") or "{}"}
                for c in message.get("tool_calls") or []
            ]
        return RawCompletion(
            text=text,
            tokens_in=usage.get("prompt_tokens"),
            tokens_out=usage.get("completion_tokens"),
            tool_calls=calls,
            meta={"dialect": dialect, "finish_reason": choice.get("finish_reason")},
        )

    async def _post(self, body: dict[str, Any]) -> Any:
        # `client.post` sends the body as it is and (cast_to=object) returns the decoded JSON.
        # `chat.completions.create` would first walk every nested value (the whole JSON
        # schema) to coerce types and then build pydantic objects: ~5 ms of CPU per call,
        # more than everything else at 100 concurrent calls (bench/README.md).
        if self._lean is None and use_lean(self.base_url):
            self._lean = LeanHTTP(self.base_url, os.environ.get(self.api_key_env) or "not-needed", self.timeout, self.client)
        if self._lean is not None:
            return await self._lean.post("/chat/completions", body)
        return await self.client.post("/chat/completions", body=body, cast_to=object)

    @contextlib.contextmanager
    def _translate(self, dialect: str | None) -> Iterator[None]:
        """Map every `openai`/transport error to TransientLLMError, PermanentLLMError or
        DialectRejected. Messages name the endpoint, never the key."""
        try:
            yield
        except (TransientLLMError, PermanentLLMError, DialectRejected):
            raise
        except openai.APITimeoutError as exc:
            if _connect_failed(exc):
                raise TransientLLMError(self._unreachable(exc)) from None
            raise TransientLLMError(f"{self.base_url} did not answer within {self.timeout:g}s") from None
        except openai.APIConnectionError as exc:
            raise TransientLLMError(self._unreachable(exc)) from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            text = _error_text(exc)
            if dialect is not None and _is_dialect_rejection(status, text):
                raise DialectRejected(f"HTTP {status}: {_short(text)}") from None
            if status == 429 or status >= 500 or status == 408:
                raise TransientLLMError(f"HTTP {status} from {self.base_url}: {_short(text)}", status=status) from None
            if status in (401, 403):
                raise PermanentLLMError(self._refused(exc)) from None
            if status == 404:
                raise PermanentLLMError(
                    f"HTTP 404 from {self.base_url}: model '{self._model}' or the chat endpoint was not found "
                    f"(check llm.model and llm.base_url, which usually ends in /v1): {_short(text)}"
                ) from None
            raise PermanentLLMError(f"HTTP {status} from {self.base_url}: {_short(text)}") from None
        except openai.APIResponseValidationError as exc:
            raise TransientLLMError(f"garbled response from {self.base_url}: {_short(str(exc))}") from None
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            # A body that is not JSON, or JSON without choices/message: a broken proxy or server.
            raise TransientLLMError(f"garbled response from {self.base_url}: {type(exc).__name__}: {_short(str(exc))}") from None

    def _unreachable(self, exc: Exception) -> str:
        if _refused_connection(exc):
            why = "connection refused: nothing listens there"
        else:
            cause = exc.__cause__ or exc
            why = f"{type(cause).__name__}: {_short(str(cause)) or 'connection failed'}"
        return (
            f"cannot reach {self.base_url} ({why}); "
            "start the server there (for example: simkit serve --port PORT, which serves the embedded model or --model GGUF) "
            "or point llm.base_url at a running one"
        )

    def _refused(self, exc: openai.APIStatusError) -> str:
        return (
            f"HTTP {exc.status_code} from {self.base_url}: the API key was refused; "
            f"set the environment variable {self.api_key_env} to a valid key"
        )


def use_lean(base_url: str) -> bool:
    """The lean transport for `http://` servers; the SDK for `https://` (SIMKIT_HTTP forces one)."""
    choice = os.environ.get("SIMKIT_HTTP", "")
    if choice in ("sdk", "httpx", "aiohttp"):
        return False
    return choice == "lean" or base_url.startswith("http://")


def _http_client():
    """aiohttp under the SDK when it is installed (`openai[aiohttp]`): its C HTTP parser costs
    a third of the CPU per call of the default pure-Python stack (bench/README.md)."""
    if os.environ.get("SIMKIT_HTTP") != "httpx":
        try:
            return openai.DefaultAioHttpClient()
        except (AttributeError, RuntimeError):  # older SDK, or aiohttp missing
            pass
    return None


def structured_params(schema: dict, messages: list[dict[str, str]], dialect: str) -> tuple[list[dict[str, str]], dict]:
    """The messages and request parameters that ask for JSON matching `schema` in `dialect`."""
    if dialect == "json_schema":
        name = re.sub(r"[^a-zA-Z0-9_-]", "_", str(schema.get("title") or "answer"))[:64] or "answer"
        return messages, {
            "response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}
        }
    if dialect == "json_object":
        # The schema goes to the server's grammar, not into the prompt (the plugin's prompt
        # already names the fields; 300 more prompt tokens per call is slow on a CPU server).
        # llama.cpp's grammar converter ignores numeric bounds; spelled out as enums they
        # hold (the answer is still validated against `schema`).
        return messages, {"response_format": {"type": "json_object", "schema": enum_bounded_numbers(schema)}}
    instruction = (
        "Answer with only a JSON object (no prose, no code fence) that matches this JSON schema: "
        + json.dumps(schema, separators=(",", ":"))
    )
    return with_instruction(messages, instruction), {}


def with_instruction(messages: list[dict[str, str]], instruction: str) -> list[dict[str, str]]:
    """Append `instruction` to the system message (or add one)."""
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system":
        out[0]["content"] = f"{out[0]['content']}\n\n{instruction}"
    else:
        out.insert(0, {"role": "system", "content": instruction})
    return out


def _connect_failed(exc: Exception) -> bool:
    """True when the connection itself failed (refused, unreachable, connect timeout). The
    aiohttp transport reports a refused connection as a *connect timeout*."""
    cause = exc.__cause__ or exc.__context__
    return cause is not None and "Connect" in type(cause).__name__


def _refused_connection(exc: BaseException) -> bool:
    """True when somewhere in the exception's chain the connection was refused (the aiohttp
    transport wraps a refusal in a *ConnectTimeout*; its text still says so)."""
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if isinstance(node, ConnectionRefusedError) or getattr(node, "errno", None) == errno.ECONNREFUSED:
            return True
        os_error = getattr(node, "os_error", None)  # aiohttp's ClientConnectorError
        if isinstance(os_error, ConnectionRefusedError):
            return True
        if "Connect call failed" in str(node) or "Connection refused" in str(node):
            return True
        node = node.__cause__ or node.__context__
    return False


def _error_text(exc: openai.APIStatusError) -> str:
    """The server's error body, once: the SDK repeats it in `message` and `body`."""
    with contextlib.suppress(Exception):
        text = exc.response.text
        if text:
            return text
    body = getattr(exc, "body", None)
    if body is not None:
        return body if isinstance(body, str) else json.dumps(body, default=str)
    return str(getattr(exc, "message", "") or "")


def _is_dialect_rejection(status: int, text: str) -> bool:
    low = text.lower()
    if status >= 500:
        return any(p in low for p in _REJECTION_500)
    if status in (400, 415, 422, 501):
        return any(p in low for p in _REJECTION_4XX)
    return False


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
