"""The owner's money: budgets and quotas per UTC day for runs on the owner's keys, kept as a ledger.

Before a run on the owner's keys is sent, its estimated cost is *reserved* in one transaction
that first takes the ledger's lock (SQLite: the database's write lock; PostgreSQL: an advisory
lock), so visitors racing each other can never reserve more than the budget. When the run ends the
reservation becomes the charge (what the provider reported, else the estimate) or is released
(nothing was charged). A visitor's own pasted key and the offline engine are never counted.

Caps (kmc_ui/settings.py): KMC_DAILY_BUDGET_USD (everyone together), KMC_VISITOR_DAILY_USD and
KMC_VISITOR_DAILY_RUNS (per visitor, and per client address as well, so clearing cookies does not
reset a quota). The ledger lives in the run store's database and survives restarts.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from kmc_ui.messages import Msg, Said
from kmc_ui.store import RunStore, refusals, spend

ADVISORY_LOCK = 0x6B6D63  # "kmc": PostgreSQL's lock for the ledger
# Ended statuses where the provider cannot have charged: the reservation is released.
UNCHARGED = frozenset({"failed", "canceled", "stopped", "submit_failed"})
# Ended statuses where the task exists and may still be charged: the reservation stays.
MAY_CHARGE = frozenset({"stopped_waiting", "download_failed", "submit_uncertain"})


@dataclass(frozen=True)
class Caps:
    daily_usd: float | None = None
    visitor_usd: float | None = None
    visitor_runs: int | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.daily_usd, self.visitor_usd, self.visitor_runs))


@dataclass(frozen=True)
class Decision:
    ok: bool
    text: str = ""  # why it was refused: what is left and when it resets
    reason: str = ""  # budget / visitor_usd / visitor_runs


def utc_day(now: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(now))


def until_reset(now: float) -> dict[str, str]:
    """How long until today's caps reset at the next 00:00 UTC: hours and minutes, as said."""
    left = 86400 - int(now) % 86400
    return {"h": str(left // 3600), "m": f"{left % 3600 // 60:02d}"}


class Ledger:
    def __init__(self, store: RunStore, caps: Caps, secret: bytes = b"") -> None:
        self.store = store
        self.caps = caps
        self._secret = secret or b"kmc-address"

    def address_key(self, address: str) -> str:
        """A keyed hash of a client address: quotas per address without keeping the address."""
        return hmac.new(self._secret, (address or "unknown").encode(), hashlib.sha256).hexdigest()[:32]

    # ------------------------------------------------------------ reserving
    def reserve(
        self, run_id: str, visitor: str, address: str, provider: str, usd: float, now: float | None = None
    ) -> Decision:
        """Reserve `usd` for a run about to be sent, or refuse it (and note the refusal)."""
        now = time.time() if now is None else now
        day, addr = utc_day(now), self.address_key(address)
        caps = self.caps
        with self.store._begin(write=True) as conn:
            if not self.store.sqlite:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})
            decision = _decide(caps, *_spent(conn, day, visitor, addr), usd, now)
            if not decision.ok:
                conn.execute(refusals.insert().values(visitor=visitor, day=day, at=now, reason=decision.reason))
                return decision
            conn.execute(
                spend.insert().values(
                    run_id=run_id, visitor=visitor, address=addr, day=day, provider=provider,
                    reserved_usd=round(usd, 4), state="reserved", created_at=now,
                )
            )  # fmt: skip
        return decision

    def precheck(self, visitor: str, address: str, usd: float, now: float | None = None) -> Decision:
        """Would `usd` be reserved now? (Nothing is written: the page's note next to Generate.)"""
        now = time.time() if now is None else now
        day, addr = utc_day(now), self.address_key(address)
        with self.store._begin() as conn:
            return _decide(self.caps, *_spent(conn, day, visitor, addr), usd, now)

    # ------------------------------------------------------------- settling
    def settle(self, run_id: str, record: dict[str, Any], now: float | None = None) -> None:
        """A run ended: its reservation becomes the charge, or is released. Idempotent."""
        now = time.time() if now is None else now
        status = str(record.get("status") or "")
        charged = record.get("charge_usd")
        if status == "succeeded" or (isinstance(charged, int | float) and charged > 0):
            usd = float(charged) if isinstance(charged, int | float) else None
            note = str(record.get("charge_note") or ("reported by the provider" if usd is not None else "estimate"))
            values = {"state": "charged", "charged_usd": usd, "charge_note": note, "settled_at": now}
            if usd is None:
                values["charged_usd"] = spend.c.reserved_usd
        elif status in UNCHARGED:
            values = {"state": "released", "charged_usd": 0.0, "charge_note": "nothing charged", "settled_at": now}
        else:
            return  # still running, or a task that may still be charged: the reservation stays
        with self.store._begin(write=True) as conn:
            conn.execute(spend.update().where(spend.c.run_id == run_id, spend.c.state == "reserved").values(**values))

    def reserved_runs(self) -> list[str]:
        with self.store._begin() as conn:
            return [r.run_id for r in conn.execute(sa.select(spend.c.run_id).where(spend.c.state == "reserved"))]

    # ------------------------------------------------------------ the owner
    def summary(self, now: float | None = None) -> dict[str, Any]:
        """Today's spend, what is left, the runs refused (per reason), and the last 30 days."""
        now = time.time() if now is None else now
        day = utc_day(now)
        amount = sa.func.coalesce(spend.c.charged_usd, spend.c.reserved_usd)
        with self.store._begin() as conn:
            days = conn.execute(
                sa.select(
                    spend.c.day,
                    sa.func.coalesce(sa.func.sum(sa.case((spend.c.state == "charged", spend.c.charged_usd))), 0.0),
                    sa.func.coalesce(sa.func.sum(sa.case((spend.c.state == "reserved", spend.c.reserved_usd))), 0.0),
                    sa.func.count(),
                )
                .where(spend.c.state != "released")
                .group_by(spend.c.day)
                .order_by(spend.c.day.desc())
                .limit(30)
            ).all()
            visitors = conn.execute(
                sa.select(spend.c.visitor, sa.func.sum(amount), sa.func.count())
                .where(spend.c.day == day, spend.c.state != "released")
                .group_by(spend.c.visitor)
                .order_by(sa.func.sum(amount).desc())
            ).all()
            refused = conn.execute(
                sa.select(refusals.c.reason, sa.func.count()).where(refusals.c.day == day).group_by(refusals.c.reason)
            ).all()
        today = next((d for d in days if d[0] == day), (day, 0.0, 0.0, 0))
        spent = float(today[1]) + float(today[2])
        cap = self.caps.daily_usd
        return {
            "day": day,
            "charged_usd": round(float(today[1]), 4),
            "reserved_usd": round(float(today[2]), 4),
            "runs": int(today[3]),
            "budget_usd": cap,
            "left_usd": None if cap is None else round(max(0.0, cap - spent), 4),
            "refused": {reason: int(n) for reason, n in refused},
            "visitors": [{"visitor": _short(v), "usd": round(float(u), 4), "runs": int(n)} for v, u, n in visitors],
            "days": [
                {"day": d, "charged_usd": round(float(c), 4), "reserved_usd": round(float(r), 4), "runs": int(n)}
                for d, c, r, n in days
            ],
        }

    def csv(self) -> str:
        """Every ledger row, oldest first, visitors as short hashes."""
        with self.store._begin() as conn:
            rows = conn.execute(sa.select(spend).order_by(spend.c.created_at)).all()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["day", "run_id", "visitor", "provider", "state", "reserved_usd", "charged_usd", "charge_note"])
        for r in rows:
            writer.writerow(
                [r.day, r.run_id, _short(r.visitor), r.provider, r.state, r.reserved_usd, r.charged_usd, r.charge_note]
            )
        return out.getvalue()


