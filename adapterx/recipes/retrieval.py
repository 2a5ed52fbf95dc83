"""Recipe: retrieval targets (Tatoeba, BUCC) scored from representations, no target training.

Sentence vectors are pooled hidden states of one layer of the base encoder, or of the base with
intermediate modules active (setup `retrieval`). By default they are those of XTREME's
scripts/run_tatoeba.sh and run_bucc2018.sh (`xtreme_layer`, `xtreme_pool`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from adapterx.backbone import Backbone
from adapterx.configs import RunConfig
from adapterx.data.loading import eval_sample_key, load_eval_examples, load_examples
from adapterx.evaluation import EvalResult
from adapterx.metrics import retrieval as retrieval_metrics
from adapterx.recipes.common import finished_results, provenance
from adapterx.recipes.train_module import ModuleRecord, model_id, train_module, trainable_task
from adapterx.report.console import console
from adapterx.report.results import print_table, write_results
from adapterx.report.scores import write_scores
from adapterx.store import atomic_dir, entry_lock, is_complete, stable_hash, write_meta
from adapterx.tasks import Task, check_languages


# XTREME's --specific_layer: run_tatoeba.sh uses 7 (13 for XLM-R's 24 layers), run_bucc2018.sh 7.
XTREME_LAYER = {"tatoeba": {12: 7, 24: 13}, "bucc": {12: 7, 24: 7}}
# run_bucc2018.sh passes --pool_type cls; run_tatoeba.sh keeps evaluate_retrieval.py's mean.
XTREME_POOL = {"tatoeba": "mean", "bucc": "cls"}


def default_layer(num_layers: int) -> int:
    """7/12 of the depth as a hidden_states index (retrieval.layer_index=hidden_states)."""
    return max(1, round(num_layers * 7 / 12))


def xtreme_layer(task: str, num_layers: int) -> int:
    """XTREME's --specific_layer for a model of this depth: the scripts' value for 12 and 24
    layers; another depth gets the 12-layer choice (output of layer 8 of 12) at the same
    relative depth."""
    if num_layers in XTREME_LAYER[task]:
        return XTREME_LAYER[task][num_layers]
    return min(num_layers - 1, max(0, round((XTREME_LAYER[task][12] + 1) * num_layers / 12) - 1))


def hidden_state_index(layer: int, layer_index: str) -> int:
    """The `hidden_states` entry a layer number selects. XTREME takes the last N entries (the N
    transformer layers' outputs, dropping the embeddings) and indexes into them, so its layer L
    is hidden_states[L + 1]."""
    return layer + 1 if layer_index == "xtreme" else layer


@dataclass(frozen=True)
class Representation:
    """How sentence vectors are made: pooling and the hidden_states entry (plus its name in
    the configured indexing, as results.json reports it)."""

    pool: str
    layer: int
    layer_index: str

    @property
    def hidden_state(self) -> int:
        """Index into the model's hidden_states."""
        return hidden_state_index(self.layer, self.layer_index)


def representations(bb: Backbone, cfg: RunConfig, task: str) -> tuple[list[Representation], Representation]:
    """The representations to score (every layer with retrieval.sweep) and the one reported."""
    r = cfg.retrieval
    depth = int(bb.fingerprint["num_hidden_layers"])
    pool = r.pool or XTREME_POOL[task]
    xtreme = r.layer_index == "xtreme"
    lowest, highest = (0, depth - 1) if xtreme else (0, depth)
    layer = r.layer if r.layer is not None else (xtreme_layer(task, depth) if xtreme else default_layer(depth))
    if layer > highest:
        from adapterx.errors import AdapterxError

        raise AdapterxError(f"retrieval.layer {layer} is too deep for the model ({depth} layers; "
                            f"retrieval.layer_index={r.layer_index})", f"pick {lowest}..{highest}")
    chosen = Representation(pool, layer, r.layer_index)
    if not r.sweep:
        return [chosen], chosen
    # a sweep covers every layer's output (not the embeddings), and the reported one
    sweep = [Representation(pool, i, r.layer_index) for i in range(0 if xtreme else 1, highest + 1)]
    return ([chosen] if chosen not in sweep else []) + sweep, chosen


@torch.inference_mode()
def embed(bb: Backbone, texts: list[str], layers: list[int], max_length: int, batch_size: int,
          pool: str = "mean") -> dict[int, np.ndarray]:
    """Pooled hidden states (indices into `hidden_states`) of each requested layer, one row per
    text. mean: over every real token, CLS and SEP included (XTREME's default pool mask); cls:
    the first real token."""
    bb.model.eval()
    out: dict[int, list[np.ndarray]] = {layer: [] for layer in layers}
    order = np.argsort([len(t) for t in texts])  # similar lengths per batch: less padding
    from adapterx.progress import bar

    for start in bar(range(0, len(texts), batch_size), f"embedding {len(texts)} sentences"):
        idx = order[start:start + batch_size]
        enc = bb.tokenizer([texts[i] for i in idx], truncation=True, max_length=max_length,
                           padding=True, return_tensors="pt").to(bb.device)
        hidden = bb.model(**enc, output_hidden_states=True).hidden_states
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden[0].dtype)
        first = enc["attention_mask"].argmax(dim=1)  # 0 unless the tokenizer pads on the left
        rows = torch.arange(first.shape[0], device=first.device)
        for layer in layers:
            if pool == "cls":
                pooled = hidden[layer][rows, first]
            else:
                pooled = (hidden[layer] * mask).sum(1) / mask.sum(1).clamp(min=1)
            out[layer].append(pooled.float().cpu().numpy())
    result = {}
    inverse = np.argsort(order)
    for layer, chunks in out.items():
        result[layer] = np.concatenate(chunks)[inverse] if chunks else np.zeros((0, 1))
    return result


