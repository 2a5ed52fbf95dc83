"""Recipe: retrieval targets (Tatoeba, BUCC) scored from representations, no target training.

Sentence vectors are mean-pooled hidden states of one layer of the base encoder, or of the base
with intermediate modules active (setup `retrieval`), as XTREME scores XLM-R."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from adapterx.backbone import Backbone, load_backbone
from adapterx.composition import Composition
from adapterx.configs import RunConfig
from adapterx.data.loading import eval_sample_key, load_eval_examples, load_examples
from adapterx.evaluation import EvalResult
from adapterx.methods import get_method
from adapterx.metrics import retrieval as retrieval_metrics
from adapterx.recipes.common import provenance
from adapterx.recipes.train_module import ModuleRecord, model_id, train_module, trainable_task
from adapterx.report.console import console
from adapterx.report.results import print_table, write_results
from adapterx.report.scores import write_scores
from adapterx.store import atomic_dir, entry_lock, is_complete, stable_hash, write_json_atomic
from adapterx.tasks import Task, check_languages


def default_layer(num_layers: int) -> int:
    """7/12 of the depth: layer 14 of XLM-R Large's 24, the layer XTREME retrieves with."""
    return max(1, round(num_layers * 7 / 12))


@torch.inference_mode()
def embed(bb: Backbone, texts: list[str], layers: list[int], max_length: int, batch_size: int) -> dict[int, np.ndarray]:
    """Mean-pooled (over real tokens) hidden states of each requested layer, one row per text."""
    bb.model.eval()
    out: dict[int, list[np.ndarray]] = {layer: [] for layer in layers}
    order = np.argsort([len(t) for t in texts])  # similar lengths per batch: less padding
    for start in range(0, len(texts), batch_size):
        idx = order[start:start + batch_size]
        enc = bb.tokenizer([texts[i] for i in idx], truncation=True, max_length=max_length,
                           padding=True, return_tensors="pt").to(bb.device)
        hidden = bb.model(**enc, output_hidden_states=True).hidden_states
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden[0].dtype)
        for layer in layers:
            pooled = (hidden[layer] * mask).sum(1) / mask.sum(1).clamp(min=1)
            out[layer].append(pooled.float().cpu().numpy())
    result = {}
    inverse = np.argsort(order)
    for layer, chunks in out.items():
        result[layer] = np.concatenate(chunks)[inverse] if chunks else np.zeros((0, 1))
    return result


def _layers(bb: Backbone, cfg: RunConfig) -> list[int]:
    depth = int(bb.fingerprint["num_hidden_layers"])
    if cfg.retrieval.sweep:
        return list(range(1, depth + 1))
    layer = cfg.retrieval.layer if cfg.retrieval.layer is not None else default_layer(depth)
    if layer > depth:
        from adapterx.errors import AdapterxError

        raise AdapterxError(f"retrieval.layer {layer} is deeper than the model ({depth} layers)",
                            f"pick 0..{depth}")
    return [layer]


def tatoeba_pairs(task: Task, cfg: RunConfig, lang: str) -> list[dict]:
    """The (sub-sampled) test pairs of one language, row i with row i."""
    return load_eval_examples(task, "test", lang, cfg.data_dir, cfg.training.max_eval_examples)


def score_tatoeba(bb: Backbone, cfg: RunConfig, pairs: list[dict], layers: list[int]) -> dict[int, EvalResult]:
    """Nearest-neighbour accuracy (cosine) from each non-English sentence to its English pair."""
    r = cfg.retrieval
    src = embed(bb, [p["source"] for p in pairs], layers, r.max_seq_length, r.batch_size)
    tgt = embed(bb, [p["target"] for p in pairs], layers, r.max_seq_length, r.batch_size)
    results = {}
    for layer in layers:
        scores = retrieval_metrics.tatoeba_accuracy(src[layer], tgt[layer])
        preds = [int(i) for i in retrieval_metrics.nearest_neighbours(src[layer], tgt[layer])]
        results[layer] = EvalResult(scores=scores, predictions=preds, n_examples=len(pairs),
                                    primary=scores["accuracy"])
    return results


def bucc_data(task: Task, cfg: RunConfig, lang: str) -> dict[str, dict]:
    """The dev split (for the threshold) and the evaluated split of one language; refuses a split
    without gold alignments."""
    split = cfg.eval_split
    data = {s: load_examples(task, s, lang, cfg.data_dir) for s in ("dev", split)}
    if not data[split]["gold"]:
        from adapterx.errors import DataError

        raise DataError(f"the BUCC {split} split for {lang} has no gold alignments (they are not public)",
                        hint="score on the dev split (--eval-split dev), or submit the predictions "
                             "file to the official scorer")
    return data


def score_bucc(bb: Backbone, cfg: RunConfig, data: dict[str, dict], layers: list[int]) -> dict[int, EvalResult]:
    """Ratio-margin mining; the score threshold is chosen on dev and applied to test (XTREME)."""
    split = cfg.eval_split
    r = cfg.retrieval
    vectors = {}
    for s, d in data.items():
        src_ids, tgt_ids = list(d["source"]), list(d["target"])
        vectors[s] = (src_ids, tgt_ids,
                      embed(bb, [d["source"][i] for i in src_ids], layers, r.max_seq_length, r.batch_size),
                      embed(bb, [d["target"][i] for i in tgt_ids], layers, r.max_seq_length, r.batch_size))
    results = {}
    for layer in layers:
        mined = {}
        for s, (src_ids, tgt_ids, src, tgt) in vectors.items():
            mined[s] = retrieval_metrics.mine_pairs(src[layer], tgt[layer], src_ids, tgt_ids)
        threshold = retrieval_metrics.best_threshold(mined["dev"], data["dev"]["gold"])
        scores = retrieval_metrics.bucc_f1(mined[split], data[split]["gold"], threshold)
        scores["threshold"] = threshold
        preds = [(a, b) for a, b, score in mined[split] if score >= threshold]
        results[layer] = EvalResult(scores=scores, predictions=preds, n_examples=len(data[split]["source"]),
                                    primary=scores["f1"])
    return results


