"""The History tab's handlers (kmc_ui/ui/history_tab.py HistoryHandlers), called directly: a real
Studio on a temp data folder, runs stored in its History for two visitors, and fake requests of
their pages (each with its own signed visitor cookie)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from kmc_ui.backends.local import LocalBackend
from kmc_ui.identity import COOKIE
from kmc_ui.settings import Settings
from kmc_ui.studio import Studio
from kmc_ui.ui.history_tab import RERUN_INPUTS, HistoryHandlers
from kmc_ui.ui.scrub import leaks
from kmc_ui.ui.text import REPORT_PENDING
from tests.figures import make_character, make_dance
from tests.test_studio_handlers import FakeRequest

SKIP = gr.skip()
# open_run's outputs: the detail widgets, then the buttons
DETAIL = ("player", "image", "record", "download", "status", "report", "plot")
BUTTONS = ("resume", "stop", "rerun", "delete")
OPEN = {name: i for i, name in enumerate((*DETAIL, *BUTTONS))}


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("history-handlers") / "data")
    studio = Studio(settings, {"local": LocalBackend(settings)})
    yield studio
    studio.close()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("history-media")
    return {
        "image": make_character(root / "character.png", 180, 320),
        "video": make_dance(root / "dance.mp4", 180, 320, seconds=1.5, fps=8, audio=False),
    }


def page(studio: Studio, session: str, lang: str = "en") -> tuple[str, FakeRequest]:
    """A new visitor and a page of theirs."""
    owner, cookie = studio.identity.issue()
    return owner, FakeRequest(session, f"{COOKIE}={cookie}", lang)


def stored_run(
    studio: Studio, owner: str, media: dict[str, Path], status: str, settings: dict[str, Any] | None = None, **more: Any
) -> dict[str, Any]:
    """A run in the owner's History with its files in the run's folder, as a run leaves them."""
    asked = {"orientation": "video", "tier": "std", "model": "v2.6", "keep_sound": False, **(settings or {})}
    record = studio.history.create(
        owner, {"status": status, "provider": "local", "settings": asked, "estimate_usd": 0.0, **more}
    )
    folder = studio.history.run_dir(owner, record["run_id"])
    inputs = {k: str(shutil.copy(media[k], folder / f"{k}{media[k].suffix}")) for k in ("image", "video")}
    changes: dict[str, Any] = {"inputs": inputs}
    if status == "succeeded":
        changes["output"] = str(shutil.copy(media["video"], folder / "output.mp4"))
    return studio.history.update(owner, record["run_id"], **changes)


def shown(value: Any) -> str:
    """The text a visitor reads in one output (a table's cells, a markdown, a player's words)."""
    if isinstance(value, dict) and "data" in value:
        return " ".join(str(c) for row in value["data"] for c in row)
    if isinstance(value, dict):
        return " ".join(str(value.get(k, "")) for k in ("description", "ref_label", "out_label"))
    if isinstance(value, list):
        return " ".join(str(c) for row in value for c in row)
    return "" if value is None else str(value)


def visible(update: Any) -> bool:
    return bool(update.get("visible"))


def test_a_visitor_lists_only_their_own_runs(studio: Studio, media: dict[str, Path]) -> None:
    h = HistoryHandlers(studio)
    alice, alice_page = page(studio, "alice-1")
    bob, bob_page = page(studio, "bob-1")
    mine = stored_run(studio, alice, media, "succeeded", task_id="local-1")
    theirs = stored_run(studio, bob, media, "canceled", task_id="local-2")

    table, cards, picked = h.listing(alice_page)
    ids = [value for _label, value in picked["choices"]]
    assert ids == [mine["run_id"]] and picked["value"] == mine["run_id"]
    assert len(table) == 1 and table[0][-1] == mine["run_id"]
    assert theirs["run_id"] not in shown(table) + cards + str(picked)
    assert table[0][1].startswith("Finished ") and "offline preview" in table[0][1]  # a sentence, not "succeeded"
    assert "<li>" in cards and "Finished " in cards
    assert [value for _label, value in h.listing(bob_page)[2]["choices"]] == [theirs["run_id"]]

    _nobody, empty_page = page(studio, "carol-1")
    table, cards, picked = h.listing(empty_page)
    assert table == [] and picked["choices"] == [] and picked["value"] is None
    assert "No runs yet." in cards

    zh_table, zh_cards, _ = h.listing(FakeRequest("alice-2", alice_page.headers["cookie"], "zh-CN"))
    assert zh_table["headers"][0] == "时间" and "完成" in shown(zh_table) and "完成" in zh_cards


def test_another_visitors_run_opens_nothing(studio: Studio, media: dict[str, Path]) -> None:
    h = HistoryHandlers(studio)
    _alice, alice_page = page(studio, "alice-3")
    bob, _bob_page = page(studio, "bob-3")
    theirs = stored_run(studio, bob, media, "succeeded", task_id="local-3", settings={"prompt": "bob's secret"})

    out = h.open_run(theirs["run_id"], alice_page)
    assert out[OPEN["image"]] is None and out[OPEN["download"]] is None
    assert out[OPEN["record"]] == out[OPEN["status"]] == out[OPEN["report"]] == ""
    assert out[OPEN["player"]]["ref"] == out[OPEN["player"]]["out"] == ""
    assert not any(visible(out[OPEN[b]]) for b in BUTTONS)
    assert "secret" not in str(out)
    assert h.open_report(theirs["run_id"], alice_page) == (SKIP, SKIP, SKIP)
    assert h.rerun(theirs["run_id"], alice_page) == tuple(SKIP for _ in range(RERUN_INPUTS + 1))
    # nothing picked, or a value that is no run id at all
    for run_id in (None, "", "../../etc/passwd", theirs["run_id"] + "x"):
        assert not any(visible(b) for b in h.open_run(run_id, alice_page)[len(DETAIL) :])


def test_a_finished_offline_run_reads_in_words_with_only_its_actions(studio: Studio, media: dict[str, Path]) -> None:
    h = HistoryHandlers(studio)
    owner, request = page(studio, "dora-1")
    done = stored_run(studio, owner, media, "succeeded", task_id="local-4", settings={"prompt": "a <b>bold</b> spin"})
    data_dir = str(studio.settings.data_dir)

    out = h.open_run(done["run_id"], request)
    assert out[OPEN["status"]].startswith("**Finished ") and "resumed" not in out[OPEN["status"]]
    record = out[OPEN["record"]]
    assert "**Settings**: orientation video · Standard 720p · model v2.6 · silent" in record
    assert "&lt;b&gt;bold&lt;/b&gt;" in record  # the prompt as text, never markup
    assert "image.png, video.mp4, output.mp4" in record  # file names, never paths
    assert f"`{done['run_id']}`" in record and "local-4" in record
    assert out[OPEN["report"]] == REPORT_PENDING  # the report is made next (open_report)
    # the files are served copies, not the run's folder; the player plays the reference and the result
    for k in ("image", "download"):
        assert out[OPEN[k]] and not out[OPEN[k]].startswith(data_dir)
    player = out[OPEN["player"]]
    assert player["ref"].startswith("/gradio_api/file=") and player["out"].startswith("/gradio_api/file=")
    assert data_dir not in str(player)
    # Resume and Stop make no sense for a finished offline run; Re-run and Delete do
    resume, stop, rerun, delete = (visible(out[OPEN[b]]) for b in BUTTONS)
    assert (resume, stop, rerun, delete) == (False, False, True, True)
    # nothing a visitor reads carries a server path or raw JSON
    for i, value in enumerate(out):
        if DETAIL[i : i + 1] in (("image",), ("download",), ("plot",)) or i >= len(DETAIL):
            continue
        words = shown(value)
        assert not leaks(words, data_dir), (DETAIL[i], words)
        assert '"run_id"' not in words and "{'" not in words and '{"' not in words, (DETAIL[i], words)
    table, cards, _ = h.listing(request)
    for words in (shown(table), cards):
        assert not leaks(words, data_dir) and "{" not in words


def test_a_cancelled_offline_run_offers_no_resume(studio: Studio, media: dict[str, Path]) -> None:
    h = HistoryHandlers(studio)
    owner, request = page(studio, "erin-1")
    cancelled = stored_run(studio, owner, media, "canceled", task_id="local-5")
    out = h.open_run(cancelled["run_id"], request)
    assert out[OPEN["status"]] == "**Stopped by you; the task was cancelled, so there is no result**"
    assert out[OPEN["download"]] is None and out[OPEN["report"]] == ""
    assert out[OPEN["player"]]["out"] == "" and out[OPEN["player"]]["ref"]  # the reference alone
    assert [visible(out[OPEN[b]]) for b in BUTTONS] == [False, False, True, True]
    assert h.open_report(cancelled["run_id"], request) == (SKIP, SKIP, SKIP)  # no result, no report

    failed = stored_run(
        studio, owner, media, "failed", task_id="local-6", error="[Errno 2] No such file: '/tmp/x/a.mp4'"
    )
    out = h.open_run(failed["run_id"], request)
    assert out[OPEN["status"]].startswith("**Failed ") and not leaks(out[OPEN["status"]])
    assert not visible(out[OPEN["resume"]])


def test_a_hosted_task_still_at_the_provider_can_be_resumed(studio: Studio, media: dict[str, Path]) -> None:
    h = HistoryHandlers(studio)
    owner, request = page(studio, "fay-1")
    waiting = stored_run(studio, owner, media, "stopped_waiting", provider="kling", task_id="kling-77")
    out = h.open_run(waiting["run_id"], request)
    assert "this task can be resumed without paying again" in out[OPEN["status"]]
    assert [visible(out[OPEN[b]]) for b in BUTTONS] == [True, False, True, True]


def test_resume_without_a_run_or_of_another_visitors_run_changes_nothing(
    studio: Studio, media: dict[str, Path]
) -> None:
    h = HistoryHandlers(studio)
    _owner, request = page(studio, "gus-1")
    bob, _ = page(studio, "bob-4")
    theirs = stored_run(studio, bob, media, "stopped_waiting", provider="kling", task_id="kling-78")

    first = list(h.resume(None, request))
    assert len(first) == 1 and first[0][0] == "Pick a run first." and first[0][1:3] == (SKIP, SKIP)
    said = list(h.resume(theirs["run_id"], request))
    assert "no run" in said[-1][0].lower() and "kling-78" not in str(said)
    assert said[-1][1]["out"] == "" and said[-1][2] is None  # nothing of Bob's played or offered
    assert studio.history.get(bob, theirs["run_id"])["status"] == "stopped_waiting"
    assert h.queued(theirs["run_id"], request) == [gr.validate(True, "")]
    assert isinstance(h.stopped(request), str | dict)  # Stop with nothing running answers, and fails nothing


def test_delete_deletes_only_ones_own_run(studio: Studio, media: dict[str, Path]) -> None:
    h = HistoryHandlers(studio)
    alice, alice_page = page(studio, "alice-5")
    bob, bob_page = page(studio, "bob-5")
    mine = stored_run(studio, alice, media, "succeeded", task_id="local-7")
    theirs = stored_run(studio, bob, media, "succeeded", task_id="local-8")
    folder = studio.history.run_dir(bob, theirs["run_id"])

    table, _cards, picked, said = h.delete(theirs["run_id"], alice_page)
    assert said == "Pick a run first."
    assert studio.history.get(bob, theirs["run_id"]) is not None and folder.is_dir()
    assert [v for _l, v in picked["choices"]] == [mine["run_id"]]

    table, cards, picked, said = h.delete(mine["run_id"], alice_page)
    assert said == "Deleted the run and its files."
    assert studio.history.get(alice, mine["run_id"]) is None
    assert not studio.history.run_dir(alice, mine["run_id"]).exists()
    assert table == [] and picked["choices"] == [] and "No runs yet." in cards
    assert [v for _l, v in h.listing(bob_page)[2]["choices"]] == [theirs["run_id"]]  # Bob's run stays
    assert h.delete(None, alice_page)[3] == "Pick a run first."
    zh = h.delete(theirs["run_id"], FakeRequest("alice-6", alice_page.headers["cookie"], "zh-CN"))[3]
    assert zh and zh != "Pick a run first."  # in the reader's language


def test_rerun_puts_the_runs_inputs_back_on_the_studio_tab(studio: Studio, media: dict[str, Path]) -> None:
    h = HistoryHandlers(studio)
    owner, request = page(studio, "hal-1")
    run = stored_run(
        studio,
        owner,
        media,
        "succeeded",
        task_id="local-9",
        settings={"orientation": "image", "tier": "pro", "model": "v2.6", "keep_sound": False, "prompt": "spin"},
    )
    out = h.rerun(run["run_id"], request)
    assert len(out) == RERUN_INPUTS + 1
    image, video, prompt, orientation, tier, keep_sound, model, backend, trim, tab = out
    data_dir = str(studio.settings.data_dir)
    assert image and video and not image.startswith(data_dir) and not video.startswith(data_dir)
    assert (prompt, orientation, tier, keep_sound, model, backend, trim) == (
        "spin",
        "image",
        "pro",
        False,
        "v2.6",
        "local",
        0.0,
    )
    assert tab.selected == "studio"


def test_a_running_run_says_what_its_worker_does_in_the_pages_language(studio: Studio, media: dict[str, Path]) -> None:
    """The live step comes from its message (code and parameters), not from its English re-parsed."""
    h = HistoryHandlers(studio)
    owner, en_page = page(studio, "dave-1")
    stored_run(studio, owner, media, "submitted", task_id="local-77")
    en_table, _, _ = h.listing(en_page)
    assert "Waiting for a free worker" in shown(en_table), shown(en_table)
    zh_table, zh_cards, _ = h.listing(FakeRequest("dave-2", en_page.headers["cookie"], "zh-CN"))
    assert "正在等待空闲的工作进程…" in shown(zh_table) and "正在等待空闲的工作进程…" in zh_cards
    assert "Waiting" not in shown(zh_table)


def test_a_failed_run_says_its_stored_error_in_the_pages_language(studio: Studio, media: dict[str, Path]) -> None:
    """A run's error is stored with its message (code and parameters): History renders that, and
    falls back to the English (translated) for a record without one or with an error set later."""
    from kmc_ui.backends.errors import http_error
    from kmc_ui.backends.replicate import REFUSALS

    exc = http_error(402, "You have insufficient credit to run this model.", REFUSALS)
    h = HistoryHandlers(studio)
    owner, en_page = page(studio, "gail-1")
    stored_run(studio, owner, media, "failed", task_id="p-1", error=exc.user_text(), error_msg=exc.user_msg().to_dict())
    en_table, _, _ = h.listing(en_page)
    assert "Replicate refused the request: no credit left (HTTP 402)" in shown(en_table), shown(en_table)
    zh_table, zh_cards, _ = h.listing(FakeRequest("gail-2", en_page.headers["cookie"], "zh-CN"))
    assert "Replicate 拒绝了请求：余额不足（HTTP 402）" in shown(zh_table), shown(zh_table)
    assert "处理办法：请在 replicate.com/account/billing 充值" in shown(zh_table)
    assert "refused" not in shown(zh_table) and "余额不足" in zh_cards
    # an error recorded later, without a message of its own: the stale message is not shown
    from kmc_ui.ui.history_tab import sentence

    stale = {"status": "failed", "error": "Some newer words.", "error_msg": exc.user_msg().to_dict()}
    assert "余额不足" not in sentence(stale, "zh") and "Some newer words." in sentence(stale, "zh")
