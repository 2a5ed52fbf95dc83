"""Every registered task loads from local files in its real format and runs on the tiny model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from adapterx.api import direct, stack, train
from adapterx.data.loading import load_examples
from adapterx.presets.tiny import TINY_DATA
from adapterx.store import read_meta
from adapterx.tasks import all_tasks

FIXTURES = Path(__file__).parent / "fixtures"
# split files the small reader fixtures do not have, made from ones they do (plumbing, not data)
MAKE = {
    "anli/R{r}/{s}.jsonl": "anli/R1/dev.jsonl", "snli/snli_1.0_{s}.jsonl": "snli/snli_1.0_dev.jsonl",
    "qqp/{s}.tsv": "qqp/dev.tsv", "sst2/{s}.tsv": "sst2/dev.tsv",
    "hellaswag/hellaswag_{h}.jsonl": "hellaswag/hellaswag_val.jsonl",
    "cosmosqa/{c}.csv": "cosmosqa/valid.csv", "commonsenseqa/{s}_rand_split.jsonl": "commonsenseqa/dev_rand_split.jsonl",
    "ccg/{s}.txt": "ccg/train.txt", "udpos/en_ewt-ud-{s}.conllu": "udpos/en_ewt-ud-train.conllu",
    "panx/en/{s}": "panx/en/train", "pawsx/en/{p}.tsv": "pawsx/en/train.tsv",
    "udpos/de_gsd-ud-{s}.conllu": "udpos/de_gsd-ud-dev.conllu",
    "mlqa/{s}/{s}-context-de-question-de.json": "mlqa/dev/dev-context-de-question-de.json",
}
KIND_KEYS = {"classification": {"text_a", "text_b", "label"}, "multiple_choice": {"context", "question", "choices", "label"},
             "qa": {"context", "question", "answers"}, "tagging": {"tokens", "tags"}}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    shutil.copytree(TINY_DATA, root, dirs_exist_ok=True)
    shutil.copytree(FIXTURES, root, dirs_exist_ok=True)
    for pattern, source in MAKE.items():
        for values in ({"s": s, "r": r, "h": h, "c": c, "p": p}
                       for s, h, c, p in (("train", "train", "train", "train"), ("dev", "val", "valid", "dev_2k"),
                                          ("test", "val", "valid", "test_2k")) for r in "123"):
            target = root / pattern.format(**values)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(root / source, target)
    _squad_v2_from_v1(root)
    return root


def _squad_v2_from_v1(root: Path) -> None:
    """SQuAD 2.0 files from the sample SQuAD 1.1 ones, every paragraph's first question made
    unanswerable (the v2.0 format: is_impossible, no answers)."""
    (root / "squad_v2").mkdir(exist_ok=True)
    for split in ("train", "dev"):
        doc = json.loads((root / "squad" / f"{split}-v1.1.json").read_text())
        for article in doc["data"]:
            for paragraph in article["paragraphs"]:
                for i, qa in enumerate(paragraph["qas"]):
                    qa["is_impossible"] = i == 0
                    if i == 0:
                        qa["plausible_answers"], qa["answers"] = qa["answers"], []
        doc["version"] = "v2.0"
        (root / "squad_v2" / f"{split}-v2.0.json").write_text(json.dumps(doc))


def _lang(task) -> str:
    return "de" if "de" in task.languages else task.languages[0]


@pytest.mark.parametrize("name", sorted(all_tasks()))
def test_every_task_loads_its_local_files(name, data_dir):
    task = all_tasks()[name]
    lang = _lang(task)
    for split in task.splits:
        if split == "train" and lang != "en":
            lang_split = "en"
        else:
            lang_split = lang
        if name == "bucc" and split == "test":
            data = load_examples(task, split, lang_split, data_dir)
            assert data["gold"] == [] and data["source"]
            continue
        rows = load_examples(task, split, lang_split, data_dir)
        assert rows, f"{name} {split} {lang_split} is empty"
        if task.kind in KIND_KEYS:
            assert KIND_KEYS[task.kind] <= set(rows[0])


@pytest.mark.parametrize("name", ["anli", "snli", "qqp", "sst2", "hellaswag", "cosmosqa", "commonsenseqa", "ccg",
                                  "squad_v2"])
def test_intermediate_tasks_train(name, make_cfg, data_dir):
    path = train(name, cfg=make_cfg(data_dir=str(data_dir), eval_split="dev"))
    meta = read_meta(path)
    assert meta["task"] == name and meta["n_train_examples"] > 0
    if name == "anli":  # ANLI+: rounds 1-3 plus MNLI and SNLI
        assert meta["n_train_examples"] > 3 * 3
    if name == "ccg":
        assert "N" in meta["head"]["labels"]
    if name == "squad_v2":  # the official v2.0 metric reports answerable and unanswerable parts
        assert {"has_answer_f1", "no_answer_f1"} <= set(meta["metrics"]["english_dev"])


@pytest.mark.parametrize("target,langs", [("pawsx", ["de"]), ("udpos", ["de"]), ("panx", ["de"])])
def test_new_targets_end_to_end(target, langs, make_cfg, data_dir):
    results = direct(target, cfg=make_cfg(data_dir=str(data_dir), langs=langs, eval_split="dev"))
    assert set(results["per_language"]) == set(langs)
    assert 0 <= results["average"] <= 100


def test_tagging_predictions_layout(make_cfg, data_dir):
    cfg = make_cfg(data_dir=str(data_dir), langs=["de"], eval_split="test")
    direct("panx", cfg=cfg)
    (run,) = [p for p in (Path(cfg.output) / "panx").iterdir() if not p.name.startswith(".")]
    text = (run / "predictions" / "panx" / "test-de.tsv").read_text()
    gold = load_examples("panx", "test", "de", data_dir)
    sentences = [block.split("\n") for block in text.strip("\n").split("\n\n")]
    assert [len(s) for s in sentences] == [len(ex["tokens"]) for ex in gold]


def test_tagging_words_past_max_length_get_noun_and_are_counted(make_cfg, data_dir):
    from transformers import AutoTokenizer

    max_len = 16  # the smallest training.max_seq_length allowed
    cfg = make_cfg(data_dir=str(data_dir), langs=["de"], eval_split="dev",
                   **{"training__max_seq_length": max_len, "training__doc_stride": 8})
    results = direct("udpos", cfg=cfg)
    gold = load_examples("udpos", "dev", "de", data_dir)
    tokenizer = AutoTokenizer.from_pretrained(cfg.model)
    cut = []  # per sentence: the words none of whose sub-words fit in max_len
    for ex in gold:
        kept = {w for w in tokenizer(ex["tokens"], is_split_into_words=True, truncation=True,
                                     max_length=max_len).word_ids() if w is not None}
        cut.append([i for i in range(len(ex["tokens"])) if i not in kept])
    assert results["truncated_words"] == {"de": sum(map(len, cut))} and results["truncated_words"]["de"] > 0
    (run,) = [p for p in Path(cfg.output).glob(f"udpos/*{results['config_hash'][:8]}*") if p.is_dir()]
    blocks = (run / "predictions" / "udpos" / "dev-de.tsv").read_text().strip("\n").split("\n\n")
    for lines, words in zip((b.split("\n") for b in blocks), cut):
        assert all(lines[i] == "NOUN" for i in words)


def test_mlqa_with_squad_module(make_cfg, data_dir):
    results = stack("squad", "mlqa", cfg=make_cfg(data_dir=str(data_dir), langs=["de"], eval_split="dev"))
    assert "f1" in results["per_language"]["de"] and results["metric"] == "f1"


def test_retrieval_from_base_and_module(make_cfg, data_dir):
    cfg = make_cfg(data_dir=str(data_dir), langs=["de"])
    base = direct("tatoeba", cfg=cfg)
    assert base["setup"] == "retrieval" and 0 <= base["per_language"]["de"] <= 100
    with_module = stack("squad", "tatoeba", cfg=cfg)
    assert with_module["inter"] == ["squad"]
    # per-pair correctness beside each run: the report's intervals and paired test come from it
    for results in (base, with_module):
        (scores,) = Path(cfg.output).glob(f"tatoeba/retrieval-*{results['config_hash'][:8]}*/scores/test-de.json")
        values = json.loads(scores.read_text())["values"]["correct"]
        assert len(values) == results["n_examples"]["de"] and set(values) <= {0, 1}
        assert 100 * sum(values) / len(values) == pytest.approx(results["per_language"]["de"])
    from adapterx.api import report

    rep = report(cfg.output, show=False)
    (group,) = [g for g in rep["groups"] if g["target"] == "tatoeba" and g["label"] == "squad"]
    assert group["delta"]["p"] is not None and group["average"]["ci"] is not None
    sweep = direct("tatoeba", cfg=make_cfg(data_dir=str(data_dir), langs=["de"], **{"retrieval__sweep": True}))
    assert len(sweep["per_layer"]) == 2  # the tiny model's two layers
    bucc = direct("bucc", cfg=make_cfg(data_dir=str(data_dir), langs=["de"], eval_split="dev"))
    assert "de" in bucc["thresholds"]


def test_eval_module_on_retrieval_target(make_cfg, data_dir):
    from adapterx.api import evaluate

    cfg = make_cfg(data_dir=str(data_dir), langs=["de"])
    module = train("mnli", cfg=cfg)
    results = evaluate(module=str(module), target="tatoeba", cfg=cfg)
    assert results["setup"] == "retrieval" and results["inter"] == ["mnli"]
    assert results["modules"][0]["path"] == str(module)
