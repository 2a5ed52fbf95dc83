"""Recipe: compose intermediate modules, train on the target's English data, evaluate zero-shot on
every language, write results.json + predictions/ and print the per-language table."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from transformers import set_seed

from adapterx.backbone import Backbone, load_backbone
from adapterx.composition import Composition
from adapterx.configs import RunConfig
from adapterx.data.bad_rows import applies_policy
from adapterx.data.bad_rows import record as bad_rows_record
from adapterx.data.features import Collator
from adapterx.data.loading import english_train_dev_total, eval_sample_key, load_eval_examples
from adapterx.errors import AdapterxError, UnknownChoiceError
from adapterx.evaluation import EvalResult, evaluate
from adapterx.heads import TaskModel
from adapterx.leakage import guard_for_run, save_train_hashes
from adapterx.methods import get_method, method_settings, method_spec, trainable_parameters
from adapterx.recipes.common import (asdict, build_model, eval_settings, head_fits, head_spec,
                                     learning_settings, load_head, provenance, save_head,
                                     train_features, train_settings)
from adapterx.recipes.multitask import module_heads, stacked, train_multitask
from adapterx.recipes.train_module import ModuleRecord, model_id, train_module, trainable_task
from adapterx.report.console import console
from adapterx.report.results import per_language_scores, print_table, write_predictions, write_results
from adapterx.store import (atomic_dir, check_base, entry_lock, is_complete, read_meta, stable_hash,
                            write_json_atomic)
from adapterx.tasks import Task, all_tasks, check_languages, get_task
from adapterx.training import TrainOutcome, train_model

log = logging.getLogger(__name__)
TARGET_MODULE = "target"  # name of the module trained on the target task inside the model


def check_eval_split(task: Task, split: str) -> str:
    """`--eval-split` must be one the target has (after XTREME's aliases)."""
    if split not in ("test", "dev"):
        raise UnknownChoiceError("--eval-split", split, ("dev", "test"))
    if task.resolve_split(split) not in task.splits:
        raise AdapterxError(f"{task.name} has no {split} split (it has: {', '.join(task.splits)})",
                            f"use --eval-split {'test' if split == 'dev' else 'dev'}")
    return split


def attach_modules(bb: Backbone, cfg: RunConfig, modules: list[ModuleRecord], continued: bool = False) -> None:
    """Load each intermediate module (frozen) after checking it was trained on this base;
    `continued` (sequential): the one module loads trainable, as the target module."""
    method = get_method(cfg.method)
    for record in modules:
        meta = read_meta(record.path)
        check_base(meta, bb.fingerprint, cfg.model, record.path)
        if meta.get("method") != cfg.method:
            raise AdapterxError(f"module {record.path} is a {meta.get('method')} module, not {cfg.method}",
                                f"pass --method {meta.get('method')}")
        if continued:  # its folder is only read: the continued module is saved in the run
            method.load(bb, record.path, TARGET_MODULE, trainable=True)
        else:
            method.load(bb, record.path, record.task)


def init_head(model: TaskModel, task: Task, modules: list[ModuleRecord], pooling: str = "cls") -> str | None:
    """Start the target head from the first intermediate module whose head fits the target;
    return that module's task name (None: the head stays fresh)."""
    for record in modules:
        for name, spec, folder in module_heads(read_meta(record.path), record.path):  # multi-task: one per task
            if head_fits(spec, task, pooling):
                load_head(model, folder, spec, task)
                where = f"the {name} module's head" if name == record.task else f"module {record.task}'s {name} head"
                console.print(f"target head starts from {where}")
                return name
    return None


def evaluate_languages(model: TaskModel, task: Task, bb: Backbone, cfg: RunConfig, split: str,
                       langs: list[str]) -> tuple[dict[str, EvalResult], dict[str, list[dict]]]:
    """Zero-shot evaluation on every requested language of `split`."""
    ev = eval_settings(task, cfg)
    results, examples = {}, {}
    with get_method(cfg.method).eval_context(bb):  # e.g. a final fp32 LoRA model runs merged
        for lang in langs:
            examples[lang] = load_eval_examples(task, split, lang, cfg.data_dir, cfg.training.max_eval_examples)
            with console.status(f"evaluating {task.name} {lang} ({len(examples[lang])} examples)"):
                results[lang] = evaluate(model, task, examples[lang], bb.tokenizer, ev, bb.device, lang)
    return results, examples


def dev_record(outcome: TrainOutcome, n_dev: int, total: int | None) -> dict:
    """results.json's account of model selection: which weights were kept, on how many English dev
    examples they were chosen, and whether those are a subsample (`training.max_dev_examples`)."""
    return {"select": outcome.select, "english_dev_best": outcome.best_dev, "english_dev_n": n_dev,
            "english_dev_total": total, "english_dev_subsampled": total is not None and n_dev < total}


@applies_policy
def run_target(setup: str, inter: list[str], target: str, cfg: RunConfig, command: str = "") -> dict:
    """Compose -> train on the target's English data -> zero-shot table; returns results.json's dict."""
    comp = Composition(setup, tuple(inter))
    spec = method_spec(cfg.method)  # unknown method: fail before any work
    comp.check_method(cfg.method)
    alias = spec.setup_aliases.get(comp.setup)
    if alias:  # e.g. sequential with full fine-tuning is full-stilts: both are one run
        console.print(f"{comp.setup} with --method {cfg.method} is {spec.setup_name(alias)}: "
                      f"running `{alias} --method {cfg.method}`")
        comp = Composition(alias, tuple(inter))
    if setup == "merge":  # a wrong --weights count: refused before any module trains
        cfg.merge.weights_for(len(inter))
    task = get_task(target)
    if not task.is_target:
        targets = sorted(n for n, t in all_tasks().items() if t.is_target)
        raise UnknownChoiceError("target task", target, targets,
                                 hint=f"{target} is an intermediate task; train it with `adapterx train --task {target}`")
    if task.kind == "retrieval":
        if setup == "fuse":
            raise AdapterxError(f"{task.name} has no training data, so there is no fusion to learn",
                                f"score the modules with `adapterx stack --inter {','.join(inter)} "
                                f"--target {task.name}`, or the base with `adapterx direct --target {task.name}`")
        from adapterx.recipes.retrieval import run_retrieval

        check_eval_split(task, cfg.eval_split)
        if setup == "multitask":  # scored from the one multi-task module's representations
            record = train_multitask(list(inter), cfg.for_intermediate(), target=task)
            return run_retrieval([record.task], task, cfg, command, modules=[record])
        return run_retrieval(list(inter), task, cfg, command)
    langs = check_languages(task, cfg.langs)
    split = check_eval_split(task, cfg.eval_split)
    for name in inter:
        trainable_task(name)
    train_ex, dev_ex, dev_total = english_train_dev_total(task, cfg.data_dir, cfg.training.max_train_examples,
                                                          cfg.training.max_dev_examples, cfg.seed)
    # Before any training: the target's data now, each intermediate module's before it trains.
    guard = guard_for_run(task, cfg, split, langs, train_ex, dev_ex)
    modules = ([train_multitask(list(inter), cfg.for_intermediate(), target=task, guard=guard)]
               if setup == "multitask"
               else [train_module(name, cfg.for_intermediate(), guard=guard) for name in inter])
    payload = {"setup": comp.to_dict(), "target": task.name, "modules": [m.key for m in modules],
               "model": model_id(cfg.model), "quant": cfg.quant, "dtype": cfg.dtype, "method": cfg.method,
               "method_settings": asdict(method_settings(cfg.method, cfg)), "fusion": asdict(cfg.fusion),
               **({"merge": asdict(cfg.merge)} if comp.setup == "merge" else {}),
               **learning_settings(task, cfg, len(dev_ex)), "data": stable_hash([train_ex, dev_ex]), "langs": langs, "split": split,
               "max_eval_examples": cfg.training.max_eval_examples, "head_init": cfg.head_init,
               **eval_sample_key(cfg.training.max_eval_examples, cfg.seed)}
    key = stable_hash(payload)
    name = "-".join([comp.name(cfg.method), *inter, cfg.method, f"s{cfg.seed}", key[:8]])
    run_dir = Path(cfg.output) / task.name / name
    with entry_lock(run_dir):
        if is_complete(run_dir):
            console.print(f"[green]already done[/]: {run_dir} (same config); showing its results")
            results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
        else:
            results = _train_and_evaluate(comp, task, cfg, modules, train_ex, dev_ex, langs, split,
                                          key, run_dir, command, leakage=guard.record(), dev_total=dev_total)
    print_table(results)
    console.print(f"results: {run_dir / 'results.json'}")
    return results


def _train_and_evaluate(comp: Composition, task: Task, cfg: RunConfig, modules: list[ModuleRecord],
                        train_ex: list[dict], dev_ex: list[dict], langs: list[str], split: str,
                        key: str, run_dir: Path, command: str, leakage: dict | None = None,
                        dev_total: int | None = None) -> dict:
    bb = load_backbone(cfg.model, cfg.dtype, cfg.quant, cfg.device, cfg.trust_remote_code)
    set_seed(cfg.seed)  # new modules and heads get their initial weights from the seed
    method = get_method(cfg.method)
    method.prepare(bb)
    attach_modules(bb, cfg, modules, continued=comp.setup == "sequential")
    if comp.setup not in ("fuse", "sequential"):
        method.add(bb, TARGET_MODULE, method_settings(cfg.method, cfg))
    settings = {"fuse": cfg.fusion, "merge": cfg.merge}.get(comp.setup)
    active = Composition("direct") if comp.setup == "sequential" else stacked(comp, modules)  # one module
    method.compose(bb, active, TARGET_MODULE if comp.setup != "fuse" else "fusion", settings)
    merge_report = getattr(method, "merge_report", None)  # how peft merged the modules (merge)
    model = build_model(bb, task, cfg.head)
    head_from = init_head(model, task, modules, cfg.head.pooling) if cfg.head_init == "auto" else None
    ev = eval_settings(task, cfg)
    console.print(f"[bold]training[/] {comp.name(cfg.method)} on {task.train_task} English data "
                  f"({len(train_ex)} examples) for {task.name}; trainable parameters: {trainable_parameters(model):,}")
    features = train_features(task, train_ex, bb.tokenizer, ev, cfg)

    def dev_score() -> float:
        return evaluate(model, task, dev_ex, bb.tokenizer, ev, bb.device).primary

    work = Path(cfg.output) / ".work" / key
    trained_with = train_settings(task, cfg)
    outcome = train_model(model, features, Collator(bb.tokenizer, task.kind), trained_with,
                          work, bb.device, bb.dtype, score_fn=dev_score, dev_size=len(dev_ex),
                          regularizer=getattr(method, "regularizer", None))
    per_lang, examples = evaluate_languages(model, task, bb, cfg, split, langs)
    per_language, average, extra = per_language_scores(task, per_lang)
    results = {
        "target": task.name, "metric": "f1" if task.kind in ("qa", "tagging") else task.metric,
        "setup": comp.name(cfg.method), "inter": list(comp.inter), "method": cfg.method,
        "model": cfg.model, "quant": cfg.quant, "dtype": str(bb.dtype).replace("torch.", ""),
        "seed": cfg.seed, "per_language": per_language, "average": average, **extra,
        # what ran where config values are resolved at run time (`optim: auto`)
        "optim": trained_with.optim, "group_by_length": trained_with.group_by_length,
        "english_dev": outcome.selected_dev, "eval_split": split,
        **dev_record(outcome, len(dev_ex), dev_total),
        "n_examples": {lang: r.n_examples for lang, r in per_lang.items()},
        "train_seconds": round(outcome.train_seconds, 2), "peak_memory_mb": round(outcome.peak_memory_mb, 1),
        "trainable_params": trainable_parameters(model), "config_hash": key, "command": command,
        "modules": [{"task": m.task, "path": str(m.path), "key": m.key} for m in modules],
        "head_init": head_from or "fresh", "dev_history": outcome.dev_history,
        **({"merge": merge_report} if merge_report else {}), "schema_version": 1, **provenance(),
        "leakage": leakage, "bad_rows": bad_rows_record(),
    }
    with atomic_dir(run_dir) as tmp:
        write_predictions(tmp, task, split, per_lang, examples)
        module_dir = tmp / "module"
        module_dir.mkdir()
        if comp.setup != "fuse":
            method.save(bb, TARGET_MODULE, module_dir)
        method.save_composition(bb, comp, module_dir)
        save_head(model, module_dir)
        save_train_hashes(module_dir, [(train_ex, task.kind)])  # for leakage checks of later reuse
        write_json_atomic(module_dir / "adapterx.json", {
            "schema_version": 1, "kind": "target", "task": task.name, "method": cfg.method,
            "composition": comp.to_dict(), "head": head_spec(task, cfg.head), "key": key,
            "base_model": {"name": cfg.model, "fingerprint": bb.fingerprint, "quant": cfg.quant},
            "modules": results["modules"], "config": cfg.to_dict()})
        (module_dir / ".complete").write_text("ok", encoding="utf-8")
        write_json_atomic(tmp / "adapterx.json", {"kind": "run", "key": key, "config": cfg.to_dict()})
        write_results(tmp, results)
    shutil.rmtree(work, ignore_errors=True)
    return results
