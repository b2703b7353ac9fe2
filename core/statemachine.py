"""A state machine declared as a table: which action moves what from which states to which.

The request lifecycle, charges, extension requests and candidate lenders each declare one
(`ill.lifecycle`, `fees.states`, `ill.states`); services look their move up in it before they assign a
state, and the desk derives its next steps and worklists from the same tables.
"""

from collections.abc import Iterable
from dataclasses import dataclass

NEW = ""  # the state of a row that does not exist yet


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset
    targets: frozenset
    kinds: frozenset | None = None  # None: every kind

    @property
    def target(self) -> str:
        """The only target of a transition that has one."""
        (only,) = self.targets
        return only

    def applies(self, state: str, kind: str | None = None) -> bool:
        return state in self.sources and (self.kinds is None or kind in self.kinds)


def t(action: str, sources: Iterable[str], targets, kinds: Iterable[str] | None = None) -> Transition:
    targets = frozenset([targets] if isinstance(targets, str) else targets)
    return Transition(action, frozenset(sources), targets, None if kinds is None else frozenset(kinds))


class StateMachine:
    def __init__(self, name: str, transitions: Iterable[Transition], labels: dict | None = None):
        self.name = name
        self.transitions = tuple(transitions)
        self.labels = labels or {}

    def find(self, action: str, state: str, kind: str | None = None) -> Transition | None:
        for transition in self.transitions:
            if transition.action == action and transition.applies(state, kind):
                return transition
        return None

    def can(self, action: str, state: str, kind: str | None = None, target: str | None = None) -> bool:
        transition = self.find(action, state, kind)
        return transition is not None and (target is None or target in transition.targets)

    def allowed(self, state: str, kind: str | None = None) -> list[str]:
        """The actions possible from this state, in the table's order, without repeats."""
        seen = []
        for transition in self.transitions:
            if transition.applies(state, kind) and transition.action not in seen:
                seen.append(transition.action)
        return seen

    def sources(self, action: str) -> frozenset:
        """Every state from which `action` is possible (for a worklist's query)."""
        return frozenset().union(*(t.sources for t in self.transitions if t.action == action))

    def states(self) -> frozenset:
        found = set()
        for transition in self.transitions:
            found |= transition.sources | transition.targets
        return frozenset(found - {NEW})

    def knows(self, action: str) -> bool:
        return any(t.action == action for t in self.transitions)

    def label(self, action: str) -> str:
        return self.labels.get(action, action)