# Per retrieval target: what one language's data is (read once, and checked before any embedding)
# and how it is scored from it.
LOADERS = {"tatoeba": tatoeba_pairs, "bucc": bucc_data}
SCORERS = {"tatoeba": score_tatoeba, "bucc": score_bucc}


def run_retrieval(inter: list[str], target: Task, cfg: RunConfig, command: str = "",
                  modules: list[ModuleRecord] | None = None) -> dict:
    """Score a retrieval target from the base encoder (no --inter) or with the intermediate
    modules active (trained or reused, or given as `modules`); writes results.json +
    predictions/ like any run."""
    langs = check_languages(target, cfg.langs)
    if modules is None:
        for name in inter:
            trainable_task(name)
        modules = [train_module(name, cfg.for_intermediate()) for name in inter]
    payload = {"target": target.name, "modules": [m.key for m in modules], "model": model_id(cfg.model),
               "quant": cfg.quant, "dtype": cfg.dtype, "method": cfg.method, "langs": langs,
               "split": cfg.eval_split, "retrieval": cfg.retrieval.__dict__,
               "max_eval_examples": cfg.training.max_eval_examples,
               **eval_sample_key(cfg.training.max_eval_examples, cfg.seed)}
    key = stable_hash(payload)
    name = "-".join(["retrieval", *inter, cfg.method if inter else "base", key[:8]])
    run_dir = Path(cfg.output) / target.name / name
    with entry_lock(run_dir):
        if is_complete(run_dir):
            console.print(f"[green]already done[/]: {run_dir} (same config); showing its results")
            results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
        else:
            results = _score(inter, target, cfg, modules, langs, key, run_dir, command)
    print_table(results)
    console.print(f"results: {run_dir / 'results.json'}")
    return results


def _score(inter: list[str], target: Task, cfg: RunConfig, modules: list[ModuleRecord], langs: list[str],
           key: str, run_dir: Path, command: str) -> dict:
    from adapterx.recipes.target import attach_modules

    bb = load_backbone(cfg.model, cfg.dtype, cfg.quant, cfg.device, cfg.trust_remote_code)
    if modules:
        method = get_method(cfg.method)
        method.prepare(bb)
        attach_modules(bb, cfg, modules)
        method.compose(bb, Composition("stack", tuple(inter)), None)
    layers = _layers(bb, cfg)
    reported = layers[0] if len(layers) == 1 else (cfg.retrieval.layer or default_layer(len(layers)))
    start = time.perf_counter()
    per_layer: dict[int, dict[str, EvalResult]] = {layer: {} for layer in layers}
    data = {lang: LOADERS[target.name](target, cfg, lang) for lang in langs}
    for lang in langs:
        with console.status(f"embedding {target.name} {lang}"):
            for layer, result in SCORERS[target.name](bb, cfg, data[lang], layers).items():
                per_layer[layer][lang] = result
    chosen = per_layer[reported]
    metric = "f1" if target.metric == "bucc" else "accuracy"
    per_language = {lang: r.primary for lang, r in chosen.items()}
    results = {
        "target": target.name, "metric": metric, "setup": "retrieval", "inter": list(inter),
        "method": cfg.method if inter else "none", "model": cfg.model, "quant": cfg.quant, "seed": cfg.seed,
        "per_language": per_language, "average": sum(per_language.values()) / len(per_language),
        "english_dev": None, "eval_split": cfg.eval_split, "layer": reported,
        "n_examples": {lang: r.n_examples for lang, r in chosen.items()},
        "train_seconds": 0.0, "eval_seconds": round(time.perf_counter() - start, 2), "peak_memory_mb": None,
        "trainable_params": 0, "config_hash": key, "command": command,
        "modules": [{"task": m.task, "path": str(m.path), "key": m.key} for m in modules],
        "schema_version": 1, **provenance(),
    }
    if target.name == "bucc":
        results["thresholds"] = {lang: r.scores["threshold"] for lang, r in chosen.items()}
    if len(layers) > 1:
        results["per_layer"] = {str(layer): {lang: r.primary for lang, r in res.items()}
                                for layer, res in per_layer.items()}
    with atomic_dir(run_dir) as tmp:
        folder = tmp / "predictions" / (target.xtreme_name or target.name)
        folder.mkdir(parents=True)
        for lang, result in chosen.items():
            lines = [f"{a}\t{b}" for a, b in result.predictions] if target.name == "bucc" \
                else [str(i) for i in result.predictions]
            (folder / f"{cfg.eval_split}-{lang}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        write_json_atomic(tmp / "adapterx.json", {"kind": "run", "key": key, "config": cfg.to_dict()})
        if target.name == "tatoeba":  # per-pair correctness, for the report's intervals and paired tests
            write_scores(tmp, target, cfg.eval_split, chosen, data)
        write_results(tmp, results)
    return results
