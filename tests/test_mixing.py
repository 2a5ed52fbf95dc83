"""The paper's alternatives to plain English intermediate training: translated training data mixed
in (`mix.*`) and continued masked-language modelling (`mlm.*`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from adapterx.api import build_config, train
from adapterx.backbone import load_backbone
from adapterx.cli import main
from adapterx.data.mixing import mix_translated, read_mlm_lines, tokenize_mlm
from adapterx.errors import AdapterxError, DataError
from adapterx.heads import ClassificationHead, TaskModel
from adapterx.multihead import MultiHeadModel, build_mlm_head
from adapterx.presets.tiny import TINY_DATA
from adapterx.store import read_meta
from adapterx.tasks import get_task

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """The shipped tiny data plus translated MNLI (de, fr) and MLM text (en, de)."""
    root = tmp_path_factory.mktemp("data")
    for sub in TINY_DATA.iterdir():
        (root / sub.name).symlink_to(sub)
    for sub in ("translated", "mlm"):
        (root / sub).symlink_to(FIXTURES / sub)
    return root


def test_mix_keeps_the_size_and_takes_the_ratio(data_dir):
    mnli = get_task("mnli")
    english = [{"id": str(i), "text_a": "a", "text_b": "b", "label": "neutral"} for i in range(20)]
    mixed, taken = mix_translated(mnli, english, data_dir, ["de", "fr"], 0.5, seed=0)
    assert len(mixed) == 20 and taken == {"de": 5, "fr": 5}
    assert sum(ex["id"].startswith("de:") for ex in mixed) == 5
    assert sum(ex["id"] in {str(i) for i in range(20)} for ex in mixed) == 10
    # a language with fewer translations than its share gives what it has (fr has 9)
    _, taken = mix_translated(mnli, english, data_dir, ["fr"], 1.0, seed=0)
    assert taken == {"fr": 9}
    with pytest.raises(DataError, match=r"translated/it/mnli/train\.tsv"):
        mix_translated(mnli, english, data_dir, ["it"], 0.5, seed=0)
    with pytest.raises(AdapterxError, match="--data-dir"):
        mix_translated(mnli, english, None, ["de"], 0.5, seed=0)


def test_mlm_text_reading(data_dir, tiny_model):
    lines = read_mlm_lines(data_dir, ["en", "de"], None, seed=0)
    assert len(lines["en"]) == 5 and len(lines["de"]) == 4  # blank lines skipped
    assert len(read_mlm_lines(data_dir, ["en"], 2, seed=0)["en"]) == 2
    with pytest.raises(DataError, match=r"mlm/sw\.txt"):
        read_mlm_lines(data_dir, ["sw"], None, seed=0)
    bb = load_backbone(str(tiny_model), "fp32", "none", "cpu")
    features = tokenize_mlm(lines, bb.tokenizer, 16)
    assert len(features) == 9 and max(len(x) for x in features["input_ids"]) <= 16


def test_mlm_gradients_reach_the_module_and_a_pretrained_head_stays_frozen(tiny_model, tmp_path):
    from transformers import AutoModelForMaskedLM, DataCollatorForLanguageModeling

    from adapterx.composition import Composition
    from adapterx.configs.methods import LoraSettings
    from adapterx.methods import get_method

    # a checkpoint with an MLM head: the tiny model saved as XLMRobertaForMaskedLM
    AutoModelForMaskedLM.from_pretrained(str(tiny_model)).save_pretrained(tmp_path / "mlm-model")
    load_backbone(str(tiny_model), "fp32", "none", "cpu").tokenizer.save_pretrained(tmp_path / "mlm-model")
    for model_dir, expected in ((tiny_model, "fresh"), (tmp_path / "mlm-model", "pretrained")):
        bb = load_backbone(str(model_dir), "fp32", "none", "cpu")
        lora = get_method("lora")
        lora.add(bb, "m", LoraSettings(r=2))
        lora.compose(bb, Composition("direct"), "m")
        head, how = build_mlm_head(bb)
        assert how == expected
        # the output layer is the encoder's own (frozen) embedding matrix, not a copy
        out = head.decoder.weight if how == "pretrained" else head._embeddings[0].weight
        assert out is bb.model.get_input_embeddings().weight and not out.requires_grad
        task_model = TaskModel(bb.model, ClassificationHead(64, 3), "classification")
        model = MultiHeadModel(bb.model, {"mnli": task_model}, head)
        enc = bb.tokenizer(["Clara lives in Hanoi and works as a teacher.", "The museum is closed on Mondays."],
                           return_special_tokens_mask=True)
        torch.manual_seed(0)
        batch = DataCollatorForLanguageModeling(bb.tokenizer, mlm_probability=0.5)(
            [{k: enc[k][i] for k in enc} for i in range(2)])
        loss = model(task_id=torch.tensor([1, 1]), **batch)["loss"]
        loss.backward()
        lora_grads = [p.grad for n, p in bb.model.named_parameters() if "lora_" in n]
        assert lora_grads and all(g is not None for g in lora_grads)
        assert all(p.grad is None for p in task_model.head.parameters())  # MLM does not train task heads
        trains = [p.requires_grad for p in head.parameters() if p is not bb.model.get_input_embeddings().weight]
        assert any(trains) == (expected == "fresh")  # a pretrained head stays as it was


def _cfg(tiny_model, data_dir, tmp_path, **overrides):
    base = {"model": str(tiny_model), "data_dir": str(data_dir), "device": "cpu",
            "modules_dir": str(tmp_path / "modules"), "output": str(tmp_path / "runs"),
            "training.epochs": 1, "training.max_train_examples": 16, "training.max_dev_examples": 8,
            "training.save_checkpoints": False, "training.max_seq_length": 64, "training.batch_size": 8,
            "bottleneck.reduction_factor": 4, "lora.r": 4}
    return build_config(overrides={**base, **overrides})


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_mixed_and_mlm_modules_train_and_get_their_own_keys(tiny_model, data_dir, tmp_path):
    plain = train("mnli", cfg=_cfg(tiny_model, data_dir, tmp_path))
    mixed = train("mnli", cfg=_cfg(tiny_model, data_dir, tmp_path, **{"mix.langs": "de,fr", "mix.ratio": 0.5}))
    mlm = train("mnli", cfg=_cfg(tiny_model, data_dir, tmp_path, **{"mlm.langs": "en,de", "mlm.ratio": 0.3}))
    assert len({plain, mixed, mlm}) == 3
    assert "mix" not in read_meta(plain) and "mlm" not in read_meta(plain)
    meta = read_meta(mixed)
    assert meta["mix"] == {"langs": ["de", "fr"], "ratio": 0.5, "n_translated": {"de": 4, "fr": 4}}
    assert meta["n_train_examples"] == 16
    meta = read_meta(mlm)
    assert meta["mlm"]["langs"] == ["en", "de"] and meta["mlm"]["ratio"] == 0.3
    assert meta["mlm"]["n_lines"] == {"en": 5, "de": 4} and meta["mlm_head"] == "fresh"
    # another mix ratio is another module; the same settings reuse the one made
    assert train("mnli", cfg=_cfg(tiny_model, data_dir, tmp_path, **{"mix.langs": "de,fr", "mix.ratio": 0.25})) != mixed
    assert train("mnli", cfg=_cfg(tiny_model, data_dir, tmp_path, **{"mix.langs": "de,fr", "mix.ratio": 0.5})) == mixed


def test_multitask_with_mixing_and_mlm(tiny_model, data_dir, tmp_path):
    cfg = _cfg(tiny_model, data_dir, tmp_path, method="lora", **{
        "mlm.langs": "de", "mlm.ratio": 0.25, "mix.langs": "de", "mix.ratio": 0.25,
        "multitask.sampling": "uniform"})
    with pytest.raises(DataError, match=r"translated/de/siqa/train\.jsonl"):  # only MNLI is translated
        train("mnli,siqa", cfg=cfg)
    cfg.mix.langs = None
    path = train("mnli,siqa", cfg=cfg)
    meta = read_meta(path)
    assert meta["mlm"]["langs"] == ["de"] and "mix" not in meta
    assert set(meta["multitask"]["probabilities"]) == {"mnli", "siqa", "mlm"}
    assert meta["multitask"]["probabilities"]["mlm"] == pytest.approx(0.25)
    assert meta["multitask"]["probabilities"]["mnli"] == pytest.approx(0.375)


@pytest.mark.parametrize("overrides, needles", [
    (("mix.langs=it",), ("translated/it/mnli/train.tsv", "mix.langs")),
    (("mlm.langs=sw",), ("mlm/sw.txt", "mlm.langs")),
    (("mix.ratio=1.5",), ("mix.ratio must be in [0, 1]",)),
    (("mlm.langs=de,de",), ("lists a language twice",)),
])
def test_bad_mixing_input_exits_2(tiny_model, data_dir, tmp_path, overrides, needles):
    args = ["train", "--task", "mnli", "--model", str(tiny_model), "--data-dir", str(data_dir), "--device", "cpu",
            "--modules-dir", str(tmp_path / "modules"), *overrides]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output
