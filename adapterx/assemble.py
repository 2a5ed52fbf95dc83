"""The one place a trained model is built back from disk: backbone + modules + composition + head,
shared by `adapterx eval --run / --module` and `adapterx.load()` (which returns it ready to predict)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adapterx.backbone import Backbone, load_backbone
from adapterx.composition import Composition
from adapterx.configs import HeadSettings, RunConfig
from adapterx.errors import AdapterxError
from adapterx.evaluation import EvalSettings
from adapterx.heads import TaskModel
from adapterx.store import META_FILE, check_base, read_meta
from adapterx.tasks import Task, get_task


def module_folder(path: str | Path) -> Path:
    """The folder holding the model of `path`: a run folder's `module/`, or a module folder itself."""
    path = Path(path)
    if not path.exists():
        raise AdapterxError(f"{path} does not exist", "pass a run folder (runs/<target>/<name>) or a module folder")
    if (path / "module" / META_FILE).is_file():
        return path / "module"
    if path.is_dir() and (path / META_FILE).is_file() and read_meta(path).get("kind") == "run":
        raise AdapterxError(f"{path} is a run with no trained module (a retrieval run scores representations "
                            "and trains nothing)", "load the intermediate module it scored (its results.json "
                            "lists them under `modules`)")
    return path


def resolve_task(meta: dict, target: str | None, folder: Path) -> Task:
    """The task a saved model is used for: `target`, else the one it was trained on (a multi-task
    module has none by default); classification labels read from data come from its head."""
    if target is None and "tasks" in meta:
        raise AdapterxError(f"{folder} is a multi-task module ({', '.join(meta['tasks'])})",
                            f"pass --target, e.g. --target {meta['tasks'][0]}")
    task = get_task(target or meta["task"])
    if task.labels_from_data and meta.get("head", {}).get("labels"):
        task = dataclasses.replace(task, labels=tuple(meta["head"]["labels"]))
    return task


def load_trained(folder: Path, meta: dict, task: Task, cfg: RunConfig,
                 model_name: str) -> tuple[TaskModel, Backbone, Composition, list[str]]:
    """A saved module or a run's `module/` (with its intermediate modules and head) on its base,
    ready to evaluate `task`; also returns the composition and the intermediate task names."""
    from adapterx.methods import get_method
    from adapterx.methods.lora.merge import MERGED
    from adapterx.recipes.common import build_model, load_head
    from adapterx.recipes.multitask import pick_head
    from adapterx.recipes.target import TARGET_MODULE
    from adapterx.recipes.train_module import ModuleRecord

    quant = meta["base_model"].get("quant", "none")
    bb = load_backbone(model_name, cfg.dtype, quant, cfg.device, cfg.trust_remote_code)
    check_base(meta, bb.fingerprint, model_name, folder)
    method = get_method(meta["method"])
    method.prepare(bb)
    if meta["kind"] == "module":  # a single intermediate (or target-trained) module with its head
        method.load(bb, folder, meta["task"])
        method.compose(bb, Composition("stack", (meta["task"],)), None)
        comp, inter = Composition("direct"), [meta["task"]]
    else:
        comp = Composition.from_dict(meta["composition"])
        # sequential: the run's module is the continued intermediate one, which replaces it
        for record in meta["modules"] if comp.setup != "sequential" else []:
            parts = ModuleRecord(record["task"], Path(record["path"]), record["key"], reused=True)
            check_base(read_meta(parts.path), bb.fingerprint, model_name, parts.path)
            method.load(bb, parts.path, parts.task)
        if comp.setup != "fuse":
            method.load(bb, folder, TARGET_MODULE)
        method.load_composition(bb, comp, folder)
        # inference: the target module sits on top of the intermediate ones (a stack of one = direct)
        on_top = {"merge": (MERGED,), "sequential": ()}.get(comp.setup, comp.inter)
        if comp.setup == "multitask":  # one multi-task module under the target, by its own name
            on_top = tuple(record["task"] for record in meta["modules"])
        active = comp if comp.setup == "fuse" else Composition("stack", on_top + (TARGET_MODULE,))
        method.compose(bb, active, None)
        inter = list(comp.inter)
    where, spec = pick_head(folder, meta, task)  # a multi-task module: the head that fits
    model = build_model(bb, task, HeadSettings.from_spec(spec))  # the pooling it was trained with
    load_head(model, where, spec, task)
    return model, bb, comp, inter


