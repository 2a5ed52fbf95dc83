"""The `adapterx` command line (click). Every command is a thin layer over adapterx.api."""

from __future__ import annotations

import functools
import json
import shlex
import sys
from collections.abc import Callable
from typing import Any

import click

from adapterx import api
from adapterx.cli_tables import FORMAT_HELP
from adapterx.errors import AdapterxError

MODULES_DIR_HELP = ("module cache folder [$ADAPTERX_HOME/modules, else ~/.cache/adapterx/modules; "
                    "`adapterx cache ls` prints it]")


def method_help() -> str:
    """--method's help: every registered method with what it is, and the default."""
    from adapterx.methods import DEFAULT_METHOD, all_specs

    return "; ".join(f"{spec.name}: {spec.about}" if spec.about else spec.name
                     for spec in all_specs()) + f" [{DEFAULT_METHOD}]"


COMMON_OPTIONS: list[Callable] = [
    click.option("--model", help="Hugging Face model name or local folder [xlm-roberta-large]"),
    click.option("--method", help=method_help()),
    click.option("--quant", help="none | 8bit | 4bit (bitsandbytes) [none]"),
    click.option("--dtype", help="fp32 | bf16 | auto [auto]"),
    click.option("--device", help="auto | cpu | cuda | cuda:N [auto]"),
    click.option("--data-dir", help="read datasets from local files in their original formats"),
    click.option("--eval-split", help="test | dev [test]"),
    click.option("--output", help="runs folder [runs]"),
    click.option("--modules-dir", help=MODULES_DIR_HELP),
    click.option("--seed", type=int),
    click.option("--langs", help="comma list of evaluation languages [all of the target's]"),
    click.option("--max-train-examples", type=int),
    click.option("--max-eval-examples", type=int, help="per language"),
    click.option("--config", "config_file", help="YAML file of config keys"),
    click.option("--preset", help="tiny: offline demo (tiny random model + shipped sample data)"),
]
OPTION_KEYS = {"max_train_examples": "training.max_train_examples",
               "max_eval_examples": "training.max_eval_examples"}


OVERRIDES_HELP = ("\b\nKEY=VALUE overrides (after the options) set any config key, e.g.\n"
                  "  training.learning_rate=3e-4   lora.r=16   training.epochs=2\n"
                  "  learning_rate=3e-4            (a bare key means the training.* one)\n"
                  "  langs=de,sw                   (lists: comma separated; none: unset)\n"
                  "`adapterx config --list` shows every key with its default and help.")


def common_options(fn: Callable) -> Callable:
    """Attach the options every training / evaluation command shares, plus `key=value` overrides
    (explained in the command's --help epilog, see `_explain_overrides`)."""
    for option in reversed(COMMON_OPTIONS):
        fn = option(fn)
    return click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")(fn)


