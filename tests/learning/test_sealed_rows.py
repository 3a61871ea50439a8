"""Evaluation never reads a test row before the final score: every row read is logged with
the time it happened, and no row of a split's test side may be read between the moment the
split sealed it and the moment its final score opened it."""

import time

import numpy as np

from leads.learning.evaluation import OutcomeTable, evaluate
from leads.learning.learner import SealedRows, time_split


class ReadLog:
    def __init__(self):
        self.reads: list[tuple[int, int]] = []


class LoggedRow(dict):
    """A row that logs (its index, when) on every read of its values."""

    def __init__(self, data, index, log):
        super().__init__(data)
        self.index, self.log = index, log

    def _read(self):
        self.log.reads.append((self.index, time.perf_counter_ns()))

    def get(self, key, default=None):
        self._read()
        return super().get(key, default)

    def __getitem__(self, key):
        self._read()
        return super().__getitem__(key)

    def items(self):
        self._read()
        return super().items()

    def values(self):
        self._read()
        return super().values()

    def keys(self):
        self._read()
        return super().keys()

    def __iter__(self):
        self._read()
        return super().__iter__()


def logged_table(n=600, seed=5):
    rng = np.random.default_rng(seed)
    log = ReadLog()
    rows, y = [], []
    for i in range(n):
        segment = rng.choice(["smb", "mid", "enterprise"])
        p = {"smb": 0.15, "mid": 0.4, "enterprise": 0.7}[segment]
        rate = i / n + rng.normal(0, 0.01)  # names the period: the time-proxy choice runs
        rows.append(LoggedRow({"segment": segment, "size": float(rng.integers(1, 5000)), "rate": rate}, i, log))
        y.append(int(rng.random() < p))
    return OutcomeTable(columns=["segment", "size", "rate"], rows=rows, y=np.array(y)), log


def reads_while_sealed(log: ReadLog, split: dict) -> list[int]:
    test = {int(i) for i in split["test_index"]}
    sealed, opened = split["seal"]["sealed_ns"], split["seal"]["opened_ns"]
    return sorted({i for i, at in log.reads if i in test and sealed <= at < opened})


def test_no_evaluation_reads_a_test_row_before_its_final_score():
    table, log = logged_table()
    result = evaluate(table, time_order=True, time_cuts=(0.6, 0.8))
    splits = [result["random"], *result["time_cuts"].values()]
    assert len(splits) == 3
    for split in splits:
        assert split["seal"]["opened_ns"] is not None
        assert reads_while_sealed(log, split) == []
        # ... and the test rows were read after the seal opened (the final score).
        test = {int(i) for i in split["test_index"]}
        assert any(i in test and at >= split["seal"]["opened_ns"] for i, at in log.reads)
    assert result["time_cuts"]["0.6"]["time_proxies"], "the time-proxy choice ran on the training rows"


def test_the_check_catches_code_that_reads_test_rows_before_the_final_score():
    table, log = logged_table(n=100)
    train_idx, test_idx = time_split(len(table.rows), test_share=0.3)
    sealed = SealedRows([table.rows[i] for i in test_idx], table.y[test_idx])
    leaked_kinds = {row.get("segment") for row in (table.rows[i] for i in test_idx)}  # a leak
    sealed.score({"constant": lambda rows: [0.5] * len(rows)})
    split = {"test_index": test_idx, "seal": {"sealed_ns": sealed.sealed_ns, "opened_ns": sealed.opened_ns}}
    assert leaked_kinds and reads_while_sealed(log, split) == sorted(int(i) for i in test_idx)
