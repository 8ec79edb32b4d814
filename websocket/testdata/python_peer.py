#!/usr/bin/python3
"""python3-websockets (10.4) as mote's interop peer, on loopback only.

  python_peer.py client ws://127.0.0.1:PORT/ {deflate|deflate-limited|none}
      Runs a scripted session against an echo server (mote's), checks every
      echo, closes with 4001 "done"; prints "ok" and the negotiated extensions.
  python_peer.py client-closed ws://127.0.0.1:PORT/ {deflate|none}
      Asks the server to close ("please close") and prints the code it sent.
  python_peer.py server PORT {deflate|none}
      An echo server on 127.0.0.1:PORT; a "ping-me" message is answered by a
      ping, then "ponged" once the pong came back. Prints "closed CODE REASON"
      when a connection ends.
"""
import asyncio
import sys

import websockets


def compression(name):
    return "deflate" if name.startswith("deflate") else None


def extensions(name):
    """deflate-limited: every parameter of RFC 7692 §7.1 in the offer."""
    if name != "deflate-limited":
        return None
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
    return [ClientPerMessageDeflateFactory(server_no_context_takeover=True,
                                           client_no_context_takeover=True,
                                           server_max_window_bits=10,
                                           client_max_window_bits=10)]


async def expect_echo(ws, message):
    await ws.send(message)
    echoed = await asyncio.wait_for(ws.recv(), 5)
    if isinstance(message, list):
        expected = (b"" if isinstance(message[0], bytes) else "").join(message)
    else:
        expected = message
    if echoed != expected:
        raise SystemExit(f"echo mismatch: sent {len(expected)} got {len(echoed)}")


async def client(uri, mode):
    async with websockets.connect(uri, compression=compression(mode), extensions=extensions(mode),
                                  ping_interval=None, max_size=4 << 20,
                                  subprotocols=["chat", "mote"]) as ws:
        print("extensions:", ws.response_headers.get("Sec-WebSocket-Extensions"), flush=True)
        print("subprotocol:", ws.subprotocol, flush=True)
        await expect_echo(ws, "Hello, mote")
        await expect_echo(ws, "")
        await expect_echo(ws, b"")
        await expect_echo(ws, bytes(range(256)) * 300)
        await expect_echo(ws, "κόσμε ✓ " * 5000)
        # A fragmented message: websockets sends each item as a frame.
        await expect_echo(ws, ["frag", "ment", "ed ✓"])
        await expect_echo(ws, [b"\x00\x01", b"", b"\x02" * 70000])
        pong = await ws.ping(b"ping-payload")
        await asyncio.wait_for(pong, 5)
        await ws.close(code=4001, reason="done")
    print("ok", flush=True)


async def client_closed(uri, mode):
    async with websockets.connect(uri, compression=compression(mode), ping_interval=None) as ws:
        await ws.send("please close")
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed:
            pass
        await ws.wait_closed()
        print(f"closed {ws.close_code} {ws.close_reason}", flush=True)


async def server(port, mode):
    async def handler(ws, path=None):
        try:
            async for message in ws:
                if message == "ping-me":
                    pong = await ws.ping(b"from-python")
                    await asyncio.wait_for(pong, 5)
                    await ws.send("ponged")
                else:
                    await ws.send(message)
        finally:
            print(f"closed {ws.close_code} {ws.close_reason}", flush=True)

    async with websockets.serve(handler, "127.0.0.1", port, compression=compression(mode),
                                ping_interval=None, max_size=4 << 20):
        print("listening", flush=True)
        await asyncio.Future()


def main():
    role, where, mode = sys.argv[1:4]
    if role == "client":
        asyncio.run(client(where, mode))
    elif role == "client-closed":
        asyncio.run(client_closed(where, mode))
    else:
        asyncio.run(server(int(where), mode))


if __name__ == "__main__":
    main()
