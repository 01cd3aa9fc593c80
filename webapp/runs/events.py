"""Event payloads as they cross the wire: JSON-safe values, coalesced step batches, and
the envelope a message travels in through the channel layer.

The event types themselves are defined once, in training.events.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from training.events import STEP_FIELDS

ENVELOPE_TYPE = "run.event"  # → RunConsumer.run_event


def envelope(event: dict) -> dict:
    """The channel-layer message that carries one event (or notice) to a run's viewers."""
    return {"type": ENVELOPE_TYPE, "event": event}


def clean(value: Any) -> Any:
    """Replace NaN/inf by None (JSON has no such numbers) and numpy scalars by floats."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "item"):  # numpy / torch scalars
        return clean(value.item())
    if hasattr(value, "tolist"):
        return clean(value.tolist())
    return str(value)


def dumps(event: dict) -> str:
    return json.dumps(clean(event), separators=(",", ":"), allow_nan=False)


def coalesce(events: Iterable[dict], max_batch: int = 2000) -> list[dict]:
    """Merge each run of consecutive step events into one message carrying lists.

    The message's ``seq`` is the last one it covers and ``seqs`` lists them all, so a
    receiver can drop exactly the items it already has. Order is preserved. Inputs may
    already be coalesced (stored rows are): their items are merged the same way.
    """
    out: list[dict] = []
    batch: list[dict] = []

    def flush() -> None:
        if not batch:
            return
        if len(batch) == 1:
            out.append(batch[0])
        else:
            msg = {"type": "step", "seq": batch[-1]["seq"], "seqs": [e["seq"] for e in batch]}
            for field in STEP_FIELDS:
                msg[field] = [e.get(field) for e in batch]
            out.append(msg)
        batch.clear()

    for event in events:
        if event.get("type") == "step":
            batch.extend(expand(event))
            if len(batch) >= max_batch:
                flush()
        else:
            flush()
            out.append(event)
    flush()
    return out


def expand(message: dict) -> list[dict]:
    """A coalesced step message as the single step events it carries (others unchanged)."""
    if "seqs" not in message:
        return [message]
    return [{"seq": s, "type": "step", **{f: message[f][i] for f in STEP_FIELDS}}
            for i, s in enumerate(message["seqs"])]


def drop_seen(message: dict, last_seq: int) -> dict | None:
    """The part of ``message`` with seq > last_seq, or None if nothing is new."""
    if "seqs" not in message:
        return message if message.get("seq", 0) > last_seq else None
    keep = [i for i, s in enumerate(message["seqs"]) if s > last_seq]
    if not keep:
        return None
    if len(keep) == len(message["seqs"]):
        return message
    trimmed = {"type": "step", "seq": message["seq"], "seqs": [message["seqs"][i] for i in keep]}
    for field in STEP_FIELDS:
        trimmed[field] = [message[field][i] for i in keep]
    return trimmed
