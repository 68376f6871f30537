"""The README's gradio_client snippet runs as written against a launched app (offline engine)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kmc_ui.settings import Settings
from tests.browser import free_port
from tests.figures import make_character, make_dance

README = Path(__file__).resolve().parents[1] / "README.md"

pytestmark = pytest.mark.slow


def snippet() -> str:
    text = README.read_text("utf-8")
    match = re.search(r"<!-- api-snippet -->\s*```python\n(.*?)```", text, re.S)
    assert match, "README lost its API snippet"
    return match.group(1)


def test_readme_api_snippet_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from kmc_ui.server import launch

    port = free_port()
    demo = launch(
        Settings(data_dir=tmp_path / "data"), block=False, server_name="127.0.0.1", server_port=port, quiet=True
    )
    try:
        work = tmp_path / "work"
        work.mkdir()
        shutil.copy(make_character(tmp_path / "c.png"), work / "character.png")
        shutil.copy(make_dance(tmp_path / "d.mp4", seconds=3.1), work / "dance.mp4")
        monkeypatch.chdir(work)
        code = snippet().replace("http://127.0.0.1:7860/", demo.local_url)
        exec(compile(code, "README.md", "exec"), {})
    finally:
        demo.close()
    out = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("Loaded as API")]
    assert "Offline engine: free" in out[0]
    status, result_file, pck = out[1].split(" ")
    assert status == "succeeded" and Path(result_file).is_file() and float(pck) > 0.5
