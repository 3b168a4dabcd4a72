"""Shards: cut at row groups by size, named `<split>-NNNNN-of-NNNNN`, rows in part order."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.release.writer import write_config


def part(path, start: int, n: int, group: int):
    pad = [f"{i:04d}" * 125 for i in range(start, start + n)]  # 500 distinct bytes a row
    table = pa.table({"i": pa.array(range(start, start + n), pa.int64()), "pad": pad})
    pq.write_table(table, path, row_group_size=group)
    return path


def test_long_parts_are_cut_into_shards_under_the_limit(tmp_path):
    parts = {
        "train": [part(tmp_path / "a.parquet", 0, 40, 10), part(tmp_path / "b.parquet", 40, 20, 10)]
    }
    schema = pq.read_schema(parts["train"][0])
    written = write_config(tmp_path / "out", "ticks", parts, schema, limit=12_000)
    files = written["train"]
    assert len(files) > 2 and written["validation"] == []
    assert files[0] == f"data/ticks/train-00000-of-{len(files):05d}.parquet"
    rows = pa.concat_tables(pq.read_table(tmp_path / "out" / f) for f in files)["i"].to_pylist()
    assert rows == list(range(60))
    assert all((tmp_path / "out" / f).stat().st_size < 12_000 + 4_000 for f in files)


def test_a_part_big_enough_is_a_shard_as_it_is(tmp_path):
    small = [part(tmp_path / f"s{k}.parquet", 10 * k, 10, 10) for k in range(3)]
    big = part(tmp_path / "big.parquet", 30, 40, 10)  # a sixteenth of the limit or more
    parts = {"train": [small[0], big, small[1], small[2]]}
    schema = pq.read_schema(big)
    written = write_config(tmp_path / "out", "t", parts, schema, limit=150_000, whole=True)["train"]
    assert len(written) == 3  # the first small part, the big one, the last two together
    whole = tmp_path / "out" / written[1]
    assert whole.read_bytes() == big.read_bytes() and whole.stat().st_ino == big.stat().st_ino
    rows = pa.concat_tables(pq.read_table(tmp_path / "out" / f) for f in written)["i"].to_pylist()
    assert rows == [*range(10), *range(30, 70), *range(10, 30)]
    # a run cut short after linking writes the same files again, and nothing else
    again = write_config(tmp_path / "out", "t", parts, schema, limit=150_000, whole=True)["train"]
    assert again == written
    assert sorted(p.name for p in whole.parent.iterdir()) == sorted(Path(f).name for f in written)
