"""Task similarity and `adapterx suggest`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adapterx import api
from adapterx.analysis.similarity import centred_cosines, example_text, module_similarity, spearman
from adapterx.errors import AdapterxError


def test_centred_cosines_rank_the_nearer_task_first():
    target = np.array([1.0, 0.0, 5.0])
    cands = {"near": np.array([0.9, 0.1, 5.0]), "far": np.array([-1.0, 0.0, 5.0])}
    sims = centred_cosines(target, cands)
    assert sims["near"] > 0 > sims["far"]  # the shared offset (5.0) is removed before the cosine


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2], [1, 2]) is None
    assert spearman([1, 2, 3], [5, 5, 5]) is None


def test_example_text_per_kind():
    assert example_text({"text_a": "a", "text_b": "b"}, "classification") == "a b"
    assert example_text({"context": "c", "question": "q", "choices": ["x", "y"]}, "multiple_choice") == "c q x y"
    assert example_text({"tokens": ["w1", "w2"]}, "tagging") == "w1 w2"
    with pytest.raises(AdapterxError):
        example_text({}, "speech")


@pytest.mark.heavy  # over 4 s: CI runs it in its second step
def test_suggest_ranks_tasks_and_correlates_with_measured_deltas(make_cfg, tmp_path):
    cfg = make_cfg(method="lora", langs=["et"])
    result = api.suggest("xcopa", inter="siqa,mnli,squad", cfg=cfg, n_examples=16)
    assert [r["task"] for r in result["ranking"]] and {r["rank"] for r in result["ranking"]} == {1, 2, 3}
    assert all(-1.0 <= r["similarity"] <= 1.0 for r in result["ranking"])
    for inter in ("siqa", "mnli", "squad"):
        api.stack(inter, "xcopa", cfg=cfg)
    api.direct("xcopa", cfg=cfg)
    result = api.suggest("xcopa", inter="siqa,mnli,squad", runs=cfg.output, cfg=cfg, n_examples=16)
    measured = result["measured"]
    assert measured["n_tasks"] == 3
    assert all(r["delta"] is not None and r["module_similarity"] is not None for r in result["ranking"])
    assert measured["spearman_representation"] is None or -1 <= measured["spearman_representation"] <= 1


def test_module_similarity_of_a_module_with_itself_is_one(make_cfg):
    path = api.train("mnli", cfg=make_cfg(method="lora"))
    assert module_similarity(path, path) == pytest.approx(1.0)
    bottleneck = api.train("mnli", cfg=make_cfg())
    with pytest.raises(AdapterxError, match="not a LoRA module"):
        module_similarity(path, bottleneck)


def _results(root, name: str, **fields) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(__import__("json").dumps({"model": "m", **fields}))


def test_measured_deltas_of_trained_and_retrieval_targets(tmp_path):
    from adapterx.recipes.suggest import measured_deltas

    _results(tmp_path, "x/d0", target="xcopa", setup="direct", inter=[], method="bottleneck", average=50.0)
    _results(tmp_path, "x/d1", target="xcopa", setup="direct", inter=[], method="bottleneck", average=52.0)
    _results(tmp_path, "x/s0", target="xcopa", setup="stack", inter=["siqa"], method="bottleneck", average=53.0)
    _results(tmp_path, "x/f0", target="xcopa", setup="fuse", inter=["siqa", "mnli"], method="bottleneck", average=60.0)
    _results(tmp_path, "x/l0", target="xcopa", setup="stack", inter=["mnli"], method="lora", average=70.0)  # no lora direct
    # Tatoeba trains nothing: the base encoder's score (inter []) is the reference of each module's
    _results(tmp_path, "t/base", target="tatoeba", setup="retrieval", inter=[], method="none", average=80.0)
    _results(tmp_path, "t/siqa", target="tatoeba", setup="retrieval", inter=["siqa"], method="bottleneck", average=78.5)
    _results(tmp_path, "t/mnli", target="tatoeba", setup="retrieval", inter=["mnli"], method="bottleneck", average=81.0)
    _results(tmp_path, "t/other", target="tatoeba", setup="retrieval", inter=["squad"], method="bottleneck",
             average=10.0, model="another base")  # no base score of that model: not a delta
    xcopa = measured_deltas(tmp_path, "xcopa")
    assert set(xcopa) == {"siqa"} and xcopa["siqa"]["delta"] == pytest.approx(2.0)
    tatoeba = measured_deltas(tmp_path, "tatoeba")
    assert {k: v["delta"] for k, v in tatoeba.items()} == pytest.approx({"siqa": -1.5, "mnli": 1.0})


def test_spearman_ties_take_their_mean_rank():
    # x ranks 1, 2.5, 2.5, 4 against y's 1..4: Pearson of the ranks
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138)
