"""Episode parts -> the release's parquet shards, `data/<config>/<split>-NNNNN-of-NNNNN.parquet`.

Parts are concatenated in episode-id order and cut into shards at row-group boundaries by size,
so the same parts always give the same files, whichever executor made them and in whatever order,
and no shard grows past the limit however long one episode is.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.release.meta import DATA_PATH, SPLITS

SHARD_BYTES = 500 * 10**6  # at most 500 MB a shard (ARCHITECTURE.md)
ROW_GROUP_ROWS = {"ticks": 20_000}  # image rows are large: small row groups for image configs
IMAGE_ROW_GROUP = 100

Piece = tuple[Path, int]  # (part file, row group)


def plan_shards(parts: list[Path], limit: int = SHARD_BYTES) -> list[list[Piece]]:
    """Consecutive row groups of the parts, grouped so that each shard stays under `limit` (a
    single row group larger than the limit is a shard of its own)."""
    shards: list[list[Piece]] = []
    size = limit
    for part in parts:
        meta = pq.ParquetFile(part).metadata
        for group in range(meta.num_row_groups):
            group_size = meta.row_group(group).total_byte_size
            if size + group_size > limit:
                shards.append([])
                size = 0
            shards[-1].append((part, group))
            size += group_size
    return shards


def write_config(
    folder: Path,
    config: str,
    parts: dict[str, list[Path]],
    schema: pa.Schema,
    limit: int = SHARD_BYTES,
) -> dict[str, list[str]]:
    """Write every split of one config; returns split -> the written files' relative paths.

    A split without rows gets no file (`datasets` cannot load an empty split), and the card
    declares only the splits that have files.
    """
    row_group = ROW_GROUP_ROWS.get(config, IMAGE_ROW_GROUP)
    written: dict[str, list[str]] = {}
    for split in SPLITS:
        shards = plan_shards(parts.get(split, []), limit)
        written[split] = []
        for k, pieces in enumerate(shards):
            rel = DATA_PATH.format(config=config, split=split, shard=k, shards=len(shards))
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            with pq.ParquetWriter(folder / rel, schema, compression="zstd") as writer:
                for part, group in pieces:
                    table = pq.ParquetFile(part).read_row_group(group).cast(schema)
                    writer.write_table(table, row_group_size=row_group)
            written[split].append(rel)
    return written
