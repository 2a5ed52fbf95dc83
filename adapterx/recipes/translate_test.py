"""Recipe: translate-test. The English-trained target model (as `direct`, or as `stack` when
intermediate tasks are given) is evaluated on the target's test sets machine-translated into
English (`<data-dir>/<task>-translate-test/test.{lang}.<ext>`); results.json setup "translate-test".

Training is the direct / stack run itself, so a finished run is reused and translate-test costs
only the evaluation."""

from __future__ import annotations

import time
from pathlib import Path

from adapterx.configs import RunConfig
from adapterx.data.bad_rows import applies_policy
from adapterx.data.loading import EVAL_SAMPLE_SEED, load_eval_examples, subsample
from adapterx.errors import AdapterxError, DataError, UnknownChoiceError
from adapterx.evaluation import EvalResult, evaluate
from adapterx.recipes.common import eval_settings, finished_results, provenance
from adapterx.report.console import console
from adapterx.report.results import per_language_scores, print_table, write_predictions, write_results
from adapterx.store import atomic_dir, entry_lock, is_complete, read_meta, stable_hash, write_meta
from adapterx.tasks import Task, all_tasks, check_languages, get_task

SETUP = "translate-test"


def supported_targets() -> list[str]:
    """Targets whose translated test files adapterx can read (the registry's `translate_test`)."""
    return sorted(name for name, task in all_tasks().items() if task.is_target and task.translate_test)


def translated_files(target: str, cfg: RunConfig) -> tuple[Task, dict[str, Path | None]]:
    """Check the request and find each language's translated test file (None: English, whose own
    test set needs no translation). Runs before any training, so a bad request costs nothing."""
    task = get_task(target)
    supported = supported_targets()
    if task.name not in supported:
        raise UnknownChoiceError(
            "translate-test target", task.name, supported,
            hint="tagging targets have no translate-test (translation breaks the word-level labels) "
                 "and retrieval targets are already matched against English")
    tt = task.translate_test
    layout = f"DIR/{task.name}-translate-test/test.{{lang}}.{tt.ext}"
    if not cfg.data_dir:
        raise DataError(f"translate-test reads the translated {task.name} test sets from local files",
                        hint=f"pass --data-dir DIR with {layout} (English MT of each test set)")
    if cfg.eval_split != "test":
        raise AdapterxError("translate-test evaluates the translated test sets only",
                            "drop --eval-split (or pass --eval-split test)")
    files: dict[str, Path | None] = {}
    missing = []
    for lang in check_languages(task, cfg.langs):
        path = tt.path(cfg.data_dir, task.name, lang)
        if path.is_file():
            files[lang] = path
        elif lang == "en":
            files[lang] = None
        else:
            missing.append(lang)
    if missing and cfg.langs:  # asked for by name: say exactly which file is absent
        raise DataError(f"no translated test file for {', '.join(missing)}",
                        tt.path(cfg.data_dir, task.name, missing[0]),
                        hint=f"put the English translations at {layout}, or leave those languages out of --langs")
    if not any(files.values()):
        raise DataError(f"no translate-test files for {task.name}", Path(cfg.data_dir) / f"{task.name}-translate-test",
                        hint=f"expected {layout}, in the same format as the task's own test files")
    if missing:  # e.g. XCOPA's release has no Quechua translation
        console.print(f"[yellow]note[/]: no translated test file for {', '.join(missing)}; "
                      "translate-test skips them")
    return task, files


def _examples(task: Task, lang: str, path: Path | None, cfg: RunConfig) -> list[dict]:
    if path is None:
        return load_eval_examples(task, "test", lang, cfg.data_dir, cfg.training.max_eval_examples)
    # the same subsample as zero-shot evaluation, so both score the same items
    return subsample(task.translate_test.read(path), cfg.training.max_eval_examples, EVAL_SAMPLE_SEED)


def trained_run_dir(output: str | Path, task: Task, key: str) -> Path:
    """The complete target run whose config hash is `key` (run folders end with its first 8 digits)."""
    folder = Path(output) / task.name
    for path in sorted(folder.glob(f"*-{key[:8]}")):
        if is_complete(path) and (path / "module").is_dir() and read_meta(path).get("key") == key:
            return path
    raise AdapterxError(f"the trained {task.name} run {key} is not in {folder}",
                        "run the command again; the run is trained (or found) first")


