"""The llama.cpp server the tests start: `simkit serve`'s launcher (simkit/llm/serve.py) with
llama_cpp.server's own command line, so the tests exercise what users run:

    python tests/servers/llama_launch.py --model M.gguf --host 127.0.0.1 --port 8000 ...
"""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from simkit.llm.serve import run_server

    run_server(sys.argv[1:])
