"""A running rate (articles a second over the last minute) from a counter sampled now and then: what the
status topic shows as one worker's rate, beside its running totals."""

from __future__ import annotations

from collections import deque

#: the span the rate is taken over
SPAN_S = 60.0


class RateMeter:
    def __init__(self, span_s: float = SPAN_S) -> None:
        self.span_s = span_s
        self._samples: deque[tuple[float, int]] = deque()

    def sample(self, now: float, count: int) -> None:
        """``count``, a running total, at monotonic time ``now``; samples past the span are dropped, but one."""
        self._samples.append((now, count))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.span_s:
            self._samples.popleft()

    def per_second(self) -> float:
        """The rate between the oldest sample kept and the newest; 0 before two samples."""
        if len(self._samples) < 2:
            return 0.0
        (t0, c0), (t1, c1) = self._samples[0], self._samples[-1]
        return (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0
