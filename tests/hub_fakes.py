"""A stand-in for the Hugging Face Hub's `datasets.load_dataset` and tables in each dataset's real
Hub schema, shared by the Hub-source tests (no network: any unfaked call fails)."""

from __future__ import annotations

import datasets
import pytest
from datasets import ClassLabel, Dataset, Features, Value

NLI = ClassLabel(names=["entailment", "neutral", "contradiction"])


class FakeHub:
    """Stands in for `datasets.load_dataset`: serves prepared tables, records each call."""

    def __init__(self, tables: dict[tuple[str, str | None, str], Dataset] | None = None,
                 error: BaseException | None = None) -> None:
        self.tables, self.error, self.calls = tables or {}, error, []

    def __call__(self, path, name=None, split=None, **kwargs):
        self.calls.append((path, name, split, kwargs))
        if self.error is not None:
            raise self.error
        return self.tables[(path, name, split)]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any test that forgets to fake the Hub fails instead of going online."""
    monkeypatch.setattr(datasets, "load_dataset", FakeHub(error=AssertionError("network used")))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)


def serve(monkeypatch, tables) -> FakeHub:
    fake = FakeHub(tables)
    monkeypatch.setattr(datasets, "load_dataset", fake)
    return fake


def fail_with(monkeypatch, error: BaseException) -> FakeHub:
    fake = FakeHub(error=error)
    monkeypatch.setattr(datasets, "load_dataset", fake)
    return fake


def nli_table(rows: list[dict], with_idx: bool) -> Dataset:
    cols = {"premise": Value("string"), "hypothesis": Value("string"), "label": NLI}
    if with_idx:
        cols["idx"] = Value("int32")
    return Dataset.from_list(rows, features=Features(cols))


def qa_row(id_: str, context: str, question: str, answer: str, title: str | None = None) -> dict:
    row = {"id": id_, "context": context, "question": question,
           "answers": {"text": [answer], "answer_start": [context.index(answer)]}}
    if title is not None:
        row["title"] = title
    return row


def table(rows: list[dict], **features) -> Dataset:
    return Dataset.from_list(rows, features=Features(features))


def assert_names_local_files(err: BaseException, *files: str) -> None:
    text = str(err)
    assert "--data-dir" in text
    for f in files:
        assert f"DIR/{f}" in text, (f, text)
