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


ROOT = README.parent


def commands() -> list[str]:
    """The README's 'Two commands': the bash blocks under that heading, one line each."""
    text = README.read_text("utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    assert len(blocks) == 2, "README's 'Two commands' should hold two bash blocks"
    lines = [block.strip() for block in blocks]
    assert all("\n" not in line for line in lines), lines
    return lines


def test_readme_commands_use_the_venv_that_install_sh_makes() -> None:
    run_app, run_tests = commands()
    assert run_app == "bash scripts/install.sh && .venv/bin/python app.py"
    assert run_tests == "bash scripts/install.sh --dev && .venv/bin/python -m pytest"
    script = (ROOT / "scripts" / "install.sh").read_text("utf-8")
    assert "VENV=${KMC_VENV:-.venv}" in script and '-m venv "$VENV"' in script
    assert '/bin/uv" pip install' in script and "-m pip install" in script  # fast, with pip as the fallback


def test_ci_runs_the_set_up_from_nothing_then_the_readme_test_command() -> None:
    _, run_tests = commands()
    install, test = (part.strip() for part in run_tests.split("&&"))
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text("utf-8").splitlines()]
    steps = [line.removeprefix("time ") for line in ci if line and not line.startswith(("#", "echo", "set ", "cd "))]
    assert steps[0] == install
    assert steps[-1].startswith(test)
    assert ".venv/bin/python -m ruff check ." in steps


def test_install_sh_is_valid_bash() -> None:
    import subprocess

    assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / "install.sh")], check=False).returncode == 0
