"""The llama.cpp server the tests start (tests/servers/llama_launch.py) loads its model
without llama.cpp's extra buffer types, as the embedded engine does."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_the_server_loaded_its_model_without_extra_buffer_types(llama_server):
    assert "loaded with use_extra_bufts=False" in llama_server.output()
