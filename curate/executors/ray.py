"""The Ray executor: the build's tasks as Ray tasks, on a running cluster or on a Ray started on
this machine for the build.

Tasks carry paths (a storage root and a relative name), never frames: every node reads the
recordings and writes its parts under the same paths, so the recipe, its caches and the output
must be on a filesystem every node mounts at the same place. Before any task runs, each node
alive then reports its Python, curate and library versions, and a node that differs from the
driver stops the build (its parts would not be the driver's bytes, and the fingerprint knows
only the driver's versions).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from curate.executors.base import BuildError, Executor, T, in_flight, runtime

CONNECT_SECONDS = 5.0  # how long an --address may take to answer before the build stops
LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray's addresses stay on 127.0.0.1
RETRIES = 2  # a task whose worker died runs again (tasks are idempotent) this many times


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        super().__init__(workers)
        if address not in (None, "auto") and not re.fullmatch(r"\[?[\w.:-]+\]?:\d+", address):
            raise BuildError(f"--address {address!r}: give the Ray head as HOST:PORT, or `auto`")
        self.address = address

    def execute(self, fn: Callable[[T], str], tasks: Sequence[T]) -> Iterator[tuple[int, str]]:
        if not tasks:
            return
        ray = _import_ray(loopback=self.address is None or _is_loopback(self.address))
        self._connect(ray)
        try:
            check_nodes(ray, runtime())
            call = ray.remote(num_cpus=1, max_retries=RETRIES)(_call)
            step = ray.put(fn)
            running = in_flight(tasks, self.workers, lambda task: call.remote(step, task),
                                lambda refs: ray.wait(refs, num_returns=1)[0][0])  # fmt: skip
            for i, ref in running:
                try:
                    result = ray.get(ref)
                except (
                    ray.exceptions.WorkerCrashedError,
                    ray.exceptions.NodeDiedError,
                    ray.exceptions.OutOfMemoryError,
                ) as exc:
                    raise BuildError(
                        f"a Ray worker died {RETRIES + 1} times on one task ({type(exc).__name__}:"
                        " out of memory, or a node lost); run the same command again to resume"
                    ) from None
                yield i, result
        finally:
            ray.shutdown()

    def _connect(self, ray: Any) -> None:
        """Join the cluster at `address`, or start a Ray on this machine with `workers` CPUs."""
        quiet = {"logging_level": logging.WARNING, "configure_logging": True}
        if self.address is None:
            ray.init(address="local", num_cpus=self.workers, include_dashboard=False,
                     _node_ip_address="127.0.0.1", **quiet)  # fmt: skip
            return
        if self.address != "auto":
            _reachable(self.address)
        try:
            ray.init(address=self.address, **quiet)
        except ConnectionError as exc:
            raise BuildError(
                f"no Ray cluster at --address {self.address} ({exc}); start one (`ray start "
                "--head`) or name its head with --address HOST:PORT. A Ray build never falls "
                "back to the local executor"
            ) from None


def check_nodes(ray: Any, mine: dict[str, str]) -> None:
    """Refuse a cluster where a node runs another Python, curate or library than `mine`, the
    driver's `runtime()`."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = ray.remote(num_cpus=0)(runtime)
    nodes = [n for n in ray.nodes() if n["Alive"]]
    try:
        theirs = ray.get([
            probe.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
            ).remote()
            for n in nodes
        ])  # fmt: skip
    except ray.exceptions.RayError as exc:
        raise BuildError(
            f"a Ray node cannot run curate ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
            "install the driver's curate and libraries on every node"
        ) from None
    for node, versions in zip(nodes, theirs, strict=True):
        differ = [f"{k} {versions.get(k)} (driver: {v})" for k, v in mine.items()
                  if versions.get(k) != v]  # fmt: skip
        if differ:
            raise BuildError(
                f"Ray node {node['NodeManagerAddress']} runs {', '.join(differ)}: install the "
                "driver's curate and libraries on every node, or its parts would differ"
            )


def _call(fn: Callable[[T], str], task: T) -> str:
    return fn(task)


def _reachable(address: str) -> None:
    """A clear error, at once, for an address nothing answers on (Ray would retry for minutes)."""
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        raise BuildError(
            f"cannot reach a Ray cluster at --address {address} ({exc.strerror or exc}); start "
            "it (`ray start --head --port PORT`) or check the address. A Ray build never falls "
            "back to the local executor"
        ) from None


def _is_loopback(address: str) -> bool:
    host = address.rpartition(":")[0].strip("[]")
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _import_ray(loopback: bool) -> Any:
    """Ray, imported so that a cluster on this machine alone stays on loopback: by default Ray
    swaps 127.0.0.1 for this machine's network address, in what it listens on and in the
    address it dials (so it would not even find a head bound to 127.0.0.1). The switch is read
    when Ray is imported; a user's own setting of it wins."""
    if loopback:
        os.environ.setdefault(LOOPBACK_SWITCH, "0")
    try:
        import ray
    except ImportError:
        raise BuildError(
            "--executor ray needs Ray, an optional extra: pip install 'curate[ray]'"
        ) from None
    return ray
