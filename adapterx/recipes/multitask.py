"""Recipe: one module trained on several English intermediate tasks at once, one head per task
(or the cached one with the same key), and what the `multitask` target setup needs from it.

On disk (`modules/multitask/<task>+<task>/<method>-<key>/`): the module in the method's native
format, `heads/<task>/adapterx_head.safetensors` per task, and adapterx.json with
`task: "multitask-<task>+<task>"` (tasks sorted; no ":" so run folders named after it stay portable), `tasks`, `heads` and per-task dev metrics."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from adapterx.assemble import Assembled, assemble
from adapterx.configs import RunConfig
from adapterx.data.bad_rows import applies_policy
from adapterx.data.bad_rows import record as bad_rows_record
from adapterx.errors import AdapterxError
from adapterx.evaluation import evaluate
from adapterx.leakage import LeakageGuard, save_train_hashes
from adapterx.methods import method_settings, trainable_parameters
from adapterx.module_meta import HEADS_DIR, head_folder
from adapterx.recipes.common import (asdict, eval_settings, head_fits,
                                     head_spec, learning_settings, provenance, save_head, train_key,
                                     train_features, train_settings)
from adapterx.recipes.sources import auxiliary_settings, train_on_sources
from adapterx.recipes.train_module import (ModuleRecord, mention_other_settings, model_id, task_data,
                                           trainable_task)
from adapterx.report.console import console
from adapterx.store import HEAD_FILE, atomic_dir, entry_lock, is_complete, stable_hash, write_meta
from adapterx.tasks import Task
from adapterx.training import TrainSettings

MULTITASK_DIR = "multitask"


def multitask_name(names: list[str]) -> str:
    """The module's task name (and its name inside the model): `multitask-mnli+squad`."""
    return "multitask-" + "+".join(sorted(names))


def check_tasks(names: list[str], target: Task | None = None) -> list[Task]:
    """Validate the task list (each once, each trainable, not the target, at least two); sorted,
    so `mnli,squad` and `squad,mnli` are one module."""
    seen = set()
    for name in names:
        if name in seen:
            raise AdapterxError(f"task {name!r} is listed twice in {','.join(names)}", "list each task once")
        seen.add(name)
    tasks = [trainable_task(name) for name in sorted(names)]
    if target is not None and target.name in seen:
        others = ",".join(n for n in names if n != target.name) or "mnli,squad"
        raise AdapterxError(f"{target.name} is the target task; it cannot also be an intermediate task",
                            f"leave it out of --inter (e.g. --inter {others})")
    if len(tasks) < 2:
        raise AdapterxError(f"a multi-task module needs at least two tasks, got {','.join(names) or 'none'}",
                            "list several (e.g. --task mnli,squad), or train one task alone with "
                            "`adapterx train --task TASK` / stack it with `adapterx stack`")
    return tasks


def multitask_settings(tasks: list[Task], sizes: list[int], cfg: RunConfig) -> TrainSettings:
    """One Trainer run for all tasks: the largest task's defaults for epochs, the smallest of the
    tasks' learning rates (each is the config's value when set)."""
    settings = train_settings(tasks[sizes.index(max(sizes))], cfg)
    settings.learning_rate = min(train_settings(t, cfg).learning_rate for t in tasks)
    settings.group_by_length = False  # batches are drawn per source: nothing to group (nor to key)
    return settings


@applies_policy
def train_multitask(names: list[str], cfg: RunConfig, target: Task | None = None,
                    guard: LeakageGuard | None = None) -> ModuleRecord:
    """Train one module on all of `names` (or reuse the cached one) and return its folder;
    `guard` (a target run's) checks its training data against the evaluation sets first."""
    tasks = check_tasks(names, target)
    data = {t.name: task_data(t, cfg) for t in tasks}
    tasks = [data[t.name][0] for t in tasks]  # tag sets read from data (CCG) are now filled in
    name = multitask_name([t.name for t in tasks])
    sizes = [len(data[t.name][1]) for t in tasks]
    settings = multitask_settings(tasks, sizes, cfg)
    heads = {t.name: cfg.head.key(t.kind) for t in tasks if cfg.head.key(t.kind)}  # only when changed
    payload = {
        "tasks": [t.name for t in tasks], "model": model_id(cfg.model), "quant": cfg.quant, "dtype": cfg.dtype,
        "method": cfg.method, "method_settings": asdict(method_settings(cfg.method, cfg)),
        "multitask": asdict(cfg.multitask),
        "train": train_key(settings),
        "eval": {t.name: learning_settings(t, cfg)["eval"] for t in tasks},
        **({"head": heads} if heads else {}),
        "data": {t.name: stable_hash([data[t.name][1], data[t.name][2]]) for t in tasks},
        **auxiliary_settings(cfg),
    }
    key = stable_hash(payload)
    if "mix" in payload:
        payload["mix"]["n_translated"] = {t.name: data[t.name][3] for t in tasks}
    path = Path(cfg.modules_dir) / MULTITASK_DIR / "+".join(payload["tasks"]) / f"{cfg.method}-{key}"
    if guard is not None:  # before training or reusing it
        guard.check_module(f"{name} train (intermediate module)", path,
                           [(data[t.name][1], t.kind) for t in tasks])
    if not is_complete(path):
        mention_other_settings(path)
    with entry_lock(path):
        if is_complete(path):
            console.print(f"[green]reusing[/] {name} {cfg.method} module {path} (trained before; nothing to do)")
            return ModuleRecord(name, path, key, reused=True)
        console.print(f"[bold]training[/] {name} {cfg.method} module on "
                      + ", ".join(f"{len(data[t.name][1])} {t.name}" for t in tasks) + " examples")
        _train_and_save(tasks, name, cfg, data, settings, key, payload, path)
    console.print(f"saved {name} module to {path}")
    return ModuleRecord(name, path, key, reused=False)


