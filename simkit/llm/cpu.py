"""llama.cpp on this CPU: model parameters that load everywhere, and what llama.cpp sees.

llama.cpp's "extra buffer types" repack weights at load time for a faster kernel: on
x86 the CPU REPACK layouts (Q4_0, Q4_K, IQ4_NL on AVX2) and, on Xeons with AMX, the AMX
buffer type. The AMX one crashes the first `llama_decode` with a segmentation fault
(llama.cpp issue 20824), so every place simkit loads a GGUF turns extra buffer types off
unless `llm.extra_buffers` asks for them. On the default model (Q4_1, which only AMX
repacks) that costs nothing; bench/README.md has the figures.

llama.cpp is imported inside the functions that need it: the parsing helpers also serve
the parent of the model process, which never loads llama.cpp itself.
"""

from __future__ import annotations

_original_default_params = None


def model_params(extra_buffers: bool = False):
    """llama.cpp's default model parameters, with extra buffer types off unless asked for."""
    import llama_cpp.llama_cpp as lib

    params = (_original_default_params or lib.llama_model_default_params)()
    params.use_extra_bufts = bool(extra_buffers)
    return params


def disable_extra_buffers_by_default() -> None:
    """Make every later `llama_cpp.Llama(...)` in this process load without extra buffer
    types. `Llama` offers no argument for it; it starts from
    `llama_cpp.llama_cpp.llama_model_default_params()`, which this replaces (idempotent)."""
    global _original_default_params
    import llama_cpp
    import llama_cpp.llama_cpp as lib

    if _original_default_params is None:
        _original_default_params = lib.llama_model_default_params

    def safe_default_params():
        return model_params(extra_buffers=False)

    lib.llama_model_default_params = safe_default_params
    llama_cpp.llama_model_default_params = safe_default_params


def system_info() -> str:
    """llama.cpp's own report (`llama_print_system_info`), e.g. 'CPU : SSE3 = 1 | AVX2 = 1 | ...'."""
    import llama_cpp

    return llama_cpp.llama_print_system_info().decode("utf-8", errors="replace").strip()


def cpu_features(info: str | None = None) -> list[str]:
    """The features llama.cpp reports as on (`NAME = 1`), in its order."""
    info = system_info() if info is None else info
    features = []
    for part in info.replace("CPU :", "|").split("|"):
        name, sep, value = part.partition("=")
        if sep and value.strip() == "1":
            features.append(name.strip())
    return features


def has_amx(features: list[str]) -> bool:
    return any(name.startswith("AMX") for name in features)
