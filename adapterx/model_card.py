"""The README.md model card pushed with a module: Hub front matter, what the module is, how it was
trained, its scores, and how to load it with plain peft / adapters and with adapterx."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import yaml

from adapterx.cache import module_relpath
from adapterx.methods.registry import find_method, resolve

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
PAPER = "Phang et al. 2020, *English intermediate-task training improves zero-shot cross-lingual transfer too*"


def hub_model_id(name: str) -> str | None:
    """The base model's Hub id, or None for a local folder (the Hub refuses paths as base_model)."""
    return name if HUB_ID.match(name) and not os.path.isabs(name) and not os.path.isdir(name) else None


def card_tasks(meta: dict) -> list[str]:
    """Every task the module learned from: intermediate task(s), and for a composite the target."""
    if meta.get("kind") == "module":
        return list(meta.get("tasks") or [meta["task"]])
    return [*(meta.get("composition") or {}).get("inter", []), meta["task"]]


def _registry_task(name: str):
    from adapterx.tasks import all_tasks

    return all_tasks().get(name)


def card_datasets(tasks: list[str]) -> list[str]:
    """Hub dataset ids of the tasks (and of the English tasks targets train on)."""
    from adapterx.data.hub_sources import HUB_SOURCES

    ids: list[str] = []
    for name in tasks:
        task = _registry_task(name)
        for hub in (task.hub, _registry_task(task.train_task).hub) if task else ():
            source = HUB_SOURCES.get(hub)
            if source and source.dataset_id not in ids:
                ids.append(source.dataset_id)
    return ids


def card_languages(meta: dict, results: dict | None) -> list[str]:
    """English for an intermediate module; the target's languages for a composite."""
    langs = ["en"]
    if meta.get("kind") != "module":
        task = _registry_task(meta["task"])
        langs += list(task.languages) if task else []
        langs += list((results or {}).get("per_language", {}))
    return list(dict.fromkeys(langs))


def front_matter(meta: dict, results: dict | None, license: str | None = None) -> dict:
    """The YAML metadata the Hub reads (library, base model, tags, datasets, languages)."""
    setup = (meta.get("composition") or {}).get("setup")
    spec = find_method(meta["method"])
    tags = ["adapterx", *card_tasks(meta), *(spec.tags() if spec else [meta["method"]])]
    tags += [setup] if setup else ["intermediate-task-training"]
    tags += ["cross-lingual-transfer", "zero-shot"]
    data: dict = {"library_name": spec.card_library if spec else "transformers"}
    base = hub_model_id(meta["base_model"]["name"])
    if base:
        data["base_model"] = base
    data["tags"] = list(dict.fromkeys(tags))
    datasets = card_datasets(card_tasks(meta))
    if datasets:
        data["datasets"] = datasets
    data["language"] = card_languages(meta, results)
    license = license or meta.get("license")
    if license:
        data["license"] = license
    return data


def method_settings(meta: dict) -> dict:
    """The method's settings (a composite keeps them in its run config)."""
    return meta.get("method_settings") or (meta.get("config") or {}).get(meta["method"]) or {}


