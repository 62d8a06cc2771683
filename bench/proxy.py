"""A small load balancer for the cluster load test: TCP, round robin by connection.

    python bench/proxy.py BACKEND_PORT [BACKEND_PORT ...]

Listens on a free loopback port, prints it as one JSON line ({"port": ...}), and hands
each connection to the next backend in turn, piping bytes both ways until either side
closes. What a TCP load balancer in front of the app servers does; it knows nothing of
HTTP (a keep-alive connection stays with its server, as behind most balancers).
"""

import asyncio
import itertools
import json
import sys

CHUNK = 64 * 1024


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main() -> None:
    backends = itertools.cycle(int(port) for port in sys.argv[1:])

    async def handle(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection(
                "127.0.0.1", next(backends)
            )
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
