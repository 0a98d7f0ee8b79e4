"""The bare baseline of ``bench/api_load.py`` (issue 17): a FastAPI app whose only endpoint
inserts the posted callback request as one row of one PostgreSQL table, one INSERT (and so one
commit) per POST, and answers with its id.

Started by the bench as its own process, on the same uvicorn settings as ``dialback serve``
(uvloop and httptools, access log off):

    python bench/bare_insert.py --db postgresql://postgres@127.0.0.1:5432/DATABASE

It binds port 0 and prints ``bare listening on http://127.0.0.1:PORT``. The body is the same JSON
the bench posts to dialback (``queueId``, ``callbackNumbers``), validated by a pydantic model as
FastAPI apps do; connections come from a small pool of psycopg async connections in autocommit.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field

TABLE = """CREATE TABLE IF NOT EXISTS bare_callbacks (
    id uuid PRIMARY KEY,
    queue_id text NOT NULL,
    numbers text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)"""


class CallbackIn(BaseModel):
    """The fields dialback's create call reads first."""

    queueId: str = Field(min_length=1, max_length=100)
    callbackNumbers: list[str] = Field(min_length=1, max_length=10)


def create_app(db: str, pool_size: int) -> FastAPI:
    """The app: one table, one INSERT per POST."""
    pool: asyncio.Queue[psycopg.AsyncConnection[tuple[object, ...]]] = asyncio.Queue()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for _i in range(pool_size):
            pool.put_nowait(await psycopg.AsyncConnection.connect(db, autocommit=True))
        connection = await pool.get()
        await connection.execute(TABLE)
        pool.put_nowait(connection)
        yield
        while not pool.empty():
            await pool.get_nowait().close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v2/conversations/callbacks")
    async def create(body: CallbackIn) -> dict[str, object]:
        callback_id = uuid.uuid4()
        connection = await pool.get()
        try:
            await connection.execute(
                "INSERT INTO bare_callbacks (id, queue_id, numbers) VALUES (%s, %s, %s)",
                (callback_id, body.queueId, body.callbackNumbers),
            )
        finally:
            pool.put_nowait(connection)
        return {"conversation": {"id": str(callback_id)}, "callbackNumbers": body.callbackNumbers}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a postgresql:// URL")
    parser.add_argument("--pool", type=int, default=8, help="database connections")
    args = parser.parse_args()
    listener = socket.create_server(("127.0.0.1", 0))
    print(f"bare listening on http://127.0.0.1:{listener.getsockname()[1]}", flush=True)
    config = uvicorn.Config(create_app(args.db, args.pool), log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main()