def with_modules(cfg: RunConfig, modules: list, inter: list[str]) -> Backbone:
    """The base of `cfg` with intermediate `modules` (ModuleRecords, checked against it) active
    and no head: what retrieval scores its representations from."""
    from adapterx.methods import get_method
    from adapterx.recipes.target import attach_modules

    bb = load_backbone(cfg.model, cfg.dtype, cfg.quant, cfg.device, cfg.trust_remote_code)
    if modules:
        method = get_method(cfg.method)
        method.prepare(bb)
        attach_modules(bb, cfg, modules)
        method.compose(bb, Composition("stack", tuple(inter)), None)
    return bb


def base_model_name(meta: dict, model: str | None, folder: Path) -> str:
    """The base to build: `model` when given, else the recorded one, which must still be there
    when it was a local folder."""
    if model:
        return str(model)
    name = meta["base_model"]["name"]
    if os.path.isabs(name) and not Path(name).exists():
        raise AdapterxError(f"{folder} was trained on the base model at {name}, which is not there any more",
                            "pass the base model's folder or Hub name: model=DIR (--model DIR)")
    return name


# The run's own evaluation settings, when it recorded them: predictions are then made exactly as the
# run's predictions/ were.
_SAVED_EVAL_KEYS = ("max_seq_length", "doc_stride", "n_best", "max_answer_length", "eval_batch_size")


def _config(meta: dict, device: str, dtype: str) -> RunConfig:
    """A config for prediction: the run's evaluation and retrieval settings where it saved them."""
    from adapterx.api import build_config

    saved = meta.get("config") or {}
    training = saved.get("training") or {}
    overrides: dict[str, Any] = {f"training.{k}": training[k] for k in _SAVED_EVAL_KEYS if training.get(k) is not None}
    overrides.update({f"retrieval.{k}": v for k, v in (saved.get("retrieval") or {}).items() if v is not None})
    return build_config(overrides={"device": device, "dtype": dtype, **overrides})


@dataclass
class Loaded:
    """A trained module or run, built and ready: `predict(inputs)` per its task (adapterx.predict)."""

    model: TaskModel | None  # None for retrieval: its vectors come from the encoder itself
    backbone: Backbone
    task: Task
    meta: dict
    folder: Path
    settings: EvalSettings
    cfg: RunConfig

    @property
    def tokenizer(self) -> Any:
        """The base model's tokenizer."""
        return self.backbone.tokenizer

    def predict(self, inputs: list) -> list[dict]:
        """One prediction dict per input (fields per task kind: see adapterx.predict)."""
        from adapterx.predict import predict

        return predict(self, inputs)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Sentence vectors, one row per text, as the retrieval recipe makes them (retrieval only)."""
        from adapterx.predict import embed_texts

        return embed_texts(self, texts)


def load(path: str | Path, device: str = "auto", dtype: str = "auto", model: str | None = None,
         target: str | None = None) -> Loaded:
    """A run folder (runs/<target>/<name>) or a module folder, built on its base model as
    `adapterx eval` builds it, ready to predict. `model`: the base's folder or Hub name when the
    recorded one is not reachable (checked against the module's fingerprint); `target`: the task
    to predict (a multi-task module's head, or tatoeba / bucc for sentence vectors)."""
    from adapterx.recipes.common import eval_settings

    folder = module_folder(path)
    meta = read_meta(folder)
    task = resolve_task(meta, target, folder)
    cfg = _config(meta, device, dtype)
    name = base_model_name(meta, model, folder)
    if task.kind == "retrieval":
        if meta["kind"] != "module":
            raise AdapterxError("sentence vectors for retrieval come from intermediate modules, not target runs",
                                "pass a module folder written by `adapterx train`")
        from adapterx.recipes.train_module import ModuleRecord

        cfg = dataclasses.replace(cfg, model=name, method=meta["method"], quant=meta["base_model"].get("quant", "none"))
        bb = with_modules(cfg, [ModuleRecord(meta["task"], folder, meta["key"], reused=True)], [meta["task"]])
        return Loaded(None, bb, task, meta, folder, eval_settings(task, cfg), cfg)
    trained, bb, _, _ = load_trained(folder, meta, task, cfg, name)
    trained.eval()
    return Loaded(trained, bb, task, meta, folder, eval_settings(task, cfg), cfg)