@applies_policy
def run_translate_test(inter: list[str], target: str, cfg: RunConfig, command: str = "") -> dict:
    """Train (or reuse) the direct / stack target model, evaluate it on the English translations
    of every language's test set, write results.json + predictions/ and print the table."""
    from adapterx.recipes.target import run_target  # heavy imports only once the request is valid

    task, files = translated_files(target, cfg)
    # read (and so check) every translated file before any training
    examples = {lang: _examples(task, lang, path, cfg) for lang, path in files.items()}
    trained = run_target("stack" if inter else "direct", list(inter), task.name, cfg, command)
    trained_dir = trained_run_dir(cfg.output, task, trained["config_hash"])
    key = stable_hash({"trained": trained["config_hash"], "data": stable_hash(examples),
                       "eval": _eval_key(task, cfg)})
    name = "-".join([SETUP, *inter, cfg.method, f"s{cfg.seed}", key[:8]])
    run_dir = Path(cfg.output) / task.name / name
    with entry_lock(run_dir):
        if is_complete(run_dir):
            results = finished_results(run_dir, "same model and files")
        else:
            results = _evaluate(task, cfg, trained, trained_dir, files, examples, key, run_dir, command)
    inter_text = "+".join(inter) or "none"
    print_table(results, title=f"{task.name} translate-test ({trained['setup']} model, inter: {inter_text}, "
                               f"{cfg.method})")
    console.print(f"results: {run_dir / 'results.json'}")
    return results


def _eval_key(task: Task, cfg: RunConfig) -> dict:
    """The evaluation settings that change scores (for the translate-test run's key)."""
    ev = eval_settings(task, cfg)
    return {"max_seq_length": ev.max_seq_length, "doc_stride": ev.doc_stride, "n_best": ev.n_best,
            "max_answer_length": ev.max_answer_length}


def _evaluate(task: Task, cfg: RunConfig, trained: dict, trained_dir: Path, files: dict[str, Path | None],
              examples: dict[str, list[dict]], key: str, run_dir: Path, command: str) -> dict:
    from adapterx.recipes.evaluate import load_trained

    folder = trained_dir / "module"
    meta = read_meta(folder)
    model, bb, _, _ = load_trained(folder, meta, task, cfg, meta["base_model"]["name"])
    ev = eval_settings(task, cfg)
    per_lang: dict[str, EvalResult] = {}
    for lang, exs in examples.items():
        with console.status(f"evaluating {task.name} {lang} translate-test ({len(exs)} examples)"):
            # the texts are English now: score them as English (MLQA's answer normalisation)
            per_lang[lang] = evaluate(model, task, exs, bb.tokenizer, ev, bb.device, "en")
    per_language, average, extra = per_language_scores(task, per_lang)
    results = {
        "target": task.name, "metric": trained["metric"], "setup": SETUP, "inter": trained["inter"],
        "method": trained["method"], "model": trained["model"], "quant": trained["quant"],
        "seed": trained["seed"], "per_language": per_language, "average": average, **extra,
        "english_dev": trained.get("english_dev"), "eval_split": "test",
        "n_examples": {lang: r.n_examples for lang, r in per_lang.items()},
        # the model is the trained run's: its training cost is this setup's cost
        "train_seconds": trained.get("train_seconds"), "peak_memory_mb": trained.get("peak_memory_mb"),
        "trainable_params": trained.get("trainable_params"), "config_hash": key, "command": command,
        "trained_setup": trained["setup"], "trained_run": str(trained_dir),
        "eval_files": {lang: str(path) if path else "own English test set" for lang, path in files.items()},
        "schema_version": 1, **provenance(),
    }
    with atomic_dir(run_dir) as tmp:
        write_predictions(tmp, task, "test", per_lang, examples, score_lang="en")  # scored as English
        write_meta(tmp, {"kind": SETUP, "key": key, "trained_run": str(trained_dir),
                         "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
        write_results(tmp, results)
    return results
