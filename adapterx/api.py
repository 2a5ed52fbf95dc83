"""Every CLI command as a documented Python function (`from adapterx import fuse`)."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from adapterx.configs import RunConfig, apply_overrides, load_yaml_config

PRESETS = ("tiny",)


def quiet_libraries() -> None:
    """Silence the per-call warnings of libraries (bitsandbytes on CPU warns on every matmul)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", message=".*MatMul8bitLt.*")
    warnings.filterwarnings("ignore", message=".*inputs will be cast from.*")
    warnings.filterwarnings("ignore", message=".*`torch_dtype` is deprecated.*")
    warnings.filterwarnings("ignore", message=".*There are adapters available but none are activated.*")
    # the Trainer's checkpoint rotation on file systems without reliable mtimes: nothing to act on
    warnings.filterwarnings("ignore", message=".*mtime may not be reliable.*")
    for name in ("bitsandbytes", "adapters", "transformers.modeling_utils", "peft", "datasets"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import datasets

        datasets.disable_progress_bars()  # per-language tokenization bars drown the tables
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
    except ImportError:
        pass


def build_config(preset: str | None = None, config_file: str | None = None,
                 overrides: dict[str, Any] | None = None, **options: Any) -> RunConfig:
    """Defaults <- preset <- YAML file <- explicit options <- key=value overrides."""
    from adapterx.errors import UnknownChoiceError

    cfg = RunConfig()
    if preset:
        if preset not in PRESETS:
            raise UnknownChoiceError("preset", preset, PRESETS)
        from adapterx.presets.tiny import TINY_DATA, TINY_OVERRIDES, one_thread, tiny_model_dir

        one_thread()

        apply_overrides(cfg, {"model": str(tiny_model_dir()), "data_dir": str(TINY_DATA),
                              "device": "cpu", **TINY_OVERRIDES})
    if config_file:
        apply_overrides(cfg, load_yaml_config(config_file))
    apply_overrides(cfg, {k: v for k, v in options.items() if v is not None})
    if overrides:
        apply_overrides(cfg, overrides)
    from adapterx.methods import method_spec

    method_spec(cfg.method)  # an unknown method: the error lists the registered ones
    if cfg.data_dir and not Path(cfg.data_dir).is_dir():
        from adapterx.errors import DataError

        raise DataError(f"--data-dir {cfg.data_dir} is not a folder",
                        hint="pass the folder you unpacked the datasets into (layout in the README)")
    return cfg


def _cfg(cfg: RunConfig | None, options: dict[str, Any]) -> RunConfig:
    quiet_libraries()
    return cfg if cfg is not None else build_config(**options)


def train(task: str | list[str], cfg: RunConfig | None = None, **options: Any) -> Path:
    """Train one English intermediate module (or reuse the cached one); return its folder.
    Several tasks (`"mnli,squad"` or a list) train one multi-task module (`multitask.*`).

    `options` are RunConfig fields (model=, method=, quant=, ...), `preset=`, `config_file=`,
    `overrides={key: value}`."""
    from adapterx.recipes.train_module import train_module

    names = [t.strip() for t in task.split(",")] if isinstance(task, str) else list(task)
    if len(names) > 1:
        from adapterx.recipes.multitask import train_multitask

        return train_multitask([n for n in names if n], _cfg(cfg, options)).path
    return train_module(names[0], _cfg(cfg, options)).path


def _target(setup: str, inter: list[str] | str, target: str, cfg: RunConfig | None,
            command: str, options: dict[str, Any]) -> dict:
    from adapterx.recipes.target import run_target

    names = [t.strip() for t in inter.split(",")] if isinstance(inter, str) else list(inter)
    return run_target(setup, [n for n in names if n], target, _cfg(cfg, options), command)


def fuse(inter: list[str] | str, target: str, cfg: RunConfig | None = None, command: str = "",
         **options: Any) -> dict:
    """AdapterFusion (method bottleneck) or LoRA fusion (method lora) of the intermediate modules,
    trained on the target's English data, then zero-shot evaluation on every target language;
    returns the results.json dict."""
    return _target("fuse", inter, target, cfg, command, options)


def stack(inter: list[str] | str, target: str, cfg: RunConfig | None = None, command: str = "",
          **options: Any) -> dict:
    """Intermediate modules (frozen) with a new target module stacked on top; zero-shot table."""
    return _target("stack", inter, target, cfg, command, options)


def sequential(inter: list[str] | str, target: str, cfg: RunConfig | None = None, command: str = "",
               **options: Any) -> dict:
    """The paper's recipe with modules: one intermediate module (a copy; the cached one is never
    changed) and its head, where the kind fits, continue training on the target's English data;
    zero-shot table. With method full this is full-stilts (the same run as `stack`)."""
    return _target("sequential", inter, target, cfg, command, options)


def merge(inter: list[str] | str, target: str, cfg: RunConfig | None = None, command: str = "",
          **options: Any) -> dict:
    """LoRA modules merged into one through peft (`merge.how`, `merge.weights`; see
    adapterx.methods.lora.merge), a new target LoRA on top; zero-shot table. Needs method lora."""
    return _target("merge", inter, target, cfg, command, options)


def multitask(inter: list[str] | str, target: str, cfg: RunConfig | None = None, command: str = "",
              **options: Any) -> dict:
    """One module trained on all intermediate tasks at once (a head each; `multitask.sampling`),
    a new target module stacked on it; zero-shot table (results.json `setup`: multitask)."""
    return _target("multitask", inter, target, cfg, command, options)


def direct(target: str, cfg: RunConfig | None = None, command: str = "", **options: Any) -> dict:
    """Baseline: the target module alone, no intermediate task."""
    return _target("direct", [], target, cfg, command, options)


def _inter_names(inter: list[str] | str | None) -> list[str]:
    items = (inter.split(",") if isinstance(inter, str) else list(inter)) if inter else []
    return [n.strip() for n in items if n and n.strip()]


def finetune(target: str, inter: list[str] | str | None = None, cfg: RunConfig | None = None,
             command: str = "", **options: Any) -> dict:
    """Full fine-tuning baseline: every weight trained on the intermediate task, then on the
    target (setup full-stilts, the paper's X-STILTs), or on the target only without `inter`
    (full-direct); the method is always `full`, whatever the config says."""
    import dataclasses

    cfg = dataclasses.replace(_cfg(cfg, options), method="full")
    names = _inter_names(inter)
    return _target("stack" if names else "direct", names, target, cfg, command, {})


def translate_test(target: str, inter: list[str] | str | None = None, cfg: RunConfig | None = None,
                   command: str = "", **options: Any) -> dict:
    """Translate-test baseline: the target model trained on English (as `direct`, or as `stack`
    over `inter`), evaluated on the test sets machine-translated into English
    (`<data_dir>/<target>-translate-test/test.{lang}.<ext>`); returns the results.json dict."""
    from adapterx.recipes.translate_test import run_translate_test

    return run_translate_test(_inter_names(inter), target, _cfg(cfg, options), command)


def compare(inter: list[str] | str | None, target: str, setups: list[str] | str | None = None,
            cfg: RunConfig | None = None, command: str = "", **options: Any) -> dict:
    """Run several setups on one target (`direct` always, as the reference; default setups
    direct, stack, fuse) and return the comparison that compare.json holds: one row per setup
    with per-language scores, average, delta vs direct and costs."""
    from adapterx.recipes.compare import run_compare

    return run_compare(_inter_names(inter), target, setups, _cfg(cfg, options), command)


def grid(experiment: str, dry_run: bool = False, executor: str | None = None,
         cfg: RunConfig | None = None, command: str = "", seeds: list[int] | None = None,
         setups: list[str] | None = None, intermediate: list[str] | None = None, quiet: bool = False,
         **options: Any) -> dict:
    """Run (or with `dry_run`, plan; `quiet`: one progress line and the final table) the experiment grid in the YAML file `experiment` (only its
    `seeds` / `setups` / `intermediate` tasks when given); returns the grid state (one record per cell: status, key,
    results path, error). Without `cfg`, the config is the file's `preset` + `config:` with
    `options` on top."""
    from adapterx.recipes.grid import run_grid
    from adapterx.recipes.grid_plan import load_spec

    if cfg is None:
        spec = load_spec(experiment)
        quiet_libraries()
        overrides = {**spec.config, **options.pop("overrides", {})}
        cfg = build_config(preset=options.pop("preset", None) or spec.preset, overrides=overrides, **options)
    else:
        quiet_libraries()
    return run_grid(experiment, cfg, dry_run=dry_run, executor=executor, command=command, seeds=seeds,
                    setups=setups, intermediate=intermediate, quiet=quiet)


def suggest(target: str, inter: list[str] | str | None = None, runs: str | None = None,
            n_examples: int = 200, cfg: RunConfig | None = None, **options: Any) -> dict:
    """Rank intermediate tasks by representation similarity to `target` under the base model
    (adapterx.analysis.similarity); with `runs`, add the measured deltas and their Spearman
    correlation with the similarities. Returns what suggest.json holds."""
    from adapterx.recipes.suggest import run_suggest

    names = [n.strip() for n in inter.split(",")] if isinstance(inter, str) else inter
    return run_suggest(target, [n for n in names or [] if n] or None, _cfg(cfg, options), runs, n_examples)


def report(runs_dir: str | Path, out: str | Path | None = None, formats: str | list[str] = "md,csv,json",
           plot: bool = False, resamples: int = 1000, seed: int = 0, show: bool = True) -> dict:
    """Report over every run under `runs_dir` (seeds grouped): the paper-style target x intermediate
    table with deltas vs direct, per-language tables with bootstrap CIs and paired tests, robustness
    figures and XTREME scores, written to `out` (default <runs_dir>/report/) as report.md / .csv /
    .json (`formats`) and, with `plot`, PNGs; returns report.json's dict."""
    from adapterx.report.build import run_report

    return run_report(runs_dir, out=out, formats=formats, plot=plot, resamples=resamples, seed=seed, show=show)


def evaluate(run: str | None = None, module: str | None = None, target: str | None = None,
             cfg: RunConfig | None = None, command: str = "", model: str | None = None,
             **options: Any) -> dict:
    """Zero-shot evaluation of a finished run (`run=`) or a module (`module=`, `target=`); the base
    is the one the module was trained on unless `model=` names another."""
    from adapterx.recipes.evaluate import evaluate_path

    return evaluate_path(_cfg(cfg, options), run=run, module=module, target=target, command=command,
                         model=model)


def push(module_dir: str | Path, repo: str, private: bool = False, revision: str | None = None,
         license: str | None = None) -> str:
    """Upload a finished module folder (or a run's module/, with its intermediate modules) and a
    generated model card to the Hub repository `repo` (user/name; `revision`: a branch); returns
    its URL. The token comes from HF_TOKEN or `huggingface-cli login`, never from adapterx."""
    from adapterx.hub_share import push as push_module

    return push_module(module_dir, repo, private=private, revision=revision, license=license)


def pull(repo: str, revision: str | None = None, modules_dir: str | Path | None = None) -> Path:
    """Download a module pushed with `push` into the module cache, at the path its key implies
    (modules/<task>/<method>-<key>/), and return that folder."""
    from adapterx.hub_share import pull as pull_module

    return pull_module(repo, revision=revision, modules_dir=modules_dir)


def cache_ls(modules_dir: str | Path | None = None) -> list[dict]:
    """Every entry of the module cache (modules, leftover temp folders, training checkpoints):
    task, method, key, base model, size, created, dev score, status."""
    from adapterx.cache import scan

    return [entry.as_dict() for entry in scan(modules_dir)]


def cache_prune(modules_dir: str | Path | None = None, incomplete: bool = False,
                older_than: float | None = None, task: str | None = None, dry_run: bool = False,
                features: bool = False, runs_dir: str | Path | None = None) -> dict:
    """Remove cache entries matching every filter given (`incomplete`: unfinished ones only,
    with `runs_dir` also the temp folders and checkpoints interrupted runs left there;
    `features`: tokenized features only; `older_than` days; `task`), never one a running process
    holds; `dry_run` lists them only.
    Returns {"removed": [...], "skipped": [...]} (with `dry_run`, "removed" is what would go)."""
    import math

    from adapterx.cache import prune
    from adapterx.errors import AdapterxError, UnknownChoiceError
    from adapterx.tasks import all_tasks

    # a negative or nan age would select every complete module; an unknown task nothing at all
    if older_than is not None and not (math.isfinite(older_than) and older_than >= 0):
        raise AdapterxError(f"--older-than takes a number of days >= 0, got {older_than}",
                            "e.g. --older-than 30 (add --dry-run to see the list first)")
    if task is not None and task not in all_tasks():
        raise UnknownChoiceError("task", task, all_tasks())
    done, skipped = prune(modules_dir, incomplete=incomplete, older_than=older_than, task=task, dry_run=dry_run,
                          features=features, runs_dir=runs_dir)
    return {"removed": [e.as_dict() for e in done], "skipped": [e.as_dict() for e in skipped]}


def tasks(kind: str | None = None) -> list[dict]:
    """The registered tasks (optionally one head kind) as plain data."""
    from adapterx.errors import UnknownChoiceError
    from adapterx.tasks import HEAD_KINDS, all_tasks

    if kind is not None and kind not in HEAD_KINDS:
        raise UnknownChoiceError("task kind", kind, HEAD_KINDS)
    rows = []
    for task in all_tasks().values():
        if kind is None or task.kind == kind:
            rows.append({"name": task.name, "kind": task.kind, "metric": task.metric,
                         "role": "target" if task.is_target else "intermediate",
                         "languages": list(task.languages), "train_from": task.train_task,
                         "local_files": dict(task.local_files), "hub": task.hub,
                         "description": task.description,
                         "translate_test": (f"{task.name}-translate-test/test.{{lang}}.{task.translate_test.ext}"
                                            if task.translate_test else None)})
    return rows


def load(path: str | Path, device: str = "auto", dtype: str = "auto", model: str | None = None,
         target: str | None = None):
    """A run folder or a module folder built on its base model, ready to predict:
    `adapterx.load("runs/xnli/direct-...").predict([("A man sleeps.", "Nobody sleeps.")])`
    (adapterx.assemble.load; input and output fields per task kind in adapterx.predict)."""
    from adapterx.assemble import load as load_folder

    return load_folder(path, device=device, dtype=dtype, model=model, target=target)
