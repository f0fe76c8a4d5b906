"""The one journal of the data build, eval and the self-check: a kill mid-write loses only that batch."""

from __future__ import annotations

from pathlib import Path

from stagekit.journal import Journal


def test_a_torn_last_line_is_skipped_then_cut_before_the_next_append(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    j.append([{"key": "a", "v": 1}, {"key": "b", "v": 2}])
    with open(j.path, "a") as f:
        f.write('{"key": "c", "v"')  # the kill landed mid-write
    assert [r["key"] for r in j.rows()] == ["a", "b"]
    j.append([{"key": "c", "v": 3}, {"key": "a", "v": 4}])
    assert j.path.read_text().count("\n") == 4  # the torn fragment is gone, nothing glued onto it
    assert {k: r["v"] for k, r in j.load().items()} == {"a": 4, "b": 2, "c": 3}  # a repeated key: the last


def test_keyed_reads_skip_records_without_the_key(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.jsonl")
    assert j.rows() == [] and j.load() == {}
    j.append([{"task_id": "t1"}, {"key": "k"}])
    assert list(j.load("task_id")) == ["t1"] and list(j.load()) == ["k"]
