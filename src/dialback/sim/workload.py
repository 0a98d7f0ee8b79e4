"""The workload file of ``dialback simulate`` (TOML), validated with errors naming the key.

See docs/simulator.md for the format. Queue settings of SPEC §2 may be given by their snake_case
names (``max_retry_count = 2``); they go through the same validation as the API's.
"""

from __future__ import annotations

import math
import random
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dialback.domain.errors import (
    InvalidChoice,
    InvalidInput,
    InvalidType,
    MissingField,
    UnknownField,
)
from dialback.domain.model import Outcome
from dialback.domain.settings import QueueSettings, parse_queue


@dataclass(frozen=True, slots=True)
class Distribution:
    """``exponential`` (mean), ``lognormal`` (mean, sd) or ``fixed`` (value), in seconds."""

    kind: str
    mean: float
    sd: float = 0.0

    def sample(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            return self.mean
        if self.kind == "exponential":
            return rng.expovariate(1 / self.mean)
        sigma2 = math.log(1 + (self.sd / self.mean) ** 2)
        return rng.lognormvariate(math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2))


@dataclass(frozen=True, slots=True)
class Shift:
    start_hour: float
    end_hour: float
    agents: int


@dataclass(frozen=True, slots=True)
class CallbackOffer:
    after_wait_seconds: float
    accept: float


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    settings: QueueSettings
    shifts: tuple[Shift, ...]
    arrivals_per_hour: tuple[float, ...]  # one rate, or one per 30-minute interval
    handle: Distribution
    patience: Distribution | None
    callback_offer: CallbackOffer | None
    outcomes: Mapping[Outcome, float]
    ring_seconds: float = 8.0
    no_answer_seconds: float = 25.0
    callee_time_zones: Mapping[str, float] = field(default_factory=dict)  # R-X-2
    dnc_share: float = 0.0  # R-X-8

    def arrival_rate(self, hour: float) -> float:
        rates = self.arrivals_per_hour
        return rates[0] if len(rates) == 1 else rates[min(int(hour * 2), len(rates) - 1)]


@dataclass(frozen=True, slots=True)
class Workload:
    hours: float
    warmup_minutes: float
    seed: int
    queues: tuple[QueueSpec, ...] = field(default_factory=tuple)


OUTCOME_KEYS = {o.value.lower(): o for o in Outcome}
SETTING_KEYS = {
    "mode": "mode",
    "pacing_modifier": "pacingModifier",
    "pacing_trigger": "pacingTrigger",
    "live_voice_reaction_type": "liveVoiceReactionType",
    "answering_machine_reaction_type": "answeringMachineReactionType",
    "max_retry_count": "maxRetryCount",
    "retry_delay_seconds": "retryDelaySeconds",
    "enable_auto_dial_and_end": "enableAutoDialAndEnd",
    "auto_dial_delay_seconds": "autoDialDelaySeconds",
    "auto_end_delay_seconds": "autoEndDelaySeconds",
    "alerting_timeout_seconds": "alertingTimeoutSeconds",
    "enable_auto_answer": "enableAutoAnswer",
    "customer_first_delivery_mode": "customerFirstDeliveryMode",
    # issue 14 (docs/compliance.md): R-X-16
    "pacing_mode": "pacingMode",
    "abandonment_target_rate": "abandonmentTargetRate",
    "abandonment_window": "abandonmentWindow",
}
QUEUE_KEYS = {
    "name",
    "agents",
    "shift",
    "arrivals_per_hour",
    "handle_seconds",
    "patience_seconds",
    "callback_offer",
    "outcomes",
    "ring_seconds",
    "no_answer_seconds",
    "service_level_seconds",
    "scoring_method",
    *SETTING_KEYS,
    "calling_window",  # issue 14: R-X-1 (the queue's compliance.callingWindow)
    "callee_time_zones",  # R-X-2: {zone = share} of the customers' zones
    "dnc_share",  # R-X-8: share of callback numbers put on a DNC list once requested
}