def _spent(conn: sa.Connection, day: str, visitor: str, addr: str) -> tuple[float, float, int]:
    """Today's (everyone's USD, this visitor's or address's USD, their runs), released runs left out."""
    counted = sa.and_(spend.c.day == day, spend.c.state != "released")
    amount = sa.func.coalesce(spend.c.charged_usd, spend.c.reserved_usd)
    total = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(amount), 0.0)).where(counted)).scalar_one()
    mine = sa.or_(spend.c.visitor == visitor, spend.c.address == addr)
    my_usd, my_runs = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(amount), 0.0), sa.func.count()).where(counted, mine)
    ).one()
    return float(total), float(my_usd), int(my_runs)


def _short(visitor: str) -> str:
    return hashlib.sha256(visitor.encode()).hexdigest()[:12]


def _decide(caps: Caps, total: float, my_usd: float, my_runs: int, usd: float, now: float) -> Decision:
    resets = until_reset(now)
    if caps.visitor_runs is not None and my_runs >= caps.visitor_runs:
        said = Msg("spend.runs_used", {"n": caps.visitor_runs} | resets)
        return Decision(False, Said(said), "visitor_runs")
    money = (("visitor_usd", caps.visitor_usd, my_usd), ("budget", caps.daily_usd, total))  # (reason, cap, spent)
    for reason, cap, spent in money:
        if cap is not None and spent + usd > cap + 1e-9:
            left = max(0.0, cap - spent)
            said = {"usd": f"{usd:.2f}", "left": f"{left:.2f}", "cap": f"{cap:.2f}"} | resets
            return Decision(False, Said(Msg(f"spend.{reason}", said)), reason)
    return Decision(True)
