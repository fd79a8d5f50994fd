"""Playing many stories through the past, in time order, with the portal's clock at each step's moment.

A story is a generator: it does one step (placing an order, paying it, refunding it) and yields how long
to wait before its next step. `play` resumes whichever story is due first, after setting the clock
(portal.timeutil) to that moment, so every stamp any service writes reads as if it happened then —
and stories interleave as real customers' would (invoice numbers, webhook log and history all in order).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from portal.timeutil import clock_at, set_clock, utcnow

Story = Iterator[timedelta]


def play(stories: Iterable[tuple[datetime, Story]], *, on_finished: Callable[[], None] | None = None) -> int:
    """Run every story to its end, each step at its moment (naive UTC); returns the steps taken.

    `on_finished` is called once per story that ends (a progress bar's tick).
    """
    queue = [(start, n, story) for n, (start, story) in enumerate(stories)]
    if not queue:
        return 0
    heapq.heapify(queue)
    steps = 0
    with clock_at(queue[0][0]):
        while queue:
            moment, n, story = heapq.heappop(queue)
            set_clock(max(moment, utcnow()))  # never backwards: a step takes time, the next starts after it
            steps += 1
            try:
                wait = next(story)
            except StopIteration:
                if on_finished:
                    on_finished()
                continue
            heapq.heappush(queue, (utcnow() + wait, n, story))
    return steps
