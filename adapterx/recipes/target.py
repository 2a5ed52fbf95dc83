"""Recipe: compose intermediate modules, train on the target's English data, evaluate zero-shot on
every language, write results.json + predictions/ and print the per-language table."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from adapterx.assemble import Assembled, assemble
from adapterx.assemble import attach_modules as attach_modules  # re-exported: tests and tools load modules with it
from adapterx.backbone import Backbone
from adapterx.composition import Composition
from adapterx.configs import RunConfig
from adapterx.data.bad_rows import applies_policy
from adapterx.data.bad_rows import record as bad_rows_record
from adapterx.data.features import Collator
from adapterx.data.loading import english_train_dev_total, eval_sample_key, load_eval_examples
from adapterx.errors import AdapterxError, UnknownChoiceError
from adapterx.evaluation import EvalResult, evaluate
from adapterx.heads import TaskModel
from adapterx.leakage import LeakageGuard, guard_for_run, save_train_hashes
from adapterx.methods import Method, get_method, method_settings, method_spec, trainable_parameters
from adapterx.methods.base import TARGET_MODULE as TARGET_MODULE  # re-exported (its home: methods.base)
from adapterx.recipes.common import (asdict, eval_settings, finished_results, head_spec, learning_settings, provenance,
                                     features_and_dev_score, save_head, train_settings)
from adapterx.recipes.multitask import train_multitask
from adapterx.recipes.train_module import ModuleRecord, model_id, train_module, trainable_task
from adapterx.report.console import console
from adapterx.report.results import (RESULTS_FILE, per_language_scores, print_table, write_predictions,
                                     write_results)
from adapterx.store import DONE_MARKER, atomic_dir, entry_lock, is_complete, stable_hash, write_meta
from adapterx.tasks import Task, all_tasks, check_languages, get_task
from adapterx.training import TrainOutcome, TrainSettings, train_model

log = logging.getLogger(__name__)


def check_eval_split(task: Task, split: str) -> str:
    """`--eval-split` must be one the target has (after XTREME's aliases)."""
    if split not in ("test", "dev"):
        raise UnknownChoiceError("--eval-split", split, ("dev", "test"))
    if task.resolve_split(split) not in task.splits:
        raise AdapterxError(f"{task.name} has no {split} split (it has: {', '.join(task.splits)})",
                            f"use --eval-split {'test' if split == 'dev' else 'dev'}")
    return split


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
    comp, method = _composition(setup, inter, cfg)
    task = _target_task(target)
    if task.kind == "retrieval":
        return _score_retrieval(comp, method, task, cfg, command)
    langs = check_languages(task, cfg.langs)
    split = check_eval_split(task, cfg.eval_split)
    for name in inter:
        trainable_task(name)
    train_ex, dev_ex, dev_total = english_train_dev_total(task, cfg.data_dir, cfg.training.max_train_examples,
                                                          cfg.training.max_dev_examples, cfg.seed)
    # Before any training: the target's data now, each intermediate module's before it trains.
    guard = guard_for_run(task, cfg, split, langs, train_ex, dev_ex)
    modules = intermediate_modules(comp, method, cfg, task, guard)
    payload = {"setup": comp.to_dict(), "target": task.name, "modules": [m.key for m in modules],
               "model": model_id(cfg.model), "quant": cfg.quant, "dtype": cfg.dtype, "method": cfg.method,
               "method_settings": asdict(method_settings(cfg.method, cfg)), "fusion": asdict(cfg.fusion),
               **method.key_settings(comp, cfg),
               **learning_settings(task, cfg, len(dev_ex)), "data": stable_hash([train_ex, dev_ex]),
               "langs": langs, "split": split,
               "max_eval_examples": cfg.training.max_eval_examples, "head_init": cfg.head_init,
               **eval_sample_key(cfg.training.max_eval_examples, cfg.seed)}
    key = stable_hash(payload)
    name = "-".join([comp.name(cfg.method), *inter, cfg.method, f"s{cfg.seed}", key[:8]])
    run_dir = Path(cfg.output) / task.name / name
    with entry_lock(run_dir):
        if is_complete(run_dir):
            results = finished_results(run_dir)
        else:
            results = _train_and_evaluate(comp, task, cfg, modules, train_ex, dev_ex, langs, split,
                                          key, run_dir, command, leakage=guard.record(), dev_total=dev_total)
    print_table(results)
    console.print(f"results: {run_dir / RESULTS_FILE}")
    return results


def _composition(setup: str, inter: list[str], cfg: RunConfig) -> tuple[Composition, Method]:
    """The composition the method runs (after its aliases), checked before any work."""
    comp = Composition(setup, tuple(inter))
    spec = method_spec(cfg.method)  # unknown method: fail before any work
    comp.check_method(cfg.method)
    alias = spec.setup_aliases.get(comp.setup)
    if alias:  # e.g. sequential with full fine-tuning is full-stilts: both are one run
        console.print(f"{comp.setup} with --method {cfg.method} is {spec.setup_name(alias)}: "
                      f"running `{alias} --method {cfg.method}`")
        comp = Composition(alias, tuple(inter))
    method = get_method(cfg.method)
    method.check_request(comp, cfg)  # e.g. a wrong --weights count for merge
    return comp, method


def _target_task(target: str) -> Task:
    """The target task, which must be one."""
    task = get_task(target)
    if not task.is_target:
        targets = sorted(n for n, t in all_tasks().items() if t.is_target)
        raise UnknownChoiceError("target task", target, targets,
                                 hint=f"{target} is an intermediate task; train it with `adapterx train --task {target}`")
    return task


def intermediate_modules(comp: Composition, method: Method, cfg: RunConfig, target: Task,
                         guard: LeakageGuard | None = None) -> list[ModuleRecord]:
    """The intermediate modules `comp` needs, trained or reused: one per task, or one multi-task
    module when the method trains them jointly."""
    if method.trains_jointly(comp):
        return [train_multitask(list(comp.inter), cfg.for_intermediate(), target=target, guard=guard)]
    return [train_module(name, cfg.for_intermediate(), guard=guard) for name in comp.inter]


def _score_retrieval(comp: Composition, method: Method, task: Task, cfg: RunConfig, command: str) -> dict:
    """A retrieval target has no training data: its modules' representations are scored."""
    plan = method.plan(comp, comp.inter)
    if plan.module is None:  # the composition itself (a fusion) would have to learn
        inter = ",".join(comp.inter)
        raise AdapterxError(f"{task.name} has no training data, so there is no {plan.train} to learn",
                            f"score the modules with `adapterx stack --inter {inter} --target {task.name}`, "
                            f"or the base with `adapterx direct --target {task.name}`")
    from adapterx.recipes.retrieval import run_retrieval

    check_eval_split(task, cfg.eval_split)
    if method.trains_jointly(comp):  # scored from the one multi-task module's representations
        record, = intermediate_modules(comp, method, cfg, task)
        return run_retrieval([record.task], task, cfg, command, modules=[record])
    return run_retrieval(list(comp.inter), task, cfg, command)


def _train_and_evaluate(comp: Composition, task: Task, cfg: RunConfig, modules: list[ModuleRecord],
                        train_ex: list[dict], dev_ex: list[dict], langs: list[str], split: str,
                        key: str, run_dir: Path, command: str, leakage: dict | None = None,
                        dev_total: int | None = None) -> dict:
    built = assemble(cfg, comp, modules, train=TARGET_MODULE, heads=[task], head_init=cfg.head_init == "auto")
    console.print(f"[bold]training[/] {comp.name(cfg.method)} on {task.train_task} English data "
                  f"({len(train_ex)} examples) for {task.name}; trainable parameters: "
                  f"{trainable_parameters(built.model):,}")
    work = Path(cfg.output) / ".work" / key
    outcome, trained_with = _train(built, task, cfg, train_ex, dev_ex, work)
    per_lang, examples = evaluate_languages(built.model, task, built.bb, cfg, split, langs)
    per_language, average, extra = per_language_scores(task, per_lang)
    merge_report = getattr(built.method, "merge_report", None)  # how peft merged the modules (merge)
    results = {
        "target": task.name, "metric": "f1" if task.kind in ("qa", "tagging") else task.metric,
        "setup": comp.name(cfg.method), "inter": list(comp.inter), "method": cfg.method,
        "model": cfg.model, "quant": cfg.quant, "dtype": str(built.bb.dtype).replace("torch.", ""),
        "seed": cfg.seed, "per_language": per_language, "average": average, **extra,
        # what ran where config values are resolved at run time (`optim: auto`)
        "optim": trained_with.optim, "group_by_length": trained_with.group_by_length,
        "english_dev": outcome.selected_dev, "eval_split": split,
        **dev_record(outcome, len(dev_ex), dev_total),
        "n_examples": {lang: r.n_examples for lang, r in per_lang.items()},
        "train_seconds": round(outcome.train_seconds, 2), "peak_memory_mb": round(outcome.peak_memory_mb, 1),
        "trainable_params": trainable_parameters(built.model), "config_hash": key, "command": command,
        "modules": [{"task": m.task, "path": str(m.path), "key": m.key} for m in modules],
        "head_init": built.head_from or "fresh", "dev_history": outcome.dev_history,
        **({"merge": merge_report} if merge_report else {}), "schema_version": 1, **provenance(),
        "leakage": leakage, "bad_rows": bad_rows_record(),
    }
    _save(built, comp, task, cfg, key, results, run_dir, train_ex, (per_lang, examples, split))
    shutil.rmtree(work, ignore_errors=True)
    return results


def _train(built: Assembled, task: Task, cfg: RunConfig, train_ex: list[dict], dev_ex: list[dict],
           work: Path) -> tuple[TrainOutcome, TrainSettings]:
    """Train what the plan trains on the target's English data, selecting on English dev."""
    bb, model = built.bb, built.model
    features, dev_score = features_and_dev_score(model, bb, task, cfg, train_ex, dev_ex)
    trained_with = train_settings(task, cfg)
    outcome = train_model(model, features, Collator(bb.tokenizer, task.kind), trained_with,
                          work, bb.device, bb.dtype, score_fn=dev_score, dev_size=len(dev_ex),
                          regularizer=getattr(built.method, "regularizer", None))
    return outcome, trained_with


def _save(built: Assembled, comp: Composition, task: Task, cfg: RunConfig, key: str, results: dict,
          run_dir: Path, train_ex: list[dict], evaluated: tuple[dict, dict, str]) -> None:
    """The run folder: predictions, the trained module with its composition and head, results.json."""
    per_lang, examples, split = evaluated
    bb, method = built.bb, built.method
    with atomic_dir(run_dir) as tmp:
        write_predictions(tmp, task, split, per_lang, examples)
        module_dir = tmp / "module"
        module_dir.mkdir()
        if built.plan.module is not None:
            method.save(bb, built.plan.module, module_dir)
        method.save_composition(bb, comp, module_dir)
        save_head(built.model, module_dir)
        save_train_hashes(module_dir, [(train_ex, task.kind)])  # for leakage checks of later reuse
        write_meta(module_dir, {
            "schema_version": 1, "kind": "target", "task": task.name, "method": cfg.method,
            "composition": comp.to_dict(), "head": head_spec(task, cfg.head), "key": key,
            "base_model": {"name": cfg.model, "fingerprint": bb.fingerprint, "quant": cfg.quant},
            "modules": results["modules"], "config": cfg.to_dict()})
        (module_dir / DONE_MARKER).write_text("ok", encoding="utf-8")
        write_meta(tmp, {"kind": "run", "key": key, "config": cfg.to_dict()})
        write_results(tmp, results)