def parse_overrides(items: tuple[str, ...]) -> dict[str, str]:
    """`key=value` words -> dict; anything else is a usage error."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise AdapterxError(f"unexpected argument {item!r}", "overrides look like key=value, e.g. lora.r=16")
        out[key] = value
    return out


def make_config(kwargs: dict[str, Any], defaults: dict[str, Any] | None = None):
    """RunConfig from the shared options (and remove them from kwargs); `defaults` (e.g. a grid
    file's `config:`) sit under the options."""
    preset = kwargs.pop("preset", None)
    config_file = kwargs.pop("config_file", None)
    overrides = parse_overrides(kwargs.pop("overrides", ()))
    options = {}
    for key in ("model", "method", "quant", "dtype", "device", "data_dir", "eval_split", "output",
                "modules_dir", "seed", "langs", "max_train_examples", "max_eval_examples"):
        value = kwargs.pop(key, None)
        if value is not None:
            options[OPTION_KEYS.get(key, key)] = value
    return api.build_config(preset=preset, config_file=config_file,
                            overrides={**(defaults or {}), **options, **overrides})


def _command_line() -> str:
    return "adapterx " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def handle_errors(fn: Callable) -> Callable:
    """User errors (and disk errors) exit with code 2 and a message, never a traceback; a bug
    exits with code 1, its traceback in a log file."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AdapterxError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; finished modules and runs on disk are intact", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own ways out (usage errors, --help, Ctrl-C at a prompt)
        except OSError as err:  # the disk or a path: the user's to fix
            from adapterx.cli_errors import os_error_message

            click.echo(f"error: {os_error_message(err)}", err=True)
            sys.exit(2)
        except Exception as err:  # noqa: BLE001  (a bug: one line here, the traceback in a log)
            from adapterx.cli_errors import INTERNAL_EXIT, internal_error_message, write_crash_log

            click.echo(internal_error_message(err, write_crash_log(err, _command_line())), err=True)
            sys.exit(INTERNAL_EXIT)
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="adapterx")
def main() -> None:
    """adapterx: English intermediate-task modules for zero-shot cross-lingual transfer."""


@main.command("tasks")
@click.option("--kind", help="classification | multiple_choice | qa")
@click.option("--format", "fmt", help=FORMAT_HELP)
@handle_errors
def tasks_cmd(kind: str | None, fmt: str | None) -> None:
    """List tasks: kind, role, languages, sources."""
    from adapterx.cli_tables import print_rows, resolve_format

    rows = api.tasks(kind)
    if resolve_format(fmt) == "json":  # everything api.tasks knows, lists and mappings kept
        click.echo(json.dumps(rows, indent=1))
        return
    rows = [dict(r, task=r["name"], languages=f"{len(r['languages'])}: {' '.join(r['languages'])}",
                 local_files=" ".join(r["local_files"].values())) for r in rows]
    print_rows(rows, ("task", "kind", "role", "metric", "languages", "local_files", "hub"), "adapterx tasks", fmt,
               whole=("task",))


@main.command("train")
@click.option("--task", required=True, help="intermediate task, e.g. squad; several (mnli,squad): one multi-task module")
@common_options
@handle_errors
def train_cmd(task: str, **kwargs: Any) -> None:
    """Train one intermediate module (or reuse the cached one) and print its path; several
    tasks train one multi-task module (multitask.sampling=proportional|temperature|uniform)."""
    cfg = make_config(kwargs)
    path = api.train(task, cfg=cfg)
    click.echo(str(path))


def _target_command(name: str, setup: str, doc: str) -> None:
    @main.command(name, help=doc)
    @click.option("--inter", required=True, help="comma list of intermediate tasks, e.g. squad,mnli")
    @click.option("--target", required=True, help="target task, e.g. tydiqa, xnli, xcopa")
    @common_options
    @handle_errors
    def command(inter: str, target: str, **kwargs: Any) -> None:
        cfg = make_config(kwargs)
        getattr(api, setup)(inter, target, cfg=cfg, command=_command_line())


_target_command("fuse", "fuse", "Fuse intermediate modules (AdapterFusion; LoRA fusion with --method lora) "
                "-> target training -> zero-shot table.")
_target_command("stack", "stack", "Stack intermediate modules under a new target module -> zero-shot table.")
_target_command("sequential", "sequential", "Continue training one intermediate module (a copy) and its head "
                "on the target -> zero-shot table (with --method full: full-stilts).")
_target_command("multitask", "multitask", "Train one module on all intermediate tasks at once (a head each), "
                "stack a new target module on it -> zero-shot table.")


@main.command("merge")
@click.option("--inter", required=True, help="comma list of intermediate tasks, e.g. squad,mnli")
@click.option("--target", required=True, help="target task, e.g. xnli")
@click.option("--how", help="linear | cat | svd | ties | dare_linear | dare_ties | magnitude_prune [linear]")
@click.option("--weights", help="comma list, one per --inter task [1/N each; 1 each for ties, dare_ties]")
@common_options
@handle_errors
def merge_cmd(inter: str, target: str, how: str | None, weights: str | None, **kwargs: Any) -> None:
    """Merge LoRA modules into one (peft), train a target LoRA on top -> zero-shot table."""
    from adapterx.composition import implied_method

    # the one method that can merge (LoRA) is the natural default
    kwargs["method"] = kwargs.get("method") or implied_method("merge")
    extra = {"merge.how": how, "merge.weights": weights}
    kwargs["overrides"] = tuple(f"{k}={v}" for k, v in extra.items() if v is not None) + tuple(kwargs.get("overrides", ()))
    api.merge(inter, target, cfg=make_config(kwargs), command=_command_line())


@main.command("direct")
@click.option("--target", required=True, help="target task")
@common_options
@handle_errors
def direct_cmd(target: str, **kwargs: Any) -> None:
    """Baseline: target module only, no intermediate task -> zero-shot table."""
    api.direct(target, cfg=make_config(kwargs), command=_command_line())


@main.command("finetune")
@click.option("--inter", help="intermediate task fine-tuned on first (full-stilts); none: full-direct")
@click.option("--target", required=True, help="target task")
@common_options
@handle_errors
def finetune_cmd(inter: str | None, target: str, **kwargs: Any) -> None:
    """Full fine-tuning baseline: intermediate task then target (full-stilts), or target only."""
    if kwargs.get("method") not in (None, "full"):
        raise AdapterxError(f"finetune is full fine-tuning; --method {kwargs['method']} does not apply",
                            "drop --method, or run modules with `adapterx stack --method ...`")
    api.finetune(target, inter=inter, cfg=make_config(kwargs), command=_command_line())


@main.command("translate-test")
@click.option("--target", required=True, help="target task with translated test sets, e.g. xcopa, xnli")
@click.option("--inter", help="train as stack over these intermediate tasks; none: as direct")
@common_options
@handle_errors
def translate_test_cmd(target: str, inter: str | None, **kwargs: Any) -> None:
    """Baseline: English-trained target model on the test sets machine-translated into English."""
    api.translate_test(target, inter=inter, cfg=make_config(kwargs), command=_command_line())


@main.command("compare")
@click.option("--inter", help="comma list of intermediate tasks, e.g. siqa,copa")
@click.option("--target", required=True, help="target task")
@click.option("--setups", help="comma list, e.g. stack,fuse,full-stilts,translate-test; direct always runs "
                               "[direct,stack,fuse]")
@common_options
@handle_errors
def compare_cmd(inter: str | None, target: str, setups: str | None, **kwargs: Any) -> None:
    """Run setups side by side -> one table with per-language scores and deltas vs direct."""
    api.compare(inter, target, setups=setups, cfg=make_config(kwargs), command=_command_line())


@main.command("grid")
@click.argument("experiment")
@click.option("--dry-run", is_flag=True, help="print the plan and the trainings it needs; run nothing")
@click.option("--executor", help="local | submitit (Slurm; pip install 'adapterx[cluster]') [local]")
@click.option("--seeds", "only_seeds", help="run only these of the file's seeds, e.g. 0 or 0,1")
@click.option("--setups", "only_setups", help="run only these of the file's setups, e.g. direct,stack")
@click.option("--quiet", "-q", is_flag=True, help="one progress line and the final table, no per-cell output")
@common_options
@handle_errors
def grid_cmd(experiment: str, dry_run: bool, executor: str | None, only_seeds: str | None,
             only_setups: str | None, quiet: bool, **kwargs: Any) -> None:
    """Run an experiment grid (configs/experiments/NAME.yaml): intermediate x target x setup x
    method x seed; finished cells are skipped, failed ones recorded."""
    from adapterx.recipes.grid_plan import load_spec

    seeds = _int_list(only_seeds, "--seeds")
    setups = [s.strip() for s in only_setups.split(",") if s.strip()] if only_setups else None

    spec = load_spec(experiment)
    kwargs["preset"] = kwargs.get("preset") or spec.preset
    cfg = make_config(kwargs, defaults=spec.config)
    api.grid(experiment, dry_run=dry_run, executor=executor, cfg=cfg, command=_command_line(), seeds=seeds,
             setups=setups, quiet=quiet)


def _int_list(value: str | None, option: str) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        from adapterx.errors import AdapterxError

        raise AdapterxError(f"{option} takes a comma list of integers, got {value!r}", f"e.g. {option} 0,1") from None


@main.command("suggest")
@click.option("--target", required=True, help="target task")
@click.option("--inter", help="comma list of candidate intermediate tasks [every one with data]")
@click.option("--runs", "runs_dir", help="runs folder: also correlate similarity with measured deltas")
@click.option("--examples", "n_examples", type=int, default=200, show_default=True,
              help="examples embedded per task")
@common_options
@handle_errors
def suggest_cmd(target: str, inter: str | None, runs_dir: str | None, n_examples: int, **kwargs: Any) -> None:
    """Rank intermediate tasks by similarity to the target, before any training."""
    api.suggest(target, inter=inter, runs=runs_dir, n_examples=n_examples, cfg=make_config(kwargs))


@main.command("report")
@click.argument("runs_dir")
@click.option("--plot", is_flag=True, help="also write PNGs: deltas heatmap, per-language bars per target")
@click.option("--format", "formats", default="md,csv,json", show_default=True, help="comma list of md, csv, json")
@click.option("--out", help="folder for the report files [RUNS_DIR/report]")
@click.option("--resamples", type=int, default=1000, show_default=True, help="bootstrap resamples")
@click.option("--seed", type=int, default=0, show_default=True, help="bootstrap seed")
@handle_errors
def report_cmd(runs_dir: str, plot: bool, formats: str, out: str | None, resamples: int, seed: int) -> None:
    """Report over a runs folder: target x intermediate table with deltas vs direct, per-language
    CIs and paired bootstrap tests, robustness, XTREME scores (report.md / .csv / .json)."""
    api.report(runs_dir, out=out, formats=formats, plot=plot, resamples=resamples, seed=seed)


@main.command("eval")
@click.option("--run", "run_dir", help="a run folder written by fuse / stack / direct")
@click.option("--module", "module_dir", help="a module folder written by train")
@click.option("--target", help="target task (with --module)")
@common_options
@handle_errors
def eval_cmd(run_dir: str | None, module_dir: str | None, target: str | None, **kwargs: Any) -> None:
    """Zero-shot evaluation of a run or a module, on all (or --langs) languages."""
    model = kwargs.get("model")  # only an explicit --model replaces the module's own base
    api.evaluate(run=run_dir, module=module_dir, target=target, cfg=make_config(kwargs),
                 command=_command_line(), model=model)


@main.command("push")
@click.argument("module_dir")
@click.option("--repo", required=True, help="Hub repository id, user/name (created if missing)")
@click.option("--private", is_flag=True, help="create the repository private")
@click.option("--revision", help="branch to push to (created if missing) [main]")
@click.option("--license", "license_", help="license for the model card, e.g. mit, apache-2.0")
@click.option("--dry-run", is_flag=True, help="upload nothing: write what would be pushed, model card "
              "(README.md) included, to a local folder to preview offline")
@click.option("--out", help="folder for --dry-run [push-preview/USER__NAME]")
@handle_errors
def push_cmd(module_dir: str, repo: str, private: bool, revision: str | None, license_: str | None,
             dry_run: bool, out: str | None) -> None:
    """Upload a module folder (or a run's module/) with a generated model card to the Hub; the
    token comes from `huggingface-cli login` or HF_TOKEN."""
    if dry_run:
        from adapterx.hub_share import CARD_FILE, push_preview

        folder = push_preview(module_dir, repo, out=out, revision=revision, license=license_)
        click.echo(f"dry run, nothing uploaded; {repo} would hold {folder}/ (model card: {folder / CARD_FILE})")
        return
    click.echo(api.push(module_dir, repo, private=private, revision=revision, license=license_))


@main.command("pull")
@click.argument("repo")
@click.option("--revision", help="branch, tag or commit [main]")
@click.option("--modules-dir", help=MODULES_DIR_HELP)
@handle_errors
def pull_cmd(repo: str, revision: str | None, modules_dir: str | None) -> None:
    """Download a module pushed with `adapterx push` into the module cache and print its path."""
    click.echo(str(api.pull(repo, revision=revision, modules_dir=modules_dir)))


@main.command("predict")
@click.option("--run", "run_dir", help="a run folder written by fuse / stack / direct / ...")
@click.option("--module", "module_dir", help="a module folder written by train")
@click.option("--input", "input_file", required=True,
              help="a .jsonl file (fields per task kind) or a text file, one input per line "
                   "(a tab between the two texts of a pair, or between question and context)")
@click.option("--output", help="JSON-lines file to write [stdout]")
@click.option("--model", help="the base model's folder or Hub name, when the recorded one is not reachable")
@click.option("--target", help="the task to predict (a multi-task module's head; tatoeba / bucc: sentence vectors)")
@click.option("--device", default="auto", show_default=True, help="auto | cpu | cuda | cuda:N")
@click.option("--dtype", default="auto", show_default=True, help="fp32 | bf16 | auto")
@handle_errors
def predict_cmd(run_dir: str | None, module_dir: str | None, input_file: str, output: str | None,
                model: str | None, target: str | None, device: str, dtype: str) -> None:
    """Predict with a trained run or module: labels and probabilities, chosen answers, answer
    spans, tags, or sentence vectors, one JSON line per input."""
    if bool(run_dir) == bool(module_dir):
        raise AdapterxError("pass one of --run DIR or --module DIR", "e.g. adapterx predict --run runs/xnli/... "
                                                                     "--input texts.txt")
    from adapterx.predict import predict_file

    count = predict_file(run_dir or module_dir, input_file, output, model=model, target=target, device=device,
                         dtype=dtype)
    if output:
        click.echo(f"{count} predictions: {output}", err=True)


@main.group("cache")
def cache_group() -> None:
    """The module cache: list entries, prune leftovers, old modules and tokenized features."""


def _cache_table(rows: list[dict], title: str, root: str | None = None, fmt: str | None = None) -> None:
    import os

    from adapterx.cache import human_size
    from adapterx.cli_tables import print_rows

    shown = []
    for r in rows:
        kind = "" if r["kind"] == "module" else f"{r['kind']}, "
        shown.append({"task": r["task"], "method": r["method"], "key": r["key"], "base model": r["base_model"],
                      "size": human_size(r["size"]), "created": r["created"].replace("T", " ")[:16],
                      "dev": f"{r['dev']:.1f}" if r["dev"] is not None else "", "status": kind + r["status"],
                      # short: relative to the cache
                      "path": os.path.relpath(r["path"], root) if root else r["path"]})
    print_rows(shown, ("task", "method", "key", "base model", "size", "created", "dev", "status", "path"), title,
               fmt, whole=("task", "key", "path"))


@cache_group.command("ls")
@click.option("--modules-dir", help=MODULES_DIR_HELP)
@click.option("--format", "fmt", help=FORMAT_HELP)
@handle_errors
def cache_ls_cmd(modules_dir: str | None, fmt: str | None) -> None:
    """Where the module cache is, and a table of it: task, method, key, base model, size, created,
    dev score, status."""
    from adapterx.cache import default_modules_dir

    modules_dir = modules_dir or default_modules_dir()
    click.echo(f"module cache: {modules_dir}", err=fmt in ("plain", "json"))
    _cache_table(api.cache_ls(modules_dir), f"module cache {modules_dir}", modules_dir, fmt)


@cache_group.command("prune")
@click.option("--modules-dir", help=MODULES_DIR_HELP)
@click.option("--incomplete", is_flag=True, help="only unfinished entries: incomplete modules, temp folders, "
              "checkpoints of interrupted trainings")
@click.option("--features", is_flag=True, help="only tokenized training features (rebuilt when needed)")
@click.option("--older-than", type=float, help="only entries created more than DAYS ago")
@click.option("--task", help="only entries of this task")
@click.option("--dry-run", is_flag=True, help="list what would be removed; remove nothing")
@click.option("--output", "runs_dir", default="runs", show_default=True,
              help="runs folder: its leftovers of interrupted runs (temp folders, checkpoints) go too")
@handle_errors
def cache_prune_cmd(modules_dir: str | None, incomplete: bool, features: bool, older_than: float | None,
                    task: str | None, dry_run: bool, runs_dir: str) -> None:
    """Remove the entries matching every filter given; entries a running process holds stay."""
    from adapterx.cache import default_modules_dir

    modules_dir = modules_dir or default_modules_dir()
    out = api.cache_prune(modules_dir, incomplete=incomplete, older_than=older_than, task=task, dry_run=dry_run,
                          features=features, runs_dir=runs_dir)
    _cache_table(out["removed"], "would remove (dry run)" if dry_run else "removed", modules_dir)
    for row in out["skipped"]:
        click.echo(f"skipped {row['path']}: a running process took it", err=True)


@main.command("config")
@click.option("--list", "list_keys", is_flag=True, help="every config key with its type, default and help")
@click.option("--format", "fmt", help=FORMAT_HELP)
@common_options
@handle_errors
def config_cmd(list_keys: bool, fmt: str | None, **kwargs: Any) -> None:
    """Config keys: --list shows each with its default and help; without it, the values a command
    given the same options, --config file and KEY=VALUE overrides would use."""
    from adapterx.cli_tables import print_rows
    from adapterx.configs.listing import config_keys

    if list_keys:
        print_rows(config_keys(), ("key", "type", "default", "help"), "config keys", fmt, whole=("key",))
        return
    rows = [{"key": r["key"], "value": r["default"]} for r in config_keys(make_config(kwargs))]
    print_rows(rows, ("key", "value"), "resolved config", fmt, whole=("key",))


def _explain_overrides() -> None:
    """Every command that takes KEY=VALUE overrides explains them at the end of its --help."""
    for command in main.commands.values():
        if any(p.name == "overrides" for p in command.params):
            command.epilog = OVERRIDES_HELP


_explain_overrides()


if __name__ == "__main__":
    main()
