"""The local model in a child process, so that a native crash is a clear error.

llama.cpp is C++: when it dies (a segfault on a CPU it mishandles, an abort on a failed
assertion, the kernel's OOM killer) it takes its process with it, with no Python
exception and often no message. So `LocalBackend` runs `LlamaEngine` in a child process
(`python -m simkit.llm.llama_proc`) and talks to it over a Unix socket pair; this parent
side never loads llama.cpp. When the child dies, every request in flight and every later
one fails with `ModelProcessDied`, a `SimkitError` whose one line says what died, with
which signal, and which CPU features llama.cpp reported; the run stops as failed with its
committed ticks kept, and the CLI adds the `--resume` hint.

The child hosts the unchanged engine (continuous batching, grammar sampling, exact token
counts); cancellation (timeouts) travels as a message. Messages are pickled tuples of
plain values, length-prefixed, between two ends of the same program.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from simkit.errors import LLMUnavailable
from simkit.llm.cpu import cpu_features, has_amx
from simkit.llm.llama_jobs import EngineError, GenResult

_HEADER = struct.Struct("!I")
CALLS = ("format_chat", "tokenize", "settings")  # engine methods the parent may call synchronously


class ModelProcessDied(LLMUnavailable):
    """The process running llama.cpp died (a native crash or a kill); the run cannot go on."""


class Channel:
    """Length-prefixed pickles over a socket. `send` is thread-safe; `recv` has one reader."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._rfile = sock.makefile("rb")
        self._lock = threading.Lock()

    def send(self, message: tuple) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self.sock.sendall(_HEADER.pack(len(data)) + data)

    def recv(self) -> tuple:
        head = self._rfile.read(_HEADER.size)
        if len(head) < _HEADER.size:
            raise EOFError
        (size,) = _HEADER.unpack(head)
        data = self._rfile.read(size)
        if len(data) < size:
            raise EOFError
        return pickle.loads(data)

    def close(self) -> None:
        for closable in (self._rfile, self.sock):
            try:
                closable.close()
            except OSError:
                pass


