"""`simkit doctor` and the parsing of llama.cpp's system info it relies on."""

from __future__ import annotations

import pytest

from simkit.llm.cpu import cpu_features, has_amx
from simkit.llm.doctor import _base_url
from tests.conftest import run_cli

XEON = ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | "
        "AVX512_VNNI = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | ")
EPYC = ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
        "AVX512 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | ")


def test_cpu_features_and_amx_from_llama_cpp_system_info():
    assert cpu_features(XEON)[-4:] == ["AMX_INT8", "LLAMAFILE", "OPENMP", "REPACK"]
    assert has_amx(cpu_features(XEON)) and not has_amx(cpu_features(EPYC))
    assert cpu_features("CPU : AVX = 0 | AVX2 = 1 |") == ["AVX2"]


def test_base_url_is_shown_without_credentials_path_or_query():
    assert _base_url("https://user:secret@gpu01:8000/v1?token=abc") == "set (https://gpu01:8000/...)"
    assert "secret" not in _base_url("secret") and _base_url("secret") == "set (not a URL)"


@pytest.mark.slow
def test_doctor_reports_cpu_model_generation_and_openai_variables_without_the_key(cli_env):
    key = "sk-doctor-SECRET-123"
    env = dict(cli_env, OPENAI_API_KEY=key)
    env.pop("OPENAI_BASE_URL", None)
    proc = run_cli(["doctor"], env=env, timeout=300)
    out = proc.stdout
    assert key not in out and key not in proc.stderr
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    assert lines["llama.cpp CPU features"].split() and "=" not in lines["llama.cpp CPU features"]
    assert lines["model"].endswith("MiB)") and ".gguf" in lines["model"]
    assert "use_extra_bufts=False" in lines["model process"]
    assert lines["generation"].split()[0] in {"1", "2", "3", "4", "5"} and "tokens/s" in lines["generation"]
    assert lines["OPENAI_API_KEY"] == "set (value not shown)" and lines["OPENAI_BASE_URL"] == "not set"
    assert out.rstrip().endswith("ok")


def test_doctor_with_a_missing_model_file_says_so_and_exits_1(cli_env, tmp_path):
    proc = run_cli(["doctor", "--model", str(tmp_path / "gone.gguf")], env=cli_env, timeout=300, check_rc=1)
    assert "generation: FAILED: local backend: model file" in proc.stdout and "gone.gguf not found" in proc.stdout
    assert proc.stdout.rstrip().endswith("problems found (see above)")