def _number(value: object, where: str, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidType("expected a number", field=where)
    if value < low:
        raise InvalidInput(f"must be at least {low:g}", field=where)
    return float(value)


def _distribution(value: object, where: str) -> Distribution:
    if not isinstance(value, Mapping):
        raise InvalidType("expected { distribution = ..., mean = ... }", field=where)
    kind = value.get("distribution")
    if kind not in ("exponential", "lognormal", "fixed"):
        raise InvalidChoice(
            "distribution is exponential, lognormal or fixed", field=f"{where}.distribution"
        )
    key = "value" if kind == "fixed" else "mean"
    if key not in value:
        raise MissingField(f"{kind} needs {key}", field=f"{where}.{key}")
    mean = _number(value[key], f"{where}.{key}")
    sd = _number(value.get("sd", mean), f"{where}.sd") if kind == "lognormal" else 0.0
    if mean <= 0 and kind != "fixed":
        raise InvalidInput("must be positive", field=f"{where}.{key}")
    return Distribution(str(kind), mean, sd)


def _queue(raw: object, i: int) -> QueueSpec:
    where = f"queue[{i}]"
    if not isinstance(raw, Mapping):
        raise InvalidType("expected a table", field=where)
    for key in raw:
        if key not in QUEUE_KEYS:
            raise UnknownField("no such key", field=f"{where}.{key}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise MissingField("a queue needs a name", field=f"{where}.name")
    callback = {SETTING_KEYS[k]: v for k, v in raw.items() if k in SETTING_KEYS}
    if "service_level_seconds" in raw:
        seconds = _number(raw["service_level_seconds"], f"{where}.service_level_seconds", 1)
        callback["serviceLevel"] = {"durationMs": int(seconds * 1000)}
    body: dict[str, Any] = {
        "name": name,
        "callingPartyNumber": "+14155550199",
        "mediaSettings": {"callback": callback},
    }
    if "scoring_method" in raw:
        body["scoringMethod"] = raw["scoring_method"]
    if "calling_window" in raw:  # R-X-1: the API's shape, camelCase keys
        body["compliance"] = {"callingWindow": raw["calling_window"]}
    try:
        settings = parse_queue(body)
    except InvalidInput as problem:  # name the workload's key, not the API's
        field_name = (problem.field or "").rsplit(".", 1)[-1]
        snake = next((k for k, v in SETTING_KEYS.items() if v == field_name), field_name)
        raise type(problem)(problem.message, field=f"{where}.{snake}") from None
    return QueueSpec(
        name=name,
        settings=settings,
        shifts=_shifts(raw, where),
        arrivals_per_hour=_rates(raw.get("arrivals_per_hour"), f"{where}.arrivals_per_hour"),
        handle=_distribution(raw.get("handle_seconds"), f"{where}.handle_seconds"),
        patience=_distribution(raw["patience_seconds"], f"{where}.patience_seconds")
        if "patience_seconds" in raw
        else None,
        callback_offer=_offer(raw.get("callback_offer"), f"{where}.callback_offer"),
        outcomes=_outcomes(raw.get("outcomes"), f"{where}.outcomes"),
        ring_seconds=_number(raw.get("ring_seconds", 8.0), f"{where}.ring_seconds"),
        no_answer_seconds=_number(raw.get("no_answer_seconds", 25.0), f"{where}.no_answer_seconds"),
        callee_time_zones=_zones(raw.get("callee_time_zones"), f"{where}.callee_time_zones"),
        dnc_share=_share(raw.get("dnc_share", 0.0), f"{where}.dnc_share"),
    )


def _zones(value: object, where: str) -> Mapping[str, float]:
    """R-X-2: ``{ "America/New_York" = 0.6, ... }``, shares adding up to 1."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not value:
        raise InvalidType('expected { "America/New_York" = 0.6, ... }', field=where)
    zones = {str(zone): _number(share, f"{where}.{zone}") for zone, share in value.items()}
    for zone in zones:
        try:
            ZoneInfo(zone)
        except (KeyError, ValueError):
            raise InvalidChoice(f"{zone!r} is not an IANA time zone", field=where) from None
    if not math.isclose(sum(zones.values()), 1.0, abs_tol=1e-6):
        raise InvalidInput("the shares add up to 1", field=where)
    return zones


def _share(value: object, where: str) -> float:
    share = _number(value, where)
    if share > 1:
        raise InvalidInput("a share is at most 1", field=where)
    return share


def _shifts(raw: Mapping[str, Any], where: str) -> tuple[Shift, ...]:
    if "shift" in raw:
        blocks = raw["shift"]
        if not isinstance(blocks, list) or not blocks:
            raise InvalidType("expected [[queue.shift]] blocks", field=f"{where}.shift")
        found = []
        for j, block in enumerate(blocks):
            at = f"{where}.shift[{j}]"
            if not isinstance(block, Mapping):
                raise InvalidType("expected a table", field=at)
            start = _number(block.get("start"), f"{at}.start")
            end = _number(block.get("end"), f"{at}.end")
            agents = _number(block.get("agents"), f"{at}.agents")
            if end <= start:
                raise InvalidInput("a shift ends after it starts", field=f"{at}.end")
            found.append(Shift(start, end, int(agents)))
        return tuple(found)
    if "agents" not in raw:
        raise MissingField("give agents or [[queue.shift]] blocks", field=f"{where}.agents")
    agents = _number(raw["agents"], f"{where}.agents", 1)
    if not float(agents).is_integer():
        raise InvalidType("expected a whole number", field=f"{where}.agents")
    return (Shift(0.0, math.inf, int(agents)),)


def _rates(value: object, where: str) -> tuple[float, ...]:
    if value is None:
        raise MissingField("arrivals_per_hour is needed", field=where)
    if isinstance(value, list):
        if not value:
            raise InvalidInput("give at least one rate", field=where)
        return tuple(_number(v, f"{where}[{k}]") for k, v in enumerate(value))
    return (_number(value, where),)


def _offer(value: object, where: str) -> CallbackOffer | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidType("expected { after_wait_seconds = ..., accept = ... }", field=where)
    accept = _number(value.get("accept"), f"{where}.accept")
    if accept > 1:
        raise InvalidInput("accept is a probability", field=f"{where}.accept")
    return CallbackOffer(
        _number(value.get("after_wait_seconds"), f"{where}.after_wait_seconds"), accept
    )


def _outcomes(value: object, where: str) -> Mapping[Outcome, float]:
    if value is None:
        return {Outcome.LIVE_VOICE: 1.0}
    if not isinstance(value, Mapping) or not value:
        raise InvalidType("expected { live_voice = 0.7, ... }", field=where)
    mix = {}
    for key, share in value.items():
        if key not in OUTCOME_KEYS:
            raise UnknownField(f"one of {', '.join(sorted(OUTCOME_KEYS))}", field=f"{where}.{key}")
        mix[OUTCOME_KEYS[key]] = _number(share, f"{where}.{key}")
    if not math.isclose(sum(mix.values()), 1.0, abs_tol=1e-6):
        raise InvalidInput("the shares add up to 1", field=where)
    return mix


def parse_workload(data: Mapping[str, Any]) -> Workload:
    for key in data:
        if key not in ("simulation", "queue"):
            raise UnknownField("no such section", field=key)
    sim = data.get("simulation", {})
    if not isinstance(sim, Mapping):
        raise InvalidType("expected a table", field="simulation")
    for key in sim:
        if key not in ("hours", "warmup_minutes", "seed"):
            raise UnknownField("no such key", field=f"simulation.{key}")
    queues = data.get("queue")
    if not isinstance(queues, list) or not queues:
        raise MissingField("at least one [[queue]]", field="queue")
    seed = sim.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidType("expected an integer", field="simulation.seed")
    names = [q.get("name") for q in queues if isinstance(q, Mapping)]
    if len(names) != len(set(names)):
        raise InvalidInput("queue names must differ", field="queue")
    return Workload(
        hours=_number(sim.get("hours", 8), "simulation.hours"),
        warmup_minutes=_number(sim.get("warmup_minutes", 30), "simulation.warmup_minutes"),
        seed=seed,
        queues=tuple(_queue(q, i) for i, q in enumerate(queues)),
    )


def load_workload(path: Path) -> Workload:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as problem:
        line = re.search(r"line (\d+)", str(problem))
        raise InvalidInput(
            f"not TOML: {problem}", field=f"line {line.group(1)}" if line else None
        ) from None
    return parse_workload(data)
