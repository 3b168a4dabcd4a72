"""Episode parts -> the release's parquet shards, `data/<config>/<split>-NNNNN-of-NNNNN.parquet`.

Parts are concatenated in episode-id order and cut into shards at row-group boundaries by size,
so the same parts always give the same files, whichever executor made them and in whatever order,
and no shard grows past the limit however long one episode is. A part that is big enough to be
a shard of its own (a long episode with images) is one, as it is: hard-linked, not rewritten, as
parts are written the way shards are. A build over terabytes writes its images once.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.formats.chat import ROW_GROUP as IMAGE_ROW_GROUP
from curate.release.meta import DATA_PATH, SPLITS

SHARD_BYTES = 500 * 10**6  # at most 500 MB a shard (ARCHITECTURE.md)
ROW_GROUP_ROWS = {"ticks": 20_000}  # image configs: IMAGE_ROW_GROUP (image rows are large)
WHOLE = 16  # a part of at least limit / WHOLE (31 MB; at most the limit) is a shard as it is

Piece = tuple[Path, int]  # (part file, row group)
Shard = Path | list[Piece]  # a whole part, or row groups to write into a new file


def plan_shards(parts: list[Path], limit: int = SHARD_BYTES, whole: bool = False) -> list[Shard]:
    """Consecutive row groups of the parts, grouped so that each shard stays under `limit` (a
    single row group larger than the limit is a shard of its own); with `whole`, a part of
    between limit / WHOLE and limit bytes (its row groups' sizes) is taken whole."""
    shards: list[Shard] = []
    size = limit
    for part in parts:
        meta = pq.ParquetFile(part).metadata
        groups = [meta.row_group(g).total_byte_size for g in range(meta.num_row_groups)]
        if whole and limit // WHOLE <= sum(groups) <= limit:
            shards.append(part)
            size = limit  # the next part starts a shard
            continue
        for group, group_size in enumerate(groups):
            if size + group_size > limit:
                shards.append([])
                size = 0
            shards[-1].append((part, group))  # type: ignore[union-attr]  # a list: just added
            size += group_size
    return shards


def write_config(
    folder: Path,
    config: str,
    parts: dict[str, list[Path]],
    schema: pa.Schema,
    limit: int = SHARD_BYTES,
    options: dict | None = None,
    whole: bool = False,
) -> dict[str, list[str]]:
    """Write every split of one config; returns split -> the written files' relative paths.

    A split without rows gets no file (`datasets` cannot load an empty split), and the card
    declares only the splits that have files. `whole`: big parts are shards as they are (image
    configs, whose parts are written as their shards are: `options` and row groups alike).
    """
    options = options or {"compression": "zstd"}  # pyarrow.parquet.ParquetWriter's options
    row_group = ROW_GROUP_ROWS.get(config, IMAGE_ROW_GROUP)
    written: dict[str, list[str]] = {}
    for split in SPLITS:
        shards = plan_shards(parts.get(split, []), limit, whole)
        written[split] = []
        for k, shard in enumerate(shards):
            rel = DATA_PATH.format(config=config, split=split, shard=k, shards=len(shards))
            dest = folder / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(shard, Path):  # the part is the shard: no byte to rewrite
                _place(shard, dest)
            else:
                with pq.ParquetWriter(dest, schema, **options) as writer:
                    for part, group in shard:
                        table = pq.ParquetFile(part).read_row_group(group).cast(schema)
                        writer.write_table(table, row_group_size=row_group)
            written[split].append(rel)
    return written


def _place(part: Path, dest: Path) -> None:
    """`part` at `dest`: a hard link, or a copy where the filesystem has none."""
    if dest.exists() and dest.samefile(part):  # linked by a run that was cut short
        return
    aside = dest.with_name(dest.name + ".partial")
    aside.unlink(missing_ok=True)
    try:
        os.link(part, aside)
    except OSError:
        shutil.copyfile(part, aside)
    aside.replace(dest)
