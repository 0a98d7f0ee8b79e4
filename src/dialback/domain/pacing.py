"""Customer-first pacing (SPEC §7, R-CF-1..4).

The pacing table (R-CF-1) is data: ``PacingTable.default()`` is our reading of the published
definition, and a user may load another. The rule (R-CF-2) and the triggers (R-CF-3) are small
functions; every evaluation yields a ``PacingDecision`` (R-CF-4).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dialback.domain.enums import Closed
from dialback.domain.errors import InvalidInput, InvalidType, ValueOutOfRange
from dialback.domain.model import AgentId, InteractionId, QueueId
from dialback.domain.settings import PacingTrigger


@dataclass(frozen=True, slots=True)
class PacingRow:
    """One row of the R-CF-1 table: a pacing modifier (1..10), its multiplier (a probability
    in (0, 1]) and the fewest on-queue agents for which every evaluation may dial."""

    modifier: float
    multiplier: float
    minimum_agents: int


@dataclass(frozen=True, slots=True)
class PacingTable:
    """Rows of (pacing modifier, multiplier, minimum agents for guaranteed dispatch), sorted by
    modifier. A modifier between two rows takes the multiplier interpolated linearly between
    them (Genesys accepts fractional modifiers such as 1.5). Raises ``InvalidInput`` for no
    rows or modifiers not strictly increasing, ``ValueOutOfRange`` for a multiplier outside
    (0, 1]."""

    rows: tuple[PacingRow, ...]

    def __post_init__(self) -> None:
        if not self.rows:
            raise InvalidInput("a pacing table needs at least one row", field="rows")
        modifiers = [row.modifier for row in self.rows]
        if modifiers != sorted(set(modifiers)):
            raise InvalidInput("modifiers must be unique and increasing", field="rows.modifier")
        for i, row in enumerate(self.rows):
            if not 0 < row.multiplier <= 1:
                raise ValueOutOfRange("a multiplier is a probability in (0, 1]", field=f"rows[{i}]")

    @staticmethod
    def default() -> PacingTable:
        """R-CF-1: multiplier(m) = m / 10; minimum agents = ceil(1 / multiplier)."""
        return PacingTable(
            tuple(PacingRow(m, m / 10, minimum_agents(m / 10)) for m in range(1, 11))
        )

    @staticmethod
    def from_rows(rows: Sequence[Mapping[str, object]]) -> PacingTable:
        """Build a table from ``[{"modifier": 1, "multiplier": 0.1}, ...]`` (the minimum agents
        follow from the multiplier and are checked if given). Raises ``InvalidType`` for a
        modifier or multiplier that is not a number, ``ValueOutOfRange`` for a multiplier
        outside (0, 1], ``InvalidInput`` for wrong minimum agents; ``field`` is ``rows[i]``."""
        built = []
        for i, raw in enumerate(rows):
            modifier, multiplier = raw.get("modifier"), raw.get("multiplier")
            if not isinstance(modifier, int | float) or not isinstance(multiplier, int | float):
                raise InvalidType("modifier and multiplier must be numbers", field=f"rows[{i}]")
            if not 0 < multiplier <= 1:
                raise ValueOutOfRange("a multiplier is a probability in (0, 1]", field=f"rows[{i}]")
            need = minimum_agents(float(multiplier))
            given = raw.get("minimum_agents", need)
            if given != need:
                raise InvalidInput(
                    f"minimum_agents must be ceil(1 / multiplier) = {need}", field=f"rows[{i}]"
                )
            built.append(PacingRow(float(modifier), float(multiplier), need))
        return PacingTable(tuple(built))

    def multiplier(self, modifier: float) -> float:
        """R-CF-1: the multiplier for a queue's ``pacingModifier``, interpolated linearly
        between the two rows around it; below the first row or above the last, that row's.

        >>> table = PacingTable.default()
        >>> table.multiplier(3), round(table.multiplier(1.5), 9), table.multiplier(0.5)
        (0.3, 0.15, 0.1)
        """
        mods = [row.modifier for row in self.rows]
        if modifier <= mods[0]:
            return self.rows[0].multiplier
        if modifier >= mods[-1]:
            return self.rows[-1].multiplier
        i = bisect.bisect_right(mods, modifier)
        lo, hi = self.rows[i - 1], self.rows[i]
        share = (modifier - lo.modifier) / (hi.modifier - lo.modifier)
        return lo.multiplier + share * (hi.multiplier - lo.multiplier)


def minimum_agents(multiplier: float) -> int:
    """Fewest on-queue agents for which every evaluation may dial: ceil(1 / multiplier).
    The small tolerance keeps 1 / 0.1 from rounding up to 11."""
    return math.ceil(1 / multiplier - 1e-9)


@dataclass(frozen=True, slots=True)
class Cap:
    """R-CF-2: ``multiplier x on_queue`` rounded at random. ``draw`` is the uniform number in
    [0, 1) drawn for this evaluation; ``value`` is floor(expected), plus one when draw < frac."""

    expected: float
    draw: float
    value: int


def draw_cap(multiplier: float, on_queue: int, rng: random.Random) -> Cap:
    """One random draw per evaluation, always taken (so the random stream does not depend on
    whether the fraction is zero)."""
    expected = multiplier * on_queue
    whole = math.floor(expected + 1e-9)
    fraction = max(0.0, expected - whole)
    draw = rng.random()
    return Cap(expected, draw, whole + (1 if draw < fraction else 0))


# R-CF-3: a trigger says whether the idle agents allow one more dial.
Trigger = Callable[[int, int], bool]


def idle_trigger(idle_agents: int, outstanding: int) -> bool:
    """``Idle`` (default): what Genesys is observed to do, one dial per idle agent."""
    return idle_agents > outstanding


def pace_trigger(idle_agents: int, outstanding: int) -> bool:
    """``Pace``: the documented formula alone; idle agents do not matter."""
    return True


TRIGGERS: Mapping[PacingTrigger, Trigger] = {
    PacingTrigger.IDLE: idle_trigger,
    PacingTrigger.PACE: pace_trigger,
}


class Reason(Closed):
    """Why an evaluation dialed or not (R-CF-4)."""

    DIALED = "dialed"
    CAP_REACHED = "cap_reached"
    NO_IDLE_AGENT = "no_idle_agent"
    NO_CALLER_ID = "no_caller_id"
    NO_AGENT_ON_QUEUE = "no_agent_on_queue"
    # issue 14 (docs/compliance.md)
    OUTSIDE_CALLING_WINDOW = "outside_calling_window"  # R-X-4
    NUMBER_ON_DNC = "number_on_dnc"  # R-X-8
    LOCKED_OUT = "locked_out"  # R-X-14
    BUDGET_SPENT = "budget_spent"  # R-X-17


@dataclass(frozen=True, slots=True)
class PacingDecision:
    """One record per head callback considered by an evaluation (R-CF-4). An evaluation that
    dials several callbacks yields several records sharing one ``evaluation`` number and draw."""

    evaluation: int
    at: float
    queue_id: QueueId
    callback_id: InteractionId
    on_queue: int
    idle: int
    outstanding: int
    multiplier: float
    cap_expected: float
    draw: float
    cap: int
    trigger: PacingTrigger
    reason: Reason
    reserved_agent: AgentId | None = None
    # R-X-18: the inputs of a budget-mode decision (None in Fixed mode)
    budget: float | None = None
    live_rate: float | None = None
    risk: float | None = None

    @property
    def dialed(self) -> bool:
        """Whether this evaluation dialed the callback it considered."""
        return self.reason is Reason.DIALED


def decide(
    *,
    on_queue: int,
    idle: int,
    outstanding: int,
    reserved_dials: int,
    cap: int,
    trigger: PacingTrigger,
    has_caller_id: bool,
    needs_reservation: bool,
) -> Reason:
    """The pacing rule for the head callback, given one evaluation's cap (R-CF-2, R-CF-3,
    R-C-4, R-CF-10). Dials that hold a reserved agent already have their agent, so the idle
    trigger weighs idle agents against the other outstanding dials only."""
    if not has_caller_id:
        return Reason.NO_CALLER_ID
    if on_queue == 0:
        return Reason.NO_AGENT_ON_QUEUE
    if outstanding >= cap:
        return Reason.CAP_REACHED
    if not TRIGGERS[trigger](idle, outstanding - reserved_dials):
        return Reason.NO_IDLE_AGENT
    if needs_reservation and idle == 0:
        return Reason.NO_IDLE_AGENT
    return Reason.DIALED
