"""Retrieval sentence vectors: XTREME's scripts by default (run_tatoeba.sh, run_bucc2018.sh), the
earlier adapterx choice (mean of hidden_states[7/12 depth]) as options."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from adapterx.api import direct
from adapterx.backbone import load_backbone
from adapterx.errors import AdapterxError
from adapterx.recipes.retrieval import (Representation, _embed, bucc_result, hidden_state_index,
                                        representations, xtreme_layer)

DE = ["Der Fluss tritt im Frühling über die Ufer.", "Die Stadt hat drei Museen.", "Er spielt gern Schach.",
      "Wir fahren morgen nach Berlin.", "Das Wetter ist heute schön.", "Die Preise stiegen stark.",
      "Die Stadt hat drei Museen."]
EN = ["The town has three museums.", "Prices rose sharply last year.", "The river floods its banks in spring.",
      "She likes to paint.", "We drive to Berlin tomorrow.", "The weather is nice today.", "He likes chess."]


def _by_hand(bb, texts: list[str], last_n_index: int | None, pool: str, hidden_state: int | None = None) -> np.ndarray:
    """Each text alone through the encoder; XTREME's `all_layer_outputs[-num_layers:][layer]`
    (or a plain hidden_states index), mean over every token or the first token."""
    depth = bb.model.config.num_hidden_layers
    rows = []
    for text in texts:
        enc = bb.tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            states = bb.model(**enc, output_hidden_states=True).hidden_states
        state = states[-depth:][last_n_index] if hidden_state is None else states[hidden_state]
        rows.append((state[0, 0] if pool == "cls" else state[0].mean(0)).numpy())
    return np.stack(rows)


def test_xtreme_layer_choices_and_indexing() -> None:
    # run_tatoeba.sh: LAYER=7 (NLAYER=12), 13 for XLM-R (NLAYER=24); run_bucc2018.sh: 7 for all
    assert xtreme_layer("tatoeba", 12) == 7 and xtreme_layer("tatoeba", 24) == 13
    assert xtreme_layer("bucc", 12) == 7 and xtreme_layer("bucc", 24) == 7
    assert xtreme_layer("tatoeba", 6) == 3 and xtreme_layer("tatoeba", 2) == 0  # 8/12 of the depth
    # the last N of the N+1 hidden states: layer L is hidden_states[L + 1]
    assert hidden_state_index(13, "xtreme") == 14 and hidden_state_index(13, "hidden_states") == 13


def test_default_representation_is_xtremes(make_cfg) -> None:
    cfg = make_cfg()
    bb = load_backbone(cfg.model, cfg.dtype, cfg.quant, cfg.device)
    (tatoeba,), chosen = representations(bb, cfg, "tatoeba")
    assert tatoeba == chosen == Representation("mean", 0, "xtreme")
    np.testing.assert_allclose(_embed(bb, cfg, DE, [tatoeba])[tatoeba], _by_hand(bb, DE, 0, "mean"),
                               rtol=1e-4, atol=1e-5)
    (bucc,), _ = representations(bb, cfg, "bucc")
    assert bucc == Representation("cls", 0, "xtreme")
    np.testing.assert_allclose(_embed(bb, cfg, EN, [bucc])[bucc], _by_hand(bb, EN, 0, "cls"), rtol=1e-4, atol=1e-5)
    # an explicit layer is XTREME's --specific_layer: 1 = the second layer's output
    (second,), _ = representations(bb, make_cfg(**{"retrieval__layer": 1}), "tatoeba")
    np.testing.assert_allclose(_embed(bb, cfg, DE, [second])[second], _by_hand(bb, DE, 1, "mean"),
                               rtol=1e-4, atol=1e-5)
    # the earlier choice, kept as options: hidden_states index (0 = embeddings), mean pooling
    old = make_cfg(**{"retrieval__layer_index": "hidden_states", "retrieval__pool": "mean"})
    (rep,), _ = representations(bb, old, "bucc")
    assert rep.hidden_state == 1  # 7/12 of 2 layers, rounded
    np.testing.assert_allclose(_embed(bb, old, EN, [rep])[rep], _by_hand(bb, EN, None, "mean", hidden_state=1),
                               rtol=1e-4, atol=1e-5)
    with pytest.raises(AdapterxError, match="too deep"):
        representations(bb, make_cfg(**{"retrieval__layer": 2}), "tatoeba")  # xtreme: 0..1
    with pytest.raises(AdapterxError, match="retrieval.pool"):
        make_cfg(**{"retrieval__pool": "max"})


def _write_bucc(root: Path) -> dict[str, dict]:
    """A small BUCC-format de-en dev split (with one repeated German sentence)."""
    folder = root / "bucc"
    folder.mkdir(parents=True)
    de = {f"de-{i:06d}": t for i, t in enumerate(DE)}
    en = {f"en-{i:06d}": t for i, t in enumerate(EN)}
    gold = [("de-000000", "en-000002"), ("de-000002", "en-000006"), ("de-000003", "en-000004"),
            ("de-000004", "en-000005"), ("de-000005", "en-000001")]
    for name, rows in (("de", de), ("en", en)):
        (folder / f"de-en.dev.{name}").write_text("".join(f"{k}\t{v}\n" for k, v in rows.items()), encoding="utf-8")
    (folder / "de-en.dev.gold").write_text("".join(f"{a}\t{b}\n" for a, b in gold), encoding="utf-8")
    return {"dev": {"source": de, "target": en, "gold": gold}}


def test_bucc_run_scores_xtreme_vectors_and_records_them(make_cfg, tmp_path) -> None:
    data = _write_bucc(tmp_path / "data")
    cfg = make_cfg(data_dir=str(tmp_path / "data"), langs=["de"], eval_split="dev")
    results = direct("bucc", cfg=cfg)
    assert results["representation"] == {"pool": "cls", "layer": 0, "layer_index": "xtreme", "hidden_state": 1}
    (saved,) = Path(cfg.output).glob(f"bucc/retrieval-*{results['config_hash'][:8]}/results.json")
    assert json.loads(saved.read_text())["representation"] == results["representation"]
    # the run's threshold and F1 are those of first-token vectors of the first layer's output
    bb = load_backbone(cfg.model, cfg.dtype, cfg.quant, cfg.device)
    vectors = {"dev": (_by_hand(bb, DE, 0, "cls"), _by_hand(bb, EN, 0, "cls"))}
    expected = bucc_result(data, vectors, "dev")
    assert results["thresholds"]["de"] == pytest.approx(expected.scores["threshold"], rel=1e-4)
    assert results["per_language"]["de"] == pytest.approx(expected.primary)
