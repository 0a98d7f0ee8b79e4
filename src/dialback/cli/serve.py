"""``dialback serve``: the service, with the simulated carrier or a SIP trunk."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dialback.cli.app import DbOption, app
from dialback.cli.app import console as cli_console

if TYPE_CHECKING:
    from dialback.domain.model import Outcome
    from dialback.telephony.port import Dialer, Report


def _positive_speed(value: float) -> float:
    if not 0.001 <= value <= 100_000:  # also refuses nan
        raise typer.BadParameter("a speed-up from 0.001 to 100000")
    return value


@app.command()
def serve(
    db: DbOption = "./dialback.db",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8080,
    demo: Annotated[
        bool, typer.Option(help="Run a synthetic contact center against the service.")
    ] = False,
    speed: Annotated[
        float,
        typer.Option(help="Demo and carrier clock speed-up.", callback=_positive_speed),
    ] = 1.0,
    carrier_log: Annotated[
        Path | None, typer.Option(help="Append every simulated dial to this file (JSON lines).")
    ] = None,
    carrier_mix: Annotated[
        str | None,
        typer.Option(help="Simulated carrier outcomes and weights, e.g. LIVE_VOICE=9,BUSY=1."),
    ] = None,
    access_log: Annotated[bool, typer.Option(help="Log every HTTP request.")] = False,
    max_body: Annotated[
        int, typer.Option(help="Largest request body in bytes; larger ones get 413.", min=1024)
    ] = 64 * 1024,
    sip: Annotated[
        str | None,
        typer.Option(help="Dial through this SIP trunk (sip:host:port) instead of the simulator."),
    ] = None,
    sip_ip: Annotated[str, typer.Option(help="Our address for SIP and RTP.")] = "127.0.0.1",
    ring_timeout: Annotated[
        float, typer.Option(help="SIP: seconds of ringing before CANCEL (US rules: 15 or more).")
    ] = 30.0,
    hold_audio: Annotated[
        Path | None,
        typer.Option(help="SIP: what a customer waiting for an agent hears (wav or raw u-law)."),
    ] = None,
    flow: Annotated[
        list[str] | None,
        typer.Option(help="SIP: FLOW_ID=sip:uri, where TransferToFlow sends a call (repeatable)."),
    ] = None,
    sip_user: Annotated[
        str | None, typer.Option(help="SIP: user name for a trunk that challenges (401/407).")
    ] = None,
    sip_password: Annotated[
        str | None, typer.Option(envvar="DIALBACK_SIP_PASSWORD", help="SIP: its password.")
    ] = None,
    # --- issue 17: snapshots, several nodes ---
    snapshot_events: Annotated[
        int, typer.Option(help="Write a snapshot of the engine every N events (0: never).")
    ] = 10_000,
    snapshot_seconds: Annotated[
        float, typer.Option(help="... or every T seconds when something happened.")
    ] = 300.0,
    node_id: Annotated[
        str | None,
        typer.Option(help="PostgreSQL: this node's id (default: host and a random tag)."),
    ] = None,
    lease_seconds: Annotated[
        float, typer.Option(help="PostgreSQL: how long a shard's lease lasts unrenewed.")
    ] = 8.0,
    advertise_url: Annotated[
        str | None, typer.Option(help="PostgreSQL: where other nodes reach this one's API.")
    ] = None,
) -> None:
    """Run the service: REST API, timers and the simulated carrier (SQLite by default), or a SIP
    trunk with ``--sip``."""
    import gc
    import logging
    import random

    import uvicorn

    from dialback.api import cluster
    from dialback.demo.center import DemoCenter
    from dialback.service.runtime import Runtime
    from dialback.service.shards import ALL, Shards, sibling
    from dialback.service.tokens import Tokens
    from dialback.store.db import connect, migrate
    from dialback.store.repository import Store
    from dialback.telephony.simulated import DEFAULT_MIX, SimulatedCarrier
    from dialback.web import create_app

    mix = _carrier_mix(carrier_mix) if carrier_mix else DEFAULT_MIX

    def simulated(report: Report) -> Dialer:
        return SimulatedCarrier(report, random.Random(), mix=mix, speed=speed, log_path=carrier_log)

    dialer_factory: Callable[[Report], Dialer] = simulated
    if sip is not None:
        dialer_factory = _sip_dialer(
            sip,
            sip_ip,
            ring_timeout,
            hold_audio,
            flow or [],
            sip_user,
            sip_password,
        )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    # issue 17: bind first (port 0 picks one), so the node knows where it answers
    listener = _bind(host, port)
    url = advertise_url or "http://{}:{}".format(*listener.getsockname()[:2])
    engine = connect(db)
    migrate(engine)

    def snapshots(runtime: Runtime) -> Runtime:  # issue 17: each shard's own
        if snapshot_events > 0:
            from dialback.service.snapshots import SnapshotPolicy
            from dialback.store.snapshots import SnapshotStore

            runtime.snapshots = SnapshotPolicy(
                SnapshotStore(engine, runtime.shard),
                every_events=snapshot_events,
                every_seconds=snapshot_seconds,
            )
        return runtime

    runtime: Runtime
    service: Shards  # issue 17: one runtime per shard; ``runtime`` is the default shard's
    if engine.dialect.name == "postgresql":  # several nodes may share it: lead by lease
        from dialback.service.node import ClusterShards, NodeRuntime, node_engine
        from dialback.store.leases import Leases

        engine.dispose()
        engine = node_engine(db, lease_seconds)
        node = node_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}"
        leases = Leases(engine, node, lease_seconds)

        def node_runtime(shard: str) -> NodeRuntime:
            made = NodeRuntime(
                Store(engine, shard),
                dialer_factory,
                leases=leases,
                url=url,
                ttl=lease_seconds,
                margin=lease_seconds / 4,
                poll=min(1.0, lease_seconds / 8),
                forward_bytes=max_body // 2,  # forwarded groups fit the other nodes' body limit
                on_lead=(
                    (lambda leader: DemoCenter(leader, speed=speed).start())
                    if demo and shard == ALL  # the demo's queues are in the default shard
                    else None
                ),
            )
            snapshots(made)
            return made

        first = node_runtime(ALL)
        runtime, store = first, first.store
        service = ClusterShards(first, node_runtime)
        print(f"dialback node {node} listening on {url}", flush=True)
    else:
        store = Store(engine)
        runtime = snapshots(Runtime(store, dialer_factory))
        service = Shards(runtime, lambda shard: snapshots(sibling(runtime, shard)))
        print(f"dialback listening on {url}", flush=True)

    async def started() -> None:
        # The engine keeps every live callback in memory: move what startup built out of the
        # collector's sight and collect young objects less often (fewer long GC pauses).
        gc.freeze()
        gc.set_threshold(50_000, 20, 50)
        if demo:
            token = Tokens(store).demo_admin()  # the same one at every start on this database
            if type(runtime) is Runtime:  # a node starts its demo center when it leads
                await DemoCenter(service, speed=speed).start()
            cli_console().print(
                f"[bold green]dialback demo[/] on {url}  "
                f"(API docs: /docs)\nadmin token: [bold]{token}[/]\n"
                f"dashboard: open {url}/ and sign in with the admin token; "
                f"agent desktop: {url}/agent with a token from "
                f"`dialback token create --role agent --user ID`\n"
                f"try: curl -H 'Authorization: Bearer {token}' "
                f"{url}/api/v2/routing/queues",
                soft_wrap=True,
            )

    app = create_app(service, on_started=started, max_body_bytes=max_body)
    app.include_router(cluster.router)
    config = uvicorn.Config(app, log_level="info", access_log=access_log)
    uvicorn.Server(config).run(sockets=[listener])


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, as uvicorn would make it (``--port 0``: any free port)."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as problem:
        raise typer.BadParameter(str(problem), param_hint="--port") from None
    listener.set_inheritable(True)
    return listener


def _carrier_mix(text: str) -> dict[Outcome, float]:
    """``LIVE_VOICE=9,BUSY=1`` as outcome weights."""
    from dialback.domain.model import Outcome

    mix: dict[Outcome, float] = {}
    for item in text.split(","):
        name, _, weight = item.partition("=")
        try:
            mix[Outcome(name.strip().upper())] = float(weight or 1)
        except ValueError:
            raise typer.BadParameter(
                f"expected OUTCOME=WEIGHT, got {item!r}", param_hint="--carrier-mix"
            ) from None
    return mix


def _sip_dialer(
    trunk: str,
    local_ip: str,
    ring_timeout: float,
    hold_audio: Path | None,
    flows: list[str],
    user: str | None,
    password: str | None,
) -> Callable[[Report], Dialer]:
    """The SIP adapter's factory, every option checked before the service starts."""
    from dialback.telephony.cpa.audio import UnreadableAudio, load
    from dialback.telephony.sip.dialer import SipDialer, default_hold
    from dialback.telephony.sip.digest import Credentials
    from dialback.telephony.sip.message import MalformedMessage, host_port
    from dialback.telephony.sip.uac import DialSettings

    try:
        host_port(trunk)
    except MalformedMessage as problem:
        raise typer.BadParameter(str(problem), param_hint="--sip") from None
    mapping: dict[str, str] = {}
    for item in flows:
        flow_id, _, uri = item.partition("=")
        try:
            host_port(uri)
        except MalformedMessage:
            raise typer.BadParameter(
                f"expected FLOW_ID=sip:uri, got {item!r}", param_hint="--flow"
            ) from None
        mapping[flow_id] = uri
    try:
        hold = load(hold_audio) if hold_audio is not None else default_hold()
    except (OSError, UnreadableAudio) as problem:
        raise typer.BadParameter(str(problem), param_hint="--hold-audio") from None
    if (user is None) != (password is None):
        raise typer.BadParameter("give both --sip-user and --sip-password, or neither")
    if not ring_timeout > 0:
        raise typer.BadParameter("must be more than 0 seconds", param_hint="--ring-timeout")
    settings = DialSettings(
        ring_timeout=ring_timeout,
        local_ip=local_ip,
        credentials=Credentials(user, password) if user and password is not None else None,
    )

    return lambda report: SipDialer(report, trunk, mapping, hold, settings)
