"""Abandoned calls (R-X-12, R-X-13) and pacing to an abandonment budget (R-X-16..18),
docs/compliance.md.

Pure: a ``Ledger`` per queue counts what happened in the rule's window (live answers, abandons,
answering-machine verdicts, dials resolved); ``us_rate`` and ``ofcom_rate`` are the two rules'
formulas; ``budget_decide`` is the closed loop that paces a customer-first queue so that its
abandoned-call rate stays under a target.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from dialback.domain.compliance import AbandonmentWindow, BudgetSettings
from dialback.domain.enums import Closed
from dialback.domain.pacing import Reason

US_WINDOW_SECONDS = 30 * 86_400  # 47 CFR 64.1200(a)(7): a 30-day period
LIVE_RATE_PRIOR = (1.0, 2.0)  # (answers, dials) added to the live-answer estimate: 1/2 at first
ABANDON_SHARE_PRIOR = (1.0, 2.0)  # (abandons, unreserved live answers): 1/2 at first, pessimistic
SAFETY = 0.5  # R-X-17: in-flight risk may use half the budget left; the rest absorbs chance
AIM = 0.8  # R-X-17: the loop earns budget at 80 % of the target, so chance stays under it


class Tally(Closed):
    """What a ledger counts."""

    LIVE = "live"  # a dialer's dial answered by a live voice (the US denominator)
    ABANDON = "abandon"  # R-X-12
    AGENT_HUMAN = "agent_human"  # a live voice connected to an agent in time (Ofcom)
    MACHINE = "machine"  # an answering-machine verdict
    AGENT_MACHINE = "agent_machine"  # an answering machine an agent heard (Ofcom's estimate)
    RESOLVED = "resolved"  # any dialer's dial resolved (for the live-answer rate)
    UNRESERVED_LIVE = "unreserved_live"  # a live answer no agent was reserved for


@dataclass(slots=True)
class Ledger:
    """Counts over a window whose start only moves forward: ``add`` an event, ``since`` moves
    the start (and forgets what fell out). Running counters keep each read O(1)."""

    events: deque[tuple[float, Tally]] = field(default_factory=deque)
    counts: dict[Tally, int] = field(default_factory=lambda: dict.fromkeys(Tally, 0))
    start: float = -math.inf

    def add(self, at: float, what: Tally) -> None:
        self.events.append((at, what))
        self.counts[what] += 1

    def since(self, start: float) -> Ledger:
        """Forget events before ``start`` (a start earlier than the current one is ignored)."""
        if start > self.start:
            self.start = start
            while self.events and self.events[0][0] < start:
                _, what = self.events.popleft()
                self.counts[what] -= 1
        return self

    def __getitem__(self, what: Tally) -> int:
        return self.counts[what]


def window_start(window: AbandonmentWindow, now: float, zone: tzinfo) -> float:
    """R-X-13: the US rule's rolling 30 days, or the UK rule's calendar day (midnight to
    midnight in ``zone``)."""
    if window is AbandonmentWindow.ROLLING_30_DAYS:
        return now - US_WINDOW_SECONDS
    local = datetime.fromtimestamp(now, zone)
    midnight = datetime.combine(local.date(), datetime.min.time(), tzinfo=zone)
    return midnight.timestamp() if midnight <= local else (midnight - timedelta(days=1)).timestamp()


def us_rate(live: int, abandoned: int) -> float:
    """R-X-13, US (47 CFR 64.1200(a)(7), 16 CFR 310.4): abandoned over calls answered live."""
    return abandoned / live if live else 0.0


def ofcom_rate(drops: int, human_agent: int, machine_agent: int) -> float:
    """R-X-13, UK (Ofcom, Dec 2015 annex): drops less the estimated answering-machine false
    positives, over live calls.

    >>> round(100 * ofcom_rate(29, 9, 7), 2)
    64.44
    """
    connected = human_agent + machine_agent
    estimate = drops * machine_agent / connected if connected else 0.0
    real = drops - estimate
    denominator = human_agent + real
    return real / denominator if denominator > 0 else 0.0


def budget(settings: BudgetSettings, ledger: Ledger) -> float:
    """R-X-17: abandons the queue may still spend in the current window (may be negative).
    US: ``target x live - abandons``; UK: from Ofcom's formula solved for the drops."""
    target = settings.target_rate * AIM
    if settings.window is AbandonmentWindow.ROLLING_30_DAYS:
        return target * ledger[Tally.LIVE] - ledger[Tally.ABANDON]
    human, machine = ledger[Tally.AGENT_HUMAN], ledger[Tally.AGENT_MACHINE]
    drops = ledger[Tally.ABANDON]
    connected = human + machine
    real = drops - (drops * machine / connected if connected else 0.0)
    return target * human / (1 - target) - real


def live_rate(ledger: Ledger) -> float:
    """The share of dialer's dials answered by a live voice in the window, with a weak prior."""
    answers, dials = LIVE_RATE_PRIOR
    return (ledger[Tally.LIVE] + answers) / (ledger[Tally.RESOLVED] + dials)


def abandon_share(ledger: Ledger) -> float:
    """The share of live answers with no reserved agent that were abandoned, in the window,
    with a pessimistic prior (the loop learns it from its own dials)."""
    abandons, answers = ABANDON_SHARE_PRIOR
    return (ledger[Tally.ABANDON] + abandons) / (ledger[Tally.UNRESERVED_LIVE] + answers)


@dataclass(frozen=True, slots=True)
class BudgetInputs:
    """What one budget-mode decision saw (R-X-18): the budget left, the live-answer rate, and
    the abandons expected from the unreserved dials in flight plus this one (``risk``)."""

    budget: float
    live_rate: float
    risk: float


def risk(live: float, share: float, unreserved_dials: int) -> float:
    """Expected abandons of ``unreserved_dials``: each is answered live with probability
    ``live`` and then abandoned with probability ``share`` (both measured, R-X-17)."""
    return live * share * unreserved_dials


def budget_decide(
    *,
    on_queue: int,
    idle: int,
    outstanding: int,
    reserved_dials: int,
    has_caller_id: bool,
    inputs: BudgetInputs,
) -> tuple[Reason, bool]:
    """R-X-17: the closed loop for the head callback; returns the reason and whether the dial
    reserves an agent. While budget is left, it dials without a reservation as long as the
    abandons expected from the unreserved dials in flight, this one included, stay within
    ``SAFETY`` of the budget (each live answer earns ``target`` of budget, each abandon spends
    one, so the rate converges under the target). Otherwise it dials only for a reserved idle
    agent (no abandon possible, R-CF-10)."""
    if not has_caller_id:
        return Reason.NO_CALLER_ID, False
    if on_queue == 0:
        return Reason.NO_AGENT_ON_QUEUE, False
    if inputs.budget > 0 and inputs.risk <= SAFETY * inputs.budget:
        return Reason.DIALED, False
    if inputs.budget > 0 and outstanding - reserved_dials > 0:
        return Reason.CAP_REACHED, False  # the budget is committed to dials in flight
    if idle > 0:
        return Reason.DIALED, True
    return Reason.BUDGET_SPENT, False