def _child_env() -> dict[str, str]:
    """The child imports the same simkit as this process, wherever that came from."""
    import simkit

    root = str(Path(simkit.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


class ProcessEngine:
    """Parent side: starts the model process, forwards requests, turns its death into
    `ModelProcessDied`. Same calls as `LlamaEngine`: start, format_chat, tokenize, settings, close."""

    def __init__(
        self, path: str, *, n_ctx: int = 2048, n_threads: int = 2, n_parallel: int = 1,
        extra_buffers: bool = False, prefix_cache: bool = True, load_timeout: float = 600.0,
    ):
        self.path = str(path)
        self.extra_buffers = extra_buffers
        self.system_info = ""
        config = {"path": self.path, "n_ctx": n_ctx, "n_threads": n_threads, "n_parallel": n_parallel,
                  "extra_buffers": extra_buffers, "prefix_cache": prefix_cache}
        ours, theirs = socket.socketpair()
        self._log = tempfile.TemporaryFile()  # the child's stdout and stderr (llama.cpp's errors)
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simkit.llm.llama_proc", str(theirs.fileno()), json.dumps(config)],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            env=_child_env(),
        )
        theirs.close()
        self.pid = self.proc.pid
        self._chan = Channel(ours)
        self._pending: dict[int, Callable[[Any], None]] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._dead: Exception | None = None
        self._gone = threading.Event()
        self._closing = False
        try:
            self._handshake(load_timeout)
        except BaseException:
            self._kill()
            raise
        self.load_s = time.perf_counter() - started
        self._reader = threading.Thread(target=self._read, name="simkit-llama-reader", daemon=True)
        self._reader.start()

    # -- start-up ------------------------------------------------------------------------

    def _handshake(self, timeout: float) -> None:
        self._chan.sock.settimeout(timeout)
        try:
            while True:
                try:
                    message = self._chan.recv()
                except (EOFError, OSError) as exc:
                    if isinstance(exc, TimeoutError):
                        raise LLMUnavailable(f"local backend: the model process did not load {self.path} within {timeout:g}s") from None
                    raise ModelProcessDied(self._death_message(self._wait(), "while loading the model")) from None
                if message[0] == "info":
                    self.system_info = message[1]
                elif message[0] == "load_error":
                    raise RuntimeError(message[1])
                elif message[0] == "ready":
                    return
        finally:
            self._chan.sock.settimeout(None)

    # -- requests ------------------------------------------------------------------------

    def _register(self, callback: Callable[[Any], None]) -> int:
        rid = next(self._ids)
        with self._lock:
            if self._dead is not None:
                raise type(self._dead)(str(self._dead))
            self._pending[rid] = callback
        return rid

    def _send(self, rid: int, message: tuple) -> None:
        try:
            self._chan.send(message)
        except OSError:  # the child is gone; the reader thread is finding out why
            with self._lock:
                self._pending.pop(rid, None)
            self._gone.wait(30)
            dead = self._dead or ModelProcessDied(self._death_message(self.proc.poll(), "while generating"))
            raise type(dead)(str(dead)) from None

    def start(self, messages, schema_json, max_tokens, temperature, seed, done) -> Callable[[], None]:
        """Queue a chat request; `done` gets a GenResult, an EngineError or ModelProcessDied,
        from the reader thread. Returns the function that cancels the request."""
        rid = self._register(done)
        self._send(rid, ("gen", rid, messages, schema_json, max_tokens, temperature, seed))
        return lambda: self._cancel(rid)

    def _cancel(self, rid: int) -> None:
        with self._lock:
            if self._pending.pop(rid, None) is None:
                return
        try:
            self._chan.send(("cancel", rid))
        except OSError:
            pass

    def _call(self, name: str, *args, timeout: float = 120.0):
        future: concurrent.futures.Future = concurrent.futures.Future()

        def settle(result) -> None:
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

        rid = self._register(settle)
        self._send(rid, ("call", rid, name, args))
        return future.result(timeout)

    def format_chat(self, messages: list[dict[str, str]]) -> str:
        return self._call("format_chat", messages)

    def tokenize(self, text: str) -> list[int]:
        return self._call("tokenize", text)

    def settings(self) -> dict[str, Any]:
        return self._call("settings")

    # -- the reader and the end ----------------------------------------------------------

    def _read(self) -> None:
        try:
            while True:
                message = self._chan.recv()
                kind, rid = message[0], message[1]
                with self._lock:
                    callback = self._pending.pop(rid, None)
                if callback is None:  # cancelled meanwhile
                    continue
                if kind == "done":
                    callback(GenResult(*message[2]))
                elif kind == "reply":
                    callback(message[2])
                else:
                    callback(EngineError(message[2], retryable=message[3]))
        except (EOFError, OSError, pickle.UnpicklingError):
            pass
        rc = self._wait()
        with self._lock:
            busy = bool(self._pending)
            if self._closing:
                self._dead = EngineError("the local model was closed")
            else:
                self._dead = ModelProcessDied(self._death_message(rc, "while generating" if busy else "while idle"))
            pending, self._pending = self._pending, {}
        self._gone.set()
        for callback in pending.values():
            callback(self._dead)

    def _wait(self) -> int | None:
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # the socket closed but the process hangs on
            self._kill()
            return self.proc.returncode

    def _kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def _death_message(self, rc: int | None, when: str) -> str:
        if rc is None:
            how = "stopped answering"
        elif rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = "signal"
            how = f"died with signal {name} ({-rc})"
        else:
            how = f"exited with code {rc}"
        features = cpu_features(self.system_info) if self.system_info else []
        parts = [f"local backend: the llama.cpp model process (pid {self.pid}, {Path(self.path).name}) {how} {when}",
                 "llama.cpp CPU features: " + (" ".join(features) or "not reported")]
        if has_amx(features) and self.extra_buffers:
            parts.append("llm.extra_buffers is on, and llama.cpp's AMX buffer type crashes (set llm.extra_buffers: false)")
        last = self._last_output()
        if last:
            parts.append(f"its last output: {last}")
        parts.append("check this machine with: simkit doctor")
        return "; ".join(parts)

    def _last_output(self) -> str:
        """The child's last telling line (a llama.cpp assertion, an error), if it wrote one."""
        try:
            self._log.seek(0)
            lines = [ln.strip() for ln in self._log.read()[-65536:].decode("utf-8", "replace").splitlines() if ln.strip()]
        except (OSError, ValueError):
            return ""
        telling = [ln for ln in lines if "assert" in ln.lower() or "error" in ln.lower()]
        line = (telling or lines or [""])[-1]
        return line if len(line) <= 200 else line[:197] + "..."

    def close(self) -> None:
        self._closing = True
        try:
            self._chan.send(("close",))
        except OSError:
            pass
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._kill()
        self._reader.join(timeout=30)
        self._chan.close()
        self._log.close()


# -- the child ---------------------------------------------------------------------------


def _serve(chan: Channel, engine) -> None:
    jobs: dict[int, Any] = {}

    def reply(rid: int, result) -> None:  # from the engine's worker thread
        jobs.pop(rid, None)
        if isinstance(result, GenResult):
            message = ("done", rid, (result.text, result.tokens_in, result.tokens_out, result.queued_s, result.run_s,
                                       result.finish_reason))
        else:
            message = ("error", rid, str(result), getattr(result, "retryable", False))
        try:
            chan.send(message)
        except OSError:  # the parent is gone
            os._exit(0)

    while True:
        try:
            message = chan.recv()
        except (EOFError, OSError):  # the parent is gone (or was killed): nothing left to do
            os._exit(0)
        kind = message[0]
        if kind == "gen":
            _, rid, messages, schema_json, max_tokens, temperature, seed = message
            try:
                job = engine.chat_job(messages, schema_json, max_tokens, temperature, seed,
                                      lambda result, rid=rid: reply(rid, result))
                jobs[rid] = job
                engine.submit(job)
            except Exception as exc:  # a template or grammar that cannot be built
                jobs.pop(rid, None)
                reply(rid, exc if isinstance(exc, EngineError) else EngineError(f"{type(exc).__name__}: {exc}"))
        elif kind == "cancel":
            job = jobs.pop(message[1], None)
            if job is not None:
                job.cancelled.set()
        elif kind == "call":
            _, rid, name, args = message
            try:
                if name not in CALLS:
                    raise EngineError(f"unknown call {name}")
                chan.send(("reply", rid, getattr(engine, name)(*args)))
            except Exception as exc:
                reply(rid, exc)
        elif kind == "close":
            engine.close()
            return


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it closes us
    chan = Channel(socket.socket(fileno=int(argv[1])))
    config = json.loads(argv[2])
    from simkit.llm import cpu

    chan.send(("info", cpu.system_info()))
    from simkit.llm.llama_engine import LlamaEngine

    try:
        engine = LlamaEngine(config.pop("path"), **config)
    except Exception as exc:
        chan.send(("load_error", str(exc) or type(exc).__name__))
        return 1
    chan.send(("ready", os.getpid()))
    _serve(chan, engine)
    chan.close()
    return 0


if __name__ == "__main__":
    sys.stdout.flush()
    os._exit(main(sys.argv))
