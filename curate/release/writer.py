"""Episode parts -> the release's parquet shards, `data/<config>/<split>-NNNNN-of-NNNNN.parquet`.

Parts are concatenated in episode-id order and grouped into shards by size, so the same parts
always give the same files, whichever executor made them and in whatever order.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.release.meta import DATA_PATH, SPLITS

SHARD_BYTES = 500 * 10**6  # at most 500 MB a shard (ARCHITECTURE.md); parts are never split
ROW_GROUP_ROWS = {"ticks": 20_000}  # image rows are large: small row groups for image configs
IMAGE_ROW_GROUP = 100


def plan_shards(parts: list[Path], limit: int = SHARD_BYTES) -> list[list[Path]]:
    """Consecutive parts grouped so that each group's size stays under `limit` where it can."""
    groups: list[list[Path]] = []
    size = 0
    for part in parts:
        part_size = part.stat().st_size
        if not groups or size + part_size > limit:
            groups.append([])
            size = 0
        groups[-1].append(part)
        size += part_size
    return groups


def write_config(
    folder: Path, config: str, parts: dict[str, list[Path]], schema: pa.Schema
) -> dict[str, list[str]]:
    """Write every split of one config; returns split -> the written files' relative paths.

    A split without rows gets no file (`datasets` cannot load an empty split), and the card
    declares only the splits that have files.
    """
    row_group = ROW_GROUP_ROWS.get(config, IMAGE_ROW_GROUP)
    written: dict[str, list[str]] = {}
    for split in SPLITS:
        groups = plan_shards(parts.get(split, []))
        written[split] = []
        for k, group in enumerate(groups):
            rel = DATA_PATH.format(config=config, split=split, shard=k, shards=len(groups))
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with pq.ParquetWriter(path, schema, compression="zstd") as writer:
                for part in group:
                    writer.write_table(pq.read_table(part).cast(schema), row_group_size=row_group)
            written[split].append(rel)
    return written
