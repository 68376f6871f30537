"""The example characters, the Motion Library and the pre-rendered examples under assets/.

    load_characters() -> list[Character]
    load_library() -> list[Motion]
    load_examples() -> list[Example]   # each with its character, motion, result and report

Only reads JSON and checks that the files it names exist: nothing is analysed or rendered
here (scripts/make_assets.py made and measured everything), so listing the examples costs a
few milliseconds and no backend call. Paths are absolute, resolved against the assets folder
(the repository's assets/ unless `assets_dir` is given). Missing or broken assets raise
AssetsMissing with what is missing and how to make it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kmc_ui.engine.agreement import AgreementReport

ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets"
LIBRARY_JSON = Path("motions") / "library.json"
EXAMPLES_JSON = Path("examples") / "examples.json"
CHARACTERS_JSON = Path("characters") / "characters.json"
REGENERATE = "python scripts/make_assets.py"


class AssetsMissing(FileNotFoundError):
    """The assets folder, one of its JSON files or a file they name is missing or unreadable."""


@dataclass(frozen=True)
class Character:
    id: str
    title: str
    path: Path
    width: int
    height: int
    framing: str  # measured: full_body / three_quarter / upper_body / close_up
    people: int  # measured
    shows: str


@dataclass(frozen=True)
class Motion:
    id: str
    title: str
    path: Path
    duration: float  # seconds (probed)
    fps: float
    width: int
    height: int
    framing: str  # measured with the pose module: full_body / three_quarter / upper_body / close_up
    people: int  # measured: most people seen at once
    speed: str  # measured: slow / moderate / fast
    orientations: tuple[str, ...]  # the orientations that suit it ("video", "image")
    recommended_orientation: str
    orientation_why: str
    shows: str
    has_audio: bool
    sound: str
    measured: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A short line for a gallery caption."""
        return f"{self.title} · {self.duration:.1f} s · {self.framing.replace('_', ' ')} · {self.speed}"


@dataclass(frozen=True)
class Example:
    id: str
    title: str
    character: Character
    motion: Motion
    orientation: str
    tier: str
    keep_sound: bool
    result: Path  # the pre-rendered result (offline engine, scaled down)
    report_path: Path  # its motion-agreement report (AgreementReport.to_dict() as JSON)
    plot: Path  # the report's per-frame plot (PNG)
    pck: float
    following: float
    summary: str  # the report's summary (markdown)
    why: str
    notes: tuple[str, ...] = ()
    assets_dir: Path = ASSETS_DIR  # what the report's relative paths are relative to

    def report_dict(self) -> dict[str, Any]:
        """The agreement report as a dict, its paths made absolute."""
        data = _read_json(self.report_path)
        for key in ("reference", "output", "plot_path"):
            if data.get(key):
                data[key] = str(self.assets_dir / data[key])
        return data

    def report(self) -> AgreementReport:
        """The agreement report as the engine's AgreementReport (paths absolute)."""
        from kmc_ui.engine.agreement import AgreementReport

        return AgreementReport.from_dict(self.report_dict())


def _root(assets_dir: str | Path | None) -> Path:
    root = Path(assets_dir).resolve() if assets_dir is not None else ASSETS_DIR
    if not root.is_dir():
        raise AssetsMissing(f"The assets folder {root} is missing: make it with `{REGENERATE}`.")
    return root


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssetsMissing(f"{path} is missing: make the assets again with `{REGENERATE}`.") from None
    except (OSError, ValueError) as exc:
        raise AssetsMissing(f"{path} cannot be read ({exc}): make the assets again with `{REGENERATE}`.") from None
    if not isinstance(data, dict):
        raise AssetsMissing(f"{path} is not an assets index: make the assets again with `{REGENERATE}`.")
    return data


def _file(root: Path, rel: str) -> Path:
    path = (root / rel).resolve()
    if not path.is_file():
        raise AssetsMissing(f"{path} is missing: make the assets again with `{REGENERATE}`.")
    return path


def _entries(root: Path, index: Path, key: str) -> list[dict[str, Any]]:
    path = root / index
    items = _read_json(path).get(key)
    if not isinstance(items, list):
        raise AssetsMissing(f"{path} has no '{key}' list: make the assets again with `{REGENERATE}`.")
    return items


def load_characters(assets_dir: str | Path | None = None) -> list[Character]:
    """The example character pictures (full body, upper body, stylized)."""
    root = _root(assets_dir)
    out = []
    for c in _entries(root, CHARACTERS_JSON, "characters"):
        try:
            w, h = c["size"]
            out.append(
                Character(
                    c["id"],
                    c["title"],
                    _file(root, c["file"]),
                    int(w),
                    int(h),
                    c["framing"],
                    int(c["people"]),
                    c["shows"],
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AssetsMissing(f"{root / CHARACTERS_JSON}: a character entry is incomplete ({exc!r}).") from None
    return out


def load_library(assets_dir: str | Path | None = None) -> list[Motion]:
    """The Motion Library: short motion clips with their measured metadata."""
    root = _root(assets_dir)
    out = []
    for m in _entries(root, LIBRARY_JSON, "motions"):
        try:
            w, h = m["size"]
            o = m["orientation"]
            out.append(
                Motion(
                    id=m["id"],
                    title=m["title"],
                    path=_file(root, m["file"]),
                    duration=float(m["duration"]),
                    fps=float(m["fps"]),
                    width=int(w),
                    height=int(h),
                    framing=m["framing"],
                    people=int(m["people"]),
                    speed=m["speed"],
                    orientations=tuple(o["suits"]),
                    recommended_orientation=o["recommended"],
                    orientation_why=o["why"],
                    shows=m["shows"],
                    has_audio=bool(m["audio"]),
                    sound=m["sound"],
                    measured=dict(m.get("measured", {})),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AssetsMissing(f"{root / LIBRARY_JSON}: a motion entry is incomplete ({exc!r}).") from None
    return out


def load_examples(assets_dir: str | Path | None = None) -> list[Example]:
    """The examples: a character and a motion with a pre-rendered result and its report."""
    root = _root(assets_dir)
    characters = {c.id: c for c in load_characters(root)}
    motions = {m.id: m for m in load_library(root)}
    out = []
    for e in _entries(root, EXAMPLES_JSON, "examples"):
        try:
            if e["character"] not in characters or e["motion"] not in motions:
                raise AssetsMissing(
                    f"{root / EXAMPLES_JSON}: example '{e['id']}' names a character or motion that is not there."
                )
            out.append(
                Example(
                    id=e["id"],
                    title=e["title"],
                    character=characters[e["character"]],
                    motion=motions[e["motion"]],
                    orientation=e["orientation"],
                    tier=e["tier"],
                    keep_sound=bool(e["keep_sound"]),
                    result=_file(root, e["result"]),
                    report_path=_file(root, e["report"]),
                    plot=_file(root, e["plot"]),
                    pck=float(e["pck"]),
                    following=float(e["following"]),
                    summary=e["summary"],
                    why=e["why"],
                    notes=tuple(e.get("notes", ())),
                    assets_dir=root,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AssetsMissing(f"{root / EXAMPLES_JSON}: an example entry is incomplete ({exc!r}).") from None
    return out
