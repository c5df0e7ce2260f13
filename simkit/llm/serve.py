"""`simkit serve`: the llama.cpp OpenAI-compatible server, safe on AMX CPUs.

`python -m llama_cpp.server` builds its model with `llama_cpp.Llama(...)`, which has no
argument for llama.cpp's extra buffer types, so on a Xeon with AMX it segfaults on the first
request (simkit/llm/cpu.py). This command makes every `Llama` in the process load without
them, says what the loaded model got, and runs the server's own `main()`; it serves the
embedded SmolLM2 model unless given another GGUF file. Point a scenario at it with
`--llm openai:smollm2 --set llm.base_url=http://127.0.0.1:8000/v1`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def run_server(argv: list[str]) -> None:
    """Run llama.cpp's server with `argv` (its own options) in this process, extra buffer types off."""
    from simkit.llm.cpu import disable_extra_buffers_by_default

    disable_extra_buffers_by_default()
    import llama_cpp.server.model as server_model

    load = server_model.LlamaProxy.load_llama_from_model_settings

    def load_and_report(settings):
        llama = load(settings)
        print(f"simkit serve: {settings.model} loaded with use_extra_bufts={llama.model_params.use_extra_bufts}",
              file=sys.stderr, flush=True)
        return llama

    server_model.LlamaProxy.load_llama_from_model_settings = staticmethod(load_and_report)
    from llama_cpp.server.__main__ import main as server_main

    sys.argv = ["llama_cpp.server", *argv]
    server_main()


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--model", "model", type=click.Path(path_type=Path), help="A GGUF file (default: the embedded SmolLM2 model).")
@click.option("--alias", default="smollm2", show_default=True, help="The model name clients ask for.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--n-ctx", type=int, default=4096, show_default=True, help="Context size.")
@click.option("--threads", type=int, help="llama.cpp threads (default: half the cores).")
@click.argument("server_args", nargs=-1, type=click.UNPROCESSED)
def serve(model: Path | None, alias: str, host: str, port: int, n_ctx: int, threads: int | None, server_args: tuple[str, ...]) -> None:
    """Serve a GGUF model over the OpenAI API with llama.cpp's server, loaded without extra
    buffer types (the AMX one crashes). Further options go to llama_cpp.server unchanged.

    Example: simkit serve --port 8000   (then: simkit run S.yaml --llm openai:smollm2 --set llm.base_url=http://127.0.0.1:8000/v1)
    """
    from simkit.errors import UsageError
    from simkit.llm.local import default_model_path, default_threads

    path = model or default_model_path()
    if not Path(path).is_file():
        raise UsageError(f"--model: {path}: no such file")
    n = threads or default_threads()
    click.echo(f"simkit serve: {path} as {alias!r} on http://{host}:{port}/v1 ({n} threads); Ctrl-C stops it", err=True)
    run_server(["--model", str(path), "--model_alias", alias, "--host", host, "--port", str(port), "--n_ctx", str(n_ctx),
                "--n_threads", str(n), "--n_threads_batch", str(n), *server_args])