def _train_and_save(tasks: list[Task], name: str, cfg: RunConfig, data: dict, settings: TrainSettings,
                    key: str, payload: dict, path: Path) -> None:
    built = assemble(cfg, train=name, heads=tasks)  # one new module, one fresh head per task
    work = Path(cfg.modules_dir) / ".work" / f"{MULTITASK_DIR}-{cfg.method}-{key}"
    outcome, info, model, dev = _train(built, tasks, cfg, data, settings, work)
    _save(built, tasks, name, path, data, {
        "schema_version": 1, "kind": "module", "task": name, "tasks": [t.name for t in tasks],
        "method": cfg.method, "heads": {t.name: head_spec(t, cfg.head) for t in tasks}, "key": key,
        "base_model": {"name": cfg.model, "fingerprint": built.bb.fingerprint, "quant": cfg.quant,
                       "dtype": str(built.bb.dtype).replace("torch.", "")},
        "method_settings": payload["method_settings"], "training": asdict(settings),
        "multitask": {**payload["multitask"], **info["sampling"]},
        **{k: payload[k] for k in ("mix", "mlm") if k in payload},
        **({"mlm_head": info["mlm_head"]} if "mlm_head" in info else {}),
        "n_train_examples": {t.name: len(data[t.name][1]) for t in tasks},
        "n_dev_examples": {t.name: len(data[t.name][2]) for t in tasks},
        "metrics": {"english_dev": {n: r.scores for n, r in dev.items()},
                    "english_dev_mean": sum(r.primary for r in dev.values()) / len(dev),
                    "dev_history": outcome.dev_history},
        "train_seconds": round(outcome.train_seconds, 2), "peak_memory_mb": round(outcome.peak_memory_mb, 1),
        "trainable_params": trainable_parameters(model), "seed": cfg.seed,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"), **provenance(), "bad_rows": bad_rows_record()})
    shutil.rmtree(work, ignore_errors=True)


def _train(built: Assembled, tasks: list[Task], cfg: RunConfig, data: dict, settings: TrainSettings,
           work: Path) -> tuple:
    """One Trainer run over every task's batches, selecting on the mean of the tasks' dev scores;
    returns the outcome, the sampling info, the trained model and the final dev results."""
    bb, models = built.bb, built.models
    ev = {t.name: eval_settings(t, cfg) for t in tasks}
    features = {t.name: train_features(t, data[t.name][1], bb.tokenizer, ev[t.name], cfg) for t in tasks}

    def dev_scores() -> dict:
        return {t.name: evaluate(models[t.name], t, data[t.name][2], bb.tokenizer, ev[t.name], bb.device)
                for t in tasks}

    def dev_score() -> float:  # model selection: the mean of the tasks' primary dev scores
        scores = dev_scores()
        return sum(r.primary for r in scores.values()) / len(scores)

    outcome, info, model = train_on_sources(bb, models, features, cfg, settings, work, dev_score)
    return outcome, info, model, dev_scores()


def _save(built: Assembled, tasks: list[Task], name: str, path: Path, data: dict, meta: dict) -> None:
    """The module folder: the module in its native format, heads/<task>/ per task, adapterx.json."""
    with atomic_dir(path) as tmp:
        built.method.save(built.bb, name, tmp)
        for t in tasks:
            (tmp / HEADS_DIR / t.name).mkdir(parents=True)
            save_head(built.models[t.name], tmp / HEADS_DIR / t.name)
        save_train_hashes(tmp, [(data[t.name][1], t.kind) for t in tasks])  # for later leakage checks
        write_meta(tmp, meta)


def module_heads(meta: dict, folder: Path) -> list[tuple[str, dict, Path]]:
    """(task, head spec, folder holding its head file) of every head a saved module has."""
    if "heads" in meta:  # each name checked: a head folder never lies outside the module
        return [(t, spec, head_folder(folder, t)) for t, spec in meta["heads"].items()]
    return [(meta["task"], meta["head"], Path(folder))]


def pick_head(folder: Path, meta: dict, task: Task) -> tuple[Path, dict]:
    """The folder and spec of the module's head that fits `task` (else its first, which
    load_head then refuses with a message naming both)."""
    heads = module_heads(meta, folder)
    for _, spec, where in heads:
        if head_fits(spec, task) and (where / HEAD_FILE).is_file():
            return where, spec
    return heads[0][2], heads[0][1]
