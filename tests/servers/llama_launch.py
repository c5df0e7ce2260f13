"""`python -m llama_cpp.server`, with the model loaded without llama.cpp's extra buffer types.

The server builds its model with `llama_cpp.Llama(...)`, which has no argument for
`use_extra_bufts`, so on a Xeon with AMX it segfaults on the first request like the
embedded engine did (simkit/llm/cpu.py). This launcher changes the defaults `Llama` starts
from, reports what the loaded model got, and runs the server's own `main()` with the same
command line:

    python tests/servers/llama_launch.py --model M.gguf --host 127.0.0.1 --port 8000 ...
"""

from __future__ import annotations

import sys


def main() -> None:
    from simkit.llm.cpu import disable_extra_buffers_by_default

    disable_extra_buffers_by_default()
    import llama_cpp.server.model as server_model

    load = server_model.LlamaProxy.load_llama_from_model_settings

    def load_and_report(settings):
        llama = load(settings)
        print(f"llama_launch: {settings.model} loaded with use_extra_bufts={llama.model_params.use_extra_bufts}",
              file=sys.stderr, flush=True)
        return llama

    server_model.LlamaProxy.load_llama_from_model_settings = staticmethod(load_and_report)
    from llama_cpp.server.__main__ import main as server_main

    sys.argv[0] = "llama_cpp.server"
    server_main()


if __name__ == "__main__":
    main()
