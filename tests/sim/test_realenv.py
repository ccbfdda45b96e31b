"""RealEnv against the OS: clock, random, disk, streams, workers, threads."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import stele
from stele._core._realenv import DiskPathError, RealDisk, check_disk_path

from . import _workerfns


def test_realenv_is_an_env() -> None:
    env = stele.RealEnv(seed=1)
    assert isinstance(env, stele.Env)
    assert env.simulated is False
    assert env.wall_ns() > 1_600_000_000 * 10**9


def test_seeded_realenv_rng_is_reproducible() -> None:
    a, b = stele.RealEnv(seed=5), stele.RealEnv(seed=5)
    assert [a.rng.randbelow(1000) for _ in range(20)] == [b.rng.randbelow(1000) for _ in range(20)]
    c, d = stele.RealEnv(), stele.RealEnv()
    assert c.rng.bytes(16) != d.rng.bytes(16)


async def test_clock_is_monotonic() -> None:
    env = stele.RealEnv()
    t0 = env.now_ns()
    await anyio.sleep(0)
    assert env.now_ns() >= t0 >= 0


async def test_disk_roundtrip(tmp_path: Path) -> None:
    env = stele.RealEnv(root=tmp_path)
    disk = env.disk
    assert await disk.listdir() == []
    await disk.write("a/b.txt", b"hello")
    await disk.append("a/b.txt", b" world")
    await disk.fsync("a/b.txt")
    assert await disk.read("a/b.txt") == b"hello world"
    await disk.write("a/tmp", b"new")
    await disk.rename("a/tmp", "a/b.txt")
    assert await disk.read("a/b.txt") == b"new"
    assert await disk.listdir("a") == ["b.txt"]
    assert await disk.exists("a/b.txt")
    await disk.remove("a/b.txt")
    assert not await disk.exists("a/b.txt")
    with pytest.raises(FileNotFoundError):
        await disk.read("a/b.txt")
    with pytest.raises(FileNotFoundError):
        await disk.remove("a/b.txt")
    assert (tmp_path / "a").is_dir()


@pytest.mark.parametrize("bad", ["", "/etc/passwd", "../x", "a/../b", "a//b", "./a"])
def test_disk_paths_cannot_escape(bad: str) -> None:
    with pytest.raises(DiskPathError):
        check_disk_path(bad)


def test_default_disk_is_a_temp_dir() -> None:
    env = stele.RealEnv()
    assert isinstance(env.disk, RealDisk)
    assert env.disk.root.is_dir()


async def test_tcp_stream_echo() -> None:
    env = stele.RealEnv()
    listener = await env.listen_tcp("127.0.0.1", 0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)  # type: ignore[attr-defined]

    async def serve_one(stream: anyio.abc.ByteStream) -> None:
        async with stream:
            await stream.send(await stream.receive())

    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, serve_one)
        async with await env.connect_tcp("127.0.0.1", port) as client:
            await client.send(b"ping")
            assert await client.receive() == b"ping"
        tg.cancel_scope.cancel()
    await listener.aclose()


async def test_unix_stream_echo(tmp_path: Path) -> None:
    env = stele.RealEnv()
    path = str(tmp_path / "s.sock")
    listener = await env.listen_unix(path)

    async def serve_one(stream: anyio.abc.ByteStream) -> None:
        async with stream:
            await stream.send(await stream.receive())

    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, serve_one)
        async with await env.connect_unix(path) as client:
            await client.send(b"pong")
            assert await client.receive() == b"pong"
        tg.cancel_scope.cancel()
    await listener.aclose()


async def test_run_blocking_and_worker() -> None:
    env = stele.RealEnv(max_workers=1)
    assert await env.run_blocking(_workerfns.square, 7) == 49
    assert await env.run_in_worker(_workerfns.square, 9) == 81
    with pytest.raises(ValueError, match="boom 3"):
        await env.run_in_worker(_workerfns.boom, 3)


def test_realenv_works_under_asyncio(tmp_path: Path) -> None:
    env = stele.RealEnv(root=tmp_path, max_workers=1)

    async def main() -> tuple[bytes, int, int]:
        await env.disk.write("x", b"asyncio")
        await env.disk.fsync("x")
        with env.move_on_after(10):
            await env.sleep(0)
        return (
            await env.disk.read("x"),
            await env.run_blocking(_workerfns.square, 3),
            await env.run_in_worker(_workerfns.square, 4),
        )

    assert anyio.run(main, backend="asyncio") == (b"asyncio", 9, 16)
