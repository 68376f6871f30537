"""A run record, typed: the fields the run store queries, and everything else kept as it came.

`RunRecord.from_dict(d).to_dict() == d` for any record: a typed field holding a value of another
type (an int time, a None task id) stays in `extra` under its own key, so nothing is lost or changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

# Typed fields (columns in the run store) -> the type a value must have to be kept there.
TYPED: dict[str, type] = {
    "status": str,
    "provider": str,
    "task_id": str,
    "created_at": float,
    "updated_at": float,
}


@dataclass
class RunRecord:
    run_id: str
    owner: str
    status: str | None = None
    provider: str | None = None
    task_id: str | None = None
    created_at: float | None = None
    updated_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # every other key of the record

    @classmethod
    def from_dict(cls, record: dict[str, Any], owner: str | None = None) -> RunRecord:
        """The record as typed fields + extra; `owner` (the store's) wins over a missing one."""
        extra = {k: v for k, v in record.items() if k not in ("run_id", "owner")}
        typed = {k: extra.pop(k) for k, kind in TYPED.items() if type(extra.get(k)) is kind}
        return cls(run_id=str(record["run_id"]), owner=str(owner or record["owner"]), extra=extra, **typed)

    def to_dict(self) -> dict[str, Any]:
        """The record as History has always returned it (a typed field left unset is absent)."""
        out: dict[str, Any] = {"run_id": self.run_id, "owner": self.owner}
        for f in fields(self):
            if f.name in TYPED and getattr(self, f.name) is not None:
                out[f.name] = getattr(self, f.name)
        out.update(self.extra)
        return out
