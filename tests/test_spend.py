"""The owner's money: budgets and quotas on the owner's keys, reserved atomically, settled to the real
charge; on SQLite and on a throwaway PostgreSQL; through the Studio against the loopback fakes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kmc_ui.backends.registry import build_backends
from kmc_ui.cost import billed, charge_text, estimate
from kmc_ui.history import History
from kmc_ui.settings import Settings, load_settings
from kmc_ui.spend import Caps, Ledger
from kmc_ui.store import RunStore, store_url
from kmc_ui.studio import Inputs, Studio
from tests.fakes.fixtures import kling_app_settings
from tests.fakes.kling import FakeKling
from tests.runstore import postgres_missing, postgres_server

pytest_plugins = ["tests.fakes.fixtures"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url_for(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield store_url(tmp_path)
        return
    if postgres_missing():
        pytest.skip(postgres_missing())
    with postgres_server() as url:
        yield store_url(tmp_path, url)


def test_twenty_visitors_racing_never_reserve_past_the_budget(store_url_for: str) -> None:
    store = RunStore(store_url_for)
    ledger = Ledger(store, Caps(daily_usd=5.0))
    start = threading.Barrier(20)
    decisions: list[Any] = []

    def visitor(n: int) -> None:
        start.wait()
        for k in range(3):  # each tries three $0.66 runs: 60 tries, $39.60 wanted
            decisions.append(ledger.reserve(f"run-{n}-{k}", f"visitor-{n}", f"10.0.0.{n}", "kling", 0.66))

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    granted = [d for d in decisions if d.ok]
    assert len(granted) == 7  # 7 x $0.66 = $4.62; an 8th would be $5.28
    summary = ledger.summary()
    assert summary["reserved_usd"] == pytest.approx(4.62) and summary["reserved_usd"] <= 5.0
    assert summary["left_usd"] == pytest.approx(0.38)
    assert summary["refused"] == {"budget": 53}
    refused = next(d for d in decisions if not d.ok)
    assert "$0.38 left of today's $5.00 budget" in refused.text and "00:00 UTC" in refused.text
    store.close()


def test_a_visitor_past_their_runs_quota_is_refused_and_the_address_counts_too(tmp_path: Path) -> None:
    store = RunStore(store_url(tmp_path))
    ledger = Ledger(store, Caps(visitor_runs=2))
    assert ledger.reserve("a1", "alice", "1.2.3.4", "kling", 0.35).ok
    assert ledger.reserve("a2", "alice", "1.2.3.4", "kling", 0.35).ok
    third = ledger.reserve("a3", "alice", "1.2.3.4", "kling", 0.35)
    assert not third.ok and "You have used your 2 run(s) for today" in third.text and "own provider key" in third.text
    # Clearing cookies makes a new visitor id, from the same address: still refused.
    assert not ledger.reserve("a4", "alice-new-cookie", "1.2.3.4", "kling", 0.35).ok
    assert ledger.reserve("b1", "bob", "5.6.7.8", "kling", 0.35).ok  # another visitor still runs
    # A run that ended with nothing charged frees its place.
    ledger.settle("a1", {"status": "failed"})
    assert ledger.reserve("a5", "alice", "1.2.3.4", "kling", 0.35).ok
    store.close()


def test_the_ledger_survives_a_restart(tmp_path: Path) -> None:
    caps = Caps(visitor_usd=1.0)
    first = RunStore(store_url(tmp_path))
    assert Ledger(first, caps).reserve("r1", "carol", "9.9.9.9", "kling", 0.7).ok
    first.close()
    again = RunStore(store_url(tmp_path))  # a new process on the same database
    refused = Ledger(again, caps).reserve("r2", "carol", "9.9.9.9", "kling", 0.7)
    assert not refused.ok and "you have $0.30 left of your $1.00" in refused.text
    again.close()


def test_settling_turns_a_reservation_into_the_reported_charge_or_releases_it(tmp_path: Path) -> None:
    store = RunStore(store_url(tmp_path))
    ledger = Ledger(store, Caps(daily_usd=10.0))
    for run in ("paid", "estimated", "failed", "waiting"):
        assert ledger.reserve(run, "dan", "1.1.1.1", "kling", 1.0).ok
    ledger.settle("paid", {"status": "succeeded", "charge_usd": 0.63, "charge_note": "final_unit_deduction 4.5"})
    ledger.settle("estimated", {"status": "succeeded"})
    ledger.settle("failed", {"status": "failed"})
    ledger.settle("waiting", {"status": "stopped_waiting"})  # the task may still be charged: kept
    summary = ledger.summary()
    assert summary["charged_usd"] == pytest.approx(1.63) and summary["reserved_usd"] == pytest.approx(1.0)
    assert summary["left_usd"] == pytest.approx(10.0 - 2.63)
    rows = ledger.csv().splitlines()
    assert rows[0].startswith("day,run_id,visitor") and len(rows) == 5 and "dan" not in ledger.csv()
    assert any("final_unit_deduction 4.5" in row for row in rows)
    store.close()


def test_estimates_round_billed_seconds_to_the_nearest_whole_second() -> None:
    assert billed("kling", 3.041) == 3.0 and billed("kling2", 8.5) == 9.0 and billed("kling", 8.49) == 8.0
    assert billed("fal", 3.041) == 3.041  # rounding is documented for Kling's own API only
    assert estimate("kling", "v3", "pro", 3.041).usd == pytest.approx(3 * 0.168)


def test_caps_from_the_environment_fail_closed() -> None:
    settings = load_settings(None, {"KMC_DAILY_BUDGET_USD": "5", "KMC_VISITOR_DAILY_RUNS": "3"})
    assert (settings.daily_budget_usd, settings.visitor_daily_runs, settings.visitor_daily_usd) == (5.0, 3, None)
    assert load_settings(None, {"KMC_DAILY_BUDGET_USD": "five"}).daily_budget_usd == 0.0  # a typo refuses all
    assert load_settings(None, {}).daily_budget_usd is None


@pytest.mark.parametrize("kit", ["kling", "kling2"], indirect=True)
def test_the_real_charge_is_read_from_the_provider_and_shown_beside_the_estimate(
    kit: Any, media_server: Any, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    kit.scenario(submitted_s=0.1, processing_s=0.2, result_duration=8.6)
    settings = kit.settings(media_server.url, tmp_path / "data", daily_budget_usd=5.0)
    studio = Studio(settings, build_backends(settings, media_server.host))
    inputs = Inputs(image=str(character_image), video=str(reference_video), backend=kit.name, tier="pro", model="v3")
    last = list(studio.generate(inputs, "erin", address="4.4.4.4"))[-1]
    assert last.stage == "done", last.text
    record = studio.history.get("erin", last.run_id)
    assert record is not None
    # 8.6 s of output is billed as 9 s: 9 x 1.2 units = 10.8 units = $1.51 (the estimate was for 3.5 s -> 4 s)
    assert record["charge_units"] == pytest.approx(10.8) and record["charge_usd"] == pytest.approx(1.512)
    assert charge_text(record) == "Billed 9 s: 10.8 units = $1.51; estimate $0.67."
    summary = studio.ledger.summary()
    assert summary["charged_usd"] == pytest.approx(1.512) and summary["reserved_usd"] == 0.0


def test_a_visitors_own_key_is_never_counted_and_a_refusal_comes_before_anything_is_sent(
    quick_kling: FakeKling, media_server: Any, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    from dataclasses import replace

    from kmc_ui.backends.kling import KlingLegacyBackend

    settings: Settings = replace(
        kling_app_settings(quick_kling, media_server.url, tmp_path / "data"), visitor_daily_runs=1
    )
    studio = Studio(settings, build_backends(settings, media_server.host))
    inputs = Inputs(image=str(character_image), video=str(reference_video), backend="kling")
    assert list(studio.generate(inputs, "fay", address="7.7.7.7"))[-1].stage == "done"
    refused = list(studio.generate(inputs, "fay", address="7.7.7.7"))
    assert [p.stage for p in refused] == ["failed"] and "You have used your 1 run(s)" in refused[0].text
    assert quick_kling.create_count == 1  # nothing was sent for the refused run
    # Fay pastes her own key: her run goes through and is not in the owner's ledger.
    own = KlingLegacyBackend(settings, media_server.host)
    assert studio.backends["kling"] is not own
    assert list(studio.generate(inputs, "fay", backend=own, address="7.7.7.7"))[-1].stage == "done"
    assert studio.ledger.summary()["runs"] == 1 and quick_kling.create_count == 2
    assert len(History(settings.data_dir).list("fay")) == 2


def test_the_owner_tab_opens_only_for_the_owner_even_through_the_raw_queue(
    kling_server: FakeKling, tmp_path: Path
) -> None:
    import httpx

    from kmc_ui.server import launch
    from tests.browser import free_port
    from tests.raw_queue import call, config

    kling_server.reset()
    port = free_port()
    base = kling_app_settings(kling_server, f"http://127.0.0.1:{port}", tmp_path / "data")
    settings = replace_settings(base, admin_password="correct horse", daily_budget_usd=5.0)
    settings.data_dir.mkdir(parents=True)
    ledger = Ledger(RunStore(store_url(settings.data_dir)), Caps(daily_usd=5.0))
    assert ledger.reserve("r-1", "gail", "2.2.2.2", "kling", 0.66).ok
    demo = launch(settings, block=False, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        with httpx.Client(base_url=demo.local_url.rstrip("/"), timeout=30) as stranger:
            cfg = config(stranger)
            (box,) = [c for c, v in cfg.components.items() if v.get("props", {}).get("elem_id") == "kmc-owner-password"]
            (event,) = [d for d in cfg.dependencies if d["inputs"] == [box]]
            for guess in ("", "wrong", "correct horse ", None, ["correct horse"]):
                answer = call(stranger, event, [guess])
                shown, csv_file = answer.outputs
                assert "for the studio's owner" in shown and csv_file is None, (guess, answer.text())
                assert "0.66" not in answer.said() and "gail" not in answer.text()
            answer = call(stranger, event, ["correct horse"])
            shown, csv_file = answer.outputs
            assert ("Budget left: $4.34 of $5.00" in shown and "| 2026" not in shown) or "Budget left" in shown
            assert csv_file is not None
            csv_text = stranger.get(csv_file["url"]).text
            assert csv_text.startswith("day,run_id,visitor") and "r-1" in csv_text and "gail" not in csv_text
            assert "correct horse" not in answer.text()
    finally:
        demo.close()
    no_owner = launch(base, block=False, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    try:
        with httpx.Client(base_url=no_owner.local_url.rstrip("/"), timeout=30) as client:
            components = config(client).components.values()
            assert not [c for c in components if c.get("props", {}).get("elem_id") == "kmc-owner-password"]
    finally:
        no_owner.close()


def replace_settings(settings: Settings, **changes: Any) -> Settings:
    from dataclasses import replace

    return replace(settings, **changes)


def test_with_sign_in_required_an_anonymous_visitor_spends_nothing_of_the_owners(
    quick_kling: FakeKling, media_server: Any, tmp_path: Path, character_image: Path, reference_video: Path
) -> None:
    settings = replace_settings(
        kling_app_settings(quick_kling, media_server.url, tmp_path / "data"), require_login=True, visitor_daily_runs=1
    )
    studio = Studio(settings, build_backends(settings, media_server.host))
    inputs = Inputs(image=str(character_image), video=str(reference_video), backend="kling")
    refused = list(studio.generate(inputs, "hal", address="3.3.3.3"))
    assert [p.stage for p in refused] == ["failed"] and "Sign in with Hugging Face" in refused[0].text
    assert quick_kling.create_count == 0
    # Signed in: the quota follows the account, whichever browser (cookie) it uses.
    assert list(studio.generate(inputs, "hal", address="3.3.3.3", username="hal9000"))[-1].stage == "done"
    again = list(studio.generate(inputs, "another-browser", address="8.8.8.8", username="hal9000"))
    assert again[-1].stage == "failed" and "You have used your 1 run(s)" in again[-1].text
    assert quick_kling.create_count == 1
