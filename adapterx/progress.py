"""Progress bars for the long steps outside the Trainer (evaluation, retrieval embedding): on
stderr, shown on a terminal, gone from logs; ADAPTERX_PROGRESS=1 / 0 forces them on / off."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
PROGRESS_ENV = "ADAPTERX_PROGRESS"


def enabled() -> bool | None:
    """True / False when forced by ADAPTERX_PROGRESS; None: tqdm's own choice (a terminal or not)."""
    value = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    return None


def bar(items: Iterable[T], desc: str, total: int | None = None, unit: str = "batch") -> Iterator[T]:
    """`items`, with a bar that disappears when done (the tables stay readable)."""
    from tqdm.auto import tqdm

    on = enabled()
    return iter(tqdm(items, desc=desc, total=total, unit=unit, leave=False,
                     disable=None if on is None else not on))