def _embed(bb: Backbone, cfg: RunConfig, texts: list[str], reps: list[Representation]) -> dict[Representation, np.ndarray]:
    r = cfg.retrieval
    by_index = embed(bb, texts, sorted({rep.hidden_state for rep in reps}), r.max_seq_length, r.batch_size,
                     reps[0].pool)
    return {rep: by_index[rep.hidden_state] for rep in reps}


def tatoeba_pairs(task: Task, cfg: RunConfig, lang: str) -> list[dict]:
    """The (sub-sampled) test pairs of one language, row i with row i."""
    return load_eval_examples(task, "test", lang, cfg.data_dir, cfg.training.max_eval_examples)


def score_tatoeba(bb: Backbone, cfg: RunConfig, pairs: list[dict],
                  reps: list[Representation]) -> dict[Representation, EvalResult]:
    """Nearest-neighbour accuracy (cosine) from each non-English sentence to its English pair."""
    src = _embed(bb, cfg, [p["source"] for p in pairs], reps)
    tgt = _embed(bb, cfg, [p["target"] for p in pairs], reps)
    results = {}
    for rep in reps:
        scores = retrieval_metrics.tatoeba_accuracy(src[rep], tgt[rep])
        preds = [int(i) for i in retrieval_metrics.nearest_neighbours(src[rep], tgt[rep])]
        results[rep] = EvalResult(scores=scores, predictions=preds, n_examples=len(pairs),
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


def score_bucc(bb: Backbone, cfg: RunConfig, data: dict[str, dict],
               reps: list[Representation]) -> dict[Representation, EvalResult]:
    """Ratio-margin mining; the score threshold is chosen on dev and applied to test (XTREME)."""
    vectors = {s: (_embed(bb, cfg, list(d["source"].values()), reps),
                   _embed(bb, cfg, list(d["target"].values()), reps)) for s, d in data.items()}
    return {rep: bucc_result(data, {s: (src[rep], tgt[rep]) for s, (src, tgt) in vectors.items()},
                             cfg.eval_split) for rep in reps}


def bucc_result(data: dict[str, dict], vectors: dict[str, tuple[np.ndarray, np.ndarray]], split: str) -> EvalResult:
    """Mine each split from its vectors (rows in the order of `data`'s id -> text maps), choose
    the threshold on dev, score `split`. The texts go to the mining: XTREME's mine_bitext embeds
    each distinct sentence once and read_candidate2score drops pairs with a repeated sentence."""
    mined = {}
    for s, (src, tgt) in vectors.items():
        d = data[s]
        mined[s] = retrieval_metrics.mine_pairs(src, tgt, list(d["source"]), list(d["target"]),
                                                src_texts=list(d["source"].values()),
                                                tgt_texts=list(d["target"].values()))
    threshold = retrieval_metrics.best_threshold(mined["dev"], data["dev"]["gold"])
    scores = retrieval_metrics.bucc_f1(mined[split], data[split]["gold"], threshold)
    scores["threshold"] = threshold
    preds = [(a, b) for a, b, score in mined[split] if score >= threshold]
    return EvalResult(scores=scores, predictions=preds, n_examples=len(data[split]["source"]),
                      primary=scores["f1"])


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
            results = finished_results(run_dir)
        else:
            results = _score(inter, target, cfg, modules, langs, key, run_dir, command)
    print_table(results)
    console.print(f"results: {run_dir / 'results.json'}")
    return results


def _score(inter: list[str], target: Task, cfg: RunConfig, modules: list[ModuleRecord], langs: list[str],
           key: str, run_dir: Path, command: str) -> dict:
    from adapterx.assemble import assemble

    bb = assemble(cfg, modules=modules).bb  # the base, with the modules (if any) frozen and active
    reps, reported = representations(bb, cfg, target.name)
    start = time.perf_counter()
    per_layer: dict[Representation, dict[str, EvalResult]] = {rep: {} for rep in reps}
    data = {lang: LOADERS[target.name](target, cfg, lang) for lang in langs}
    for lang in langs:
        with console.status(f"embedding {target.name} {lang}"):
            for rep, result in SCORERS[target.name](bb, cfg, data[lang], reps).items():
                per_layer[rep][lang] = result
    chosen = per_layer[reported]
    metric = "f1" if target.metric == "bucc" else "accuracy"
    per_language = {lang: r.primary for lang, r in chosen.items()}
    results = {
        "target": target.name, "metric": metric, "setup": "retrieval", "inter": list(inter),
        "method": cfg.method if inter else "none", "model": cfg.model, "quant": cfg.quant, "seed": cfg.seed,
        "per_language": per_language, "average": sum(per_language.values()) / len(per_language),
        "english_dev": None, "eval_split": cfg.eval_split, "layer": reported.layer,
        # how the sentence vectors were made (XTREME's scripts unless configured otherwise)
        "representation": {"pool": reported.pool, "layer": reported.layer, "layer_index": reported.layer_index,
                           "hidden_state": reported.hidden_state},
        "n_examples": {lang: r.n_examples for lang, r in chosen.items()},
        "train_seconds": 0.0, "eval_seconds": round(time.perf_counter() - start, 2), "peak_memory_mb": None,
        "trainable_params": 0, "config_hash": key, "command": command,
        "modules": [{"task": m.task, "path": str(m.path), "key": m.key} for m in modules],
        "schema_version": 1, **provenance(),
    }
    if target.name == "bucc":
        results["thresholds"] = {lang: r.scores["threshold"] for lang, r in chosen.items()}
    if len(reps) > 1:
        results["per_layer"] = {str(rep.layer): {lang: r.primary for lang, r in res.items()}
                                for rep, res in per_layer.items()}
    with atomic_dir(run_dir) as tmp:
        folder = tmp / "predictions" / (target.xtreme_name or target.name)
        folder.mkdir(parents=True)
        for lang, result in chosen.items():
            lines = [f"{a}\t{b}" for a, b in result.predictions] if target.name == "bucc" \
                else [str(i) for i in result.predictions]
            (folder / f"{cfg.eval_split}-{lang}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        write_meta(tmp, {"kind": "run", "key": key, "config": cfg.to_dict()})
        if target.name == "tatoeba":  # per-pair correctness, for the report's intervals and paired tests
            write_scores(tmp, target, cfg.eval_split, chosen, data)
        write_results(tmp, results)
    return results
