"""One mechanism for every state machine: a transition table per machine, one function applies moves.

Feature packages declare their table in `status.py`; services call `transition()` (or `advance_to()`
for gateway-driven updates that may arrive out of order). Every applied move writes a history row in
the caller's transaction, so the status change and its audit entry commit or roll back together.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from portal.history.services import Actor, record_event


class IllegalTransition(Exception):
    """A move that the machine's table does not allow."""

    def __init__(self, machine: str, current: str, target: str):
        self.machine, self.current, self.target = machine, str(current), str(target)
        super().__init__(f"{machine} cannot move from '{self.current}' to '{self.target}'")


@dataclass(frozen=True)
class Machine:
    name: str
    states: type[StrEnum]
    table: Mapping[str, Iterable[str]]
    attribute: str = "status"
    initial: str | None = None
    _edges: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        edges = {str(s): frozenset(str(t) for t in self.table.get(s, ())) for s in self.states}
        object.__setattr__(self, "_edges", edges)

    def next_states(self, current: str) -> frozenset[str]:
        return self._edges.get(str(current), frozenset())

    def can(self, current: str, target: str) -> bool:
        return str(target) in self.next_states(current)

    def is_final(self, state: str) -> bool:
        return not self.next_states(state)

    @cached_property
    def _paths(self) -> dict[str, dict[str, list[str]]]:
        return {str(s): self._bfs(str(s)) for s in self.states}

    def _bfs(self, start: str) -> dict[str, list[str]]:
        paths, queue = {start: []}, deque([start])
        while queue:
            node = queue.popleft()
            for nxt in sorted(self._edges[node]):
                if nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    queue.append(nxt)
        return paths

    def path(self, current: str, target: str) -> list[str] | None:
        """Shortest legal route from current to target (excluding current); None if unreachable."""
        return self._paths.get(str(current), {}).get(str(target))

    def is_behind(self, current: str, target: str) -> bool:
        """True when `target` is a state the entity has already left (a stale update)."""
        return (
            str(current) != str(target)
            and self.path(target, current) is not None
            and self.path(current, target) is None
        )


def transition(entity, machine: Machine, target: str, *, actor: Actor, reason: str = "", changes=None):
    """Apply one legal move, write its history row; raise IllegalTransition otherwise."""
    current = getattr(entity, machine.attribute)
    if not machine.can(current, target):
        raise IllegalTransition(machine.name, current, target)
    setattr(entity, machine.attribute, machine.states(target))
    record_event(
        entity,
        action="transition",
        actor=actor,
        reason=reason,
        from_state=str(current),
        to_state=str(target),
        changes=changes,
    )
    return entity


def advance_to(entity, machine: Machine, target: str, *, actor: Actor, reason: str = "") -> bool:
    """Walk the shortest legal path to `target`, one recorded step at a time.

    Returns False (and changes nothing) when already there or when `target` is behind the current
    state — the monotonic rule for out-of-order gateway events. Raises IllegalTransition when the
    target is neither reachable nor behind (a genuine conflict, e.g. cancelled vs paid).
    """
    current = str(getattr(entity, machine.attribute))
    if current == str(target) or machine.is_behind(current, target):
        return False
    route = machine.path(current, target)
    if route is None:
        raise IllegalTransition(machine.name, current, target)
    for step in route:
        transition(entity, machine, step, actor=actor, reason=reason)
    return True
