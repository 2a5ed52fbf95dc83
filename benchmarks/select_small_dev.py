"""training.select on a tiny dev set: XCOPA zero-shot of the best-on-dev epoch vs the last epoch.

One training per seed, set up as `adapterx direct --target xcopa` does (the config's defaults,
`training.select` aside): the English dev set (COPA val, 20 items) is scored after every epoch by
adapterx's own selection callback; the final weights are evaluated, then the best epoch's weights
are restored and evaluated on the same items. Both selections see the same training run, so the
difference is the selection alone.

`--inter-module DIR` runs the `sequential` setup instead: the intermediate module in DIR (e.g. a SIQa
LoRA module of the module cache) and its head continue training on COPA, as `adapterx sequential`
does; `--set KEY=VALUE` passes config overrides (the module's own settings, so that it loads as
trained).

    python benchmarks/select_small_dev.py --model /tmp/e5 --data-dir ../shared/data --seeds 0,1,2
    python benchmarks/select_small_dev.py --model /tmp/e5 --data-dir ../shared/data --seeds 0,1,2 \
        --inter-module ~/.cache/adapterx/modules/siqa/lora-XXXX --set head.pooling=mean lora.r=8
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import torch
from transformers import set_seed

from adapterx.api import build_config, quiet_libraries
from adapterx.backbone import load_backbone
from adapterx.composition import Composition
from adapterx.data.features import Collator
from adapterx.data.loading import english_train_dev
from adapterx.evaluation import evaluate
from adapterx.methods import get_method, method_settings
from adapterx.recipes.common import build_model, eval_settings, train_features, train_settings
from adapterx.recipes.target import TARGET_MODULE, attach_modules, evaluate_languages, init_head
from adapterx.recipes.train_module import ModuleRecord
from adapterx.store import read_meta
from adapterx.report.results import per_language_scores
from adapterx.tasks import get_task
from adapterx.training import _SelectOnDev, train_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import default_output, machine, write_outputs  # noqa: E402


def one_seed(args: argparse.Namespace, seed: int) -> dict:
    """Train once; the XCOPA averages of the last and of the best-on-dev weights."""
    overrides = dict(item.split("=", 1) for item in args.set)
    cfg = build_config(overrides={**overrides, "model": args.model, "data_dir": args.data_dir, "method": args.method,
                                  "seed": seed, "device": "cpu", "training.save_checkpoints": False,
                                  "training.max_eval_examples": args.max_eval_examples})
    task = get_task("xcopa")
    train_ex, dev_ex = english_train_dev(task, cfg.data_dir, None, cfg.training.max_dev_examples, seed)
    bb = load_backbone(cfg.model, cfg.dtype, cfg.quant, cfg.device)
    set_seed(seed)
    method = get_method(cfg.method)
    method.prepare(bb)
    if args.inter_module:  # sequential: the intermediate module itself continues, as the target module
        record = ModuleRecord(read_meta(Path(args.inter_module))["task"], Path(args.inter_module), "", reused=True)
        attach_modules(bb, cfg, [record], continued=True)
    else:
        method.add(bb, TARGET_MODULE, method_settings(cfg.method, cfg))
    method.compose(bb, Composition("direct"), TARGET_MODULE, None)
    model = build_model(bb, task, cfg.head)
    if args.inter_module:
        init_head(model, task, [record], cfg.head.pooling)
    ev = eval_settings(task, cfg)
    selector = _SelectOnDev(model, lambda: evaluate(model, task, dev_ex, bb.tokenizer, ev, bb.device).primary)
    settings = train_settings(task, cfg)
    with tempfile.TemporaryDirectory() as work:  # the selection runs as a callback: select=last leaves the final weights
        train_model(model, train_features(task, train_ex, bb.tokenizer, ev, cfg), Collator(bb.tokenizer, task.kind),
                    dataclasses.replace(settings, select="last"), Path(work), bb.device,
                    bb.dtype, progress=False, callbacks=[selector])
    scores = {}
    for name in ("last", "best"):
        if name == "best":
            selector.restore_best()
        per_lang, _ = evaluate_languages(model, task, bb, cfg, cfg.eval_split, list(task.languages))
        per_language, average, _ = per_language_scores(task, per_lang)
        scores[name] = {"average": round(average, 2), "per_language": per_language}
    best_epoch = max(selector.history, key=lambda h: (h["dev"], -h["epoch"]))["epoch"]
    return {"seed": seed, "dev_history": selector.history, "best_epoch": best_epoch, "n_dev": len(dev_ex),
            **{f"{k}_average": v["average"] for k, v in scores.items()}, "scores": scores}


def main() -> None:
    """Parse options, run every seed, write JSON + markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--method", default="lora")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--max-eval-examples", type=int, default=None, help="per language")
    parser.add_argument("--out", default=None)
    parser.add_argument("--inter-module", default=None, help="sequential: continue this intermediate module folder")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides")
    args = parser.parse_args()
    quiet_libraries()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        rows.append(one_seed(args, seed))
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "scores"}), flush=True)
    mean = {k: round(sum(r[f"{k}_average"] for r in rows) / len(rows), 2) for k in ("best", "last")}
    table = [{"seed": r["seed"], "best epoch (dev)": r["best_epoch"], "select=best": r["best_average"],
              "select=last": r["last_average"]} for r in rows]
    table.append({"seed": "mean", "select=best": mean["best"], "select=last": mean["last"]})
    name = "select_small_dev_sequential" if args.inter_module else "select_small_dev"
    write_outputs(default_output(torch.device("cpu"), name, args.out),
                  {"machine": machine(), "args": vars(args), "runs": rows, "mean": mean},
                  list(table[0]), table, "XCOPA average: best-on-dev epoch vs last epoch (same training)"
                  + (f", sequential from {Path(args.inter_module).name}" if args.inter_module else ""))

if __name__ == "__main__":
    main()