def _block(data: object) -> str:
    return "```yaml\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True).strip() + "\n```"


def _fmt(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _about(meta: dict, repo: str) -> list[str]:
    comp = meta.get("composition") or {}
    if meta.get("kind") == "module":
        what = (f"An English intermediate-task module trained on **{', '.join(card_tasks(meta))}** "
                f"with **{meta['method']}**")
    else:
        what = (f"A **{comp.get('setup')}** composition ({meta['method']}) of the intermediate module(s) "
                f"**{', '.join(comp.get('inter', [])) or 'none'}**, trained on the English data of target "
                f"**{meta['task']}**; the intermediate modules travel with it under `parts/`")
    return [f"# {repo.split('/')[-1]}", "",
            f"{what}, for zero-shot cross-lingual transfer ({PAPER}), made with "
            "adapterx and pushed with `adapterx push`.", ""]


def _base(meta: dict) -> list[str]:
    base = meta["base_model"]
    rows = [f"| {k} | {v} |" for k, v in base.get("fingerprint", {}).items()]
    dtype = f", dtype: {base['dtype']}" if base.get("dtype") else ""
    return ["## Base model", "", f"`{base['name']}` (quantization: {base.get('quant', 'none')}{dtype}). "
            "adapterx checks this fingerprint when it loads the module and refuses any other base:", "",
            "| fingerprint | value |", "|---|---|", *rows, ""]


def _training(meta: dict) -> list[str]:
    out = ["## Method and training", "", f"Method: **{meta['method']}**, settings:", "",
           _block(method_settings(meta)), ""]
    if meta.get("kind") == "module":
        facts = {k: meta[k] for k in ("n_train_examples", "n_dev_examples", "seed", "train_seconds",
                                      "trainable_params", "multitask", "mix", "mlm") if k in meta}
        out += ["Training config:", "", _block({**(meta.get("training") or {}), **facts}), ""]
    else:
        config = meta.get("config") or {}
        keep = {k: config[k] for k in ("seed", "training", "fusion", "merge", "head_init") if k in config}
        out += [f"Composition: `{json.dumps(meta.get('composition'))}`; parts: "
                + ", ".join(f"`{m['task']}` (key {m['key']})" for m in meta.get("modules", [])), "",
                "Training config:", "", _block(keep), ""]
    return out


def _metrics(meta: dict, results: dict | None) -> list[str]:
    out = ["## Results", ""]
    dev = (meta.get("metrics") or {}).get("english_dev")
    if dev is None and results:
        dev = results.get("english_dev")
    out += [f"English dev: `{json.dumps(dev)}`" if dev is not None else "English dev: not recorded", ""]
    if results and results.get("per_language"):
        out += [f"Zero-shot on {results.get('target')} ({results.get('eval_split')} split, metric "
                f"{results.get('metric')}, setup {results.get('setup')}, seed {results.get('seed')}):", "",
                "| language | score | n |", "|---|---|---|"]
        for lang, score in results["per_language"].items():
            shown = ", ".join(f"{k} {_fmt(v)}" for k, v in score.items()) if isinstance(score, dict) else _fmt(score)
            out.append(f"| {lang} | {shown} | {results.get('n_examples', {}).get(lang, '')} |")
        out.append(f"| **average** | {_fmt(results.get('average'))} | |")
        if "average_em_f1" in results:
            out.append(f"| (EM+F1)/2 | {_fmt(results['average_em_f1'])} | |")
        out.append("")
    return out


def _example_target(meta: dict) -> str:
    if meta.get("kind") != "module":
        return meta["task"]
    from adapterx.tasks import all_tasks

    tasks = [t for t in all_tasks().values() if t.is_target]
    first = (meta.get("tasks") or [meta["task"]])[0]
    same = [t.name for t in tasks if t.train_task == first]
    own = _registry_task(first)
    kind = [t.name for t in tasks if own and t.kind == own.kind]
    return (same or kind or ["TARGET"])[0]


def _usage(meta: dict, repo: str, revision: str | None, local: Path | None = None) -> list[str]:
    base = meta["base_model"]["name"]
    rev = f', revision="{revision}"' if revision else ""
    if local is not None:  # the card written beside a module in the cache
        out = ["## How to use", "", "### With adapterx", "", "```bash",
               f"adapterx eval --module {local} --target {_example_target(meta)}", "```", ""]
    else:
        rel = module_relpath(meta)
        pull = f"adapterx pull {repo}" + (f" --revision {revision}" if revision else "")
        out = ["## How to use", "", "### With adapterx", "", "```bash", f"path=$({pull})",
               f'adapterx eval --module "$path" --target {_example_target(meta)}',
               "```", "", f"`pull` places it at `{rel.as_posix()}/` in the module cache (the path its key "
               "implies; `adapterx cache ls` shows where the cache is), checks its adapterx.json and prints "
               "the folder; `eval` loads it on its base model and scores every language.", ""]
    head = meta.get("head") or {}
    what = " ".join(str(x) for x in (head.get("kind", "one per task, under heads/"), head.get("labels")) if x)
    note = (f"The task head (`adapterx_head.safetensors`: {what}) is adapterx's own: plain libraries give the "
            "encoder with the module; use adapterx for predictions.")
    if head.get("kind") == "multiple_choice":  # AutoModelForMultipleChoice adds the pooler: not this head
        note += (" It scores each (context, choice) sequence as `score.weight @ h + score.bias`, h the "
                 "encoder's first-token output; no AutoModelForMultipleChoice head computes that.")
    dl = f'path = "{local}"' if local is not None else f'path = snapshot_download("{repo}"{rev})'
    spec = find_method(meta["method"])
    if spec is None or spec.card_usage is None:
        return out + ["Load it with adapterx as above.", ""]
    return out + resolve(spec.card_usage)(meta, dl=dl, base=base, repo=repo, rev=rev, note=note)


def model_card(meta: dict, repo: str, results: dict | None = None, revision: str | None = None,
               license: str | None = None, local: Path | None = None) -> str:
    """README.md text (huggingface_hub's ModelCard): Hub metadata, then what / base / training /
    results / how to use; `local`: the card of a module folder on disk, loaded from there."""
    from huggingface_hub import ModelCard, ModelCardData

    data = ModelCardData(**front_matter(meta, results, license))
    body = [*_about(meta, repo), *_base(meta), *_training(meta), *_metrics(meta, results),
            *_usage(meta, repo, revision, local)]
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body).rstrip() + "\n"))


def write_module_card(folder: Path, meta: dict, final: Path) -> None:
    """README.md beside a freshly trained module (`final`: where it will live)."""
    text = model_card(meta, final.name, local=final)
    (Path(folder) / "README.md").write_text(text, encoding="utf-8")


def read_results(folder: Path) -> dict | None:
    """results.json of the run a module folder belongs to (beside a run's `module/`, or pulled
    into the folder itself)."""
    folder = Path(folder)
    candidates = [folder / "results.json"]
    if folder.name == "module":
        candidates.append(folder.parent / "results.json")
    for path in candidates:
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    return None
