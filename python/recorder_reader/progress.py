"""A one-line progress bar on stderr, drawn only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class Progress:
    """``Progress("mp4", total)``; call :meth:`advance` per unit and :meth:`done` at the end.

    Redraws at most 10 times a second so a fast loop does not spend its time printing; silent when
    the stream is not a TTY (pipes, tests, CI logs).
    """

    def __init__(self, what: str, total: int, unit: str = "frames", stream: Optional[TextIO] = None):
        self.what = what
        self.total = max(0, int(total))
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.count = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def advance(self, count: int = 1) -> None:
        self.count += count
        now = time.monotonic()
        if self.enabled and now - self._drawn >= 0.1:
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.count / elapsed
        share = self.count / self.total if self.total else 1.0
        filled = int(30 * min(share, 1.0))
        eta = (self.total - self.count) / rate if rate > 0 and self.total else 0.0
        self.stream.write("\r%s [%s%s] %d/%d %s %3.0f%% %.1f/s ETA %ds "
                          % (self.what, "#" * filled, "." * (30 - filled), self.count, self.total,
                             self.unit, 100 * share, rate, eta))
        self.stream.flush()

    def done(self) -> float:
        """Finish the line; returns the elapsed seconds."""
        now = time.monotonic()
        if self.enabled:
            self._draw(now)
            self.stream.write("\n")
            self.stream.flush()
        return now - self.started
