"""The Ray executor on a real Ray cluster that the tests start and stop on loopback: the same
release as the local executor, no listener off loopback, no silent fallback, no mixed versions."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curate.executors import BuildError, make_executor
from curate.executors.ray import LOOPBACK_SWITCH
from curate.release.build import build

# Read when Ray is imported. Without the switch, Ray dials this machine's network address for
# 127.0.0.1; and the tests' clusters use a token of their own, not the one in ~/.ray.
os.environ.setdefault(LOOPBACK_SWITCH, "0")
os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'curate[ray]'")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listeners() -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket of this machine, from /proc."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state != "0A":  # LISTEN
                    continue
                hex_ip, hex_port = local.split(":")
                raw = bytes.fromhex(hex_ip)
                # the kernel prints each 32-bit word of the address in host (little-endian) order
                raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                found.add((str(ipaddress.ip_address(raw)), int(hex_port, 16)))
    return found


def on_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A one-node Ray cluster on 127.0.0.1 with 2 CPUs: yields its address, then stops it."""
    before = listeners()
    port = free_port()
    log = tmp_path_factory.mktemp("ray") / "head.log"
    head = subprocess.Popen(
        [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
         "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2",
         "--include-dashboard", "false", "--disable-usage-stats"],
        env={**os.environ, LOOPBACK_SWITCH: "0"}, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Ray head did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    yield address, before
    os.killpg(head.pid, signal.SIGTERM)  # `ray start --block` stops its processes on SIGTERM
    try:
        head.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()


def recipe(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "recipe.yaml"
    path.write_text(json.dumps({
        "name": "t", "version": "0.1.0", "seed": 0,
        "sources": [{"format": "synth", "episodes": 3, "seconds": 3, "seed": 5}],
        "configs": ["ticks", "text_action", "motion_coa"],
        "validation": 0.34,
        "images": {"width": 64, "height": 36, "stride": 4, "quality": 70},
    }))  # fmt: skip
    return path


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def test_ray_builds_the_local_release_on_a_cluster_listening_on_loopback(cluster, tmp_path):
    address, before = cluster
    path = recipe(tmp_path / "r")
    local = build(path, tmp_path / "local")
    on_ray = build(path, tmp_path / "ray", executor="ray", address=address, workers=2)
    assert on_ray.meta.fingerprint == local.meta.fingerprint
    assert on_ray.meta.content_hash == local.meta.content_hash
    assert files(on_ray.folder) == files(local.folder)
    assert on_ray.run and on_ray.run.episodes == 3
    # the head, the raylet and the workers that just ran: every listener they opened
    opened = listeners() - before
    assert opened and all(on_loopback(ip) for ip, _ in opened), sorted(opened)


def test_ray_started_for_the_build_gives_the_same_release(tmp_path):
    path = recipe(tmp_path / "r")
    local = build(path, tmp_path / "local")
    own = build(path, tmp_path / "ray", executor="ray", workers=2)  # no address: its own Ray
    assert own.meta.content_hash == local.meta.content_hash
    assert not ray.is_initialized()  # shut down after the build


def test_a_node_with_other_versions_is_refused(cluster):
    from curate.executors.ray import check_nodes, runtime

    ray.init(address=cluster[0], logging_level="warning")
    try:
        check_nodes(ray, runtime())  # the same curate everywhere: accepted
        older = runtime() | {"curate": "0.0.1"}
        with pytest.raises(BuildError, match=r"runs curate 0\.1\.0 \(driver: 0\.0\.1\)"):
            check_nodes(ray, older)
    finally:
        ray.shutdown()


def test_an_unreachable_address_is_an_error_not_a_local_build(tmp_path):
    path = recipe(tmp_path / "r")
    start = time.monotonic()
    with pytest.raises(BuildError, match="cannot reach a Ray cluster.*never falls back"):
        build(path, tmp_path / "out", executor="ray", address=f"127.0.0.1:{free_port()}")
    assert time.monotonic() - start < 30  # not Ray's minutes of retries
    assert not (tmp_path / "out").exists()
    assert not list((tmp_path / "out.partial" / "work").glob("*/done.json"))


def test_bad_addresses_and_a_missing_ray_say_what_to_do(monkeypatch):
    with pytest.raises(BuildError, match="HOST:PORT"):
        make_executor("ray", address="nowhere")
    with pytest.raises(BuildError, match="use it with --executor ray"):
        make_executor("local", address="127.0.0.1:6379")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    with pytest.raises(BuildError, match=r"pip install 'curate\[ray\]'"):
        list(make_executor("ray").execute(str, [Path(".")]))  # type: ignore
