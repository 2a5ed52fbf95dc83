"""The one place a model is built: backbone + modules + composition + head (`assemble`), for
training a module or a target run, for retrieval, and from disk for `adapterx eval --run / --module`
and `adapterx.load()` (which returns it ready to predict). What each setup loads, trains and
activates is the method's (Method.plan): nothing here tests a setup's name."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from transformers import set_seed

from adapterx.backbone import Backbone, load_backbone
from adapterx.composition import Composition
from adapterx.configs import HeadSettings, RunConfig
from adapterx.errors import AdapterxError
from adapterx.evaluation import EvalSettings
from adapterx.heads import TaskModel
from adapterx.methods import Method, get_method, method_settings
from adapterx.methods.base import Plan
from adapterx.recipes.common import build_model, head_fits, load_head
from adapterx.report.console import console
from adapterx.store import META_FILE, check_base, read_meta
from adapterx.tasks import Task, get_task

if TYPE_CHECKING:
    from adapterx.recipes.train_module import ModuleRecord


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


@dataclass
class Assembled:
    """A built model: the backbone with its modules composed, the method and plan that composed
    them, and one task model (encoder + head) per requested task."""

    bb: Backbone
    method: Method | None = None  # None: the bare backbone
    plan: Plan | None = None  # None: nothing trains (a saved model, or frozen modules)
    models: dict[str, TaskModel] = field(default_factory=dict)
    head_from: str | None = None  # the intermediate module the target head started from

    @property
    def model(self) -> TaskModel:
        """The task model of a single-task build."""
        return next(iter(self.models.values()))


def assemble(cfg: RunConfig, comp: Composition | None = None, modules: Sequence[ModuleRecord] = (), *,
             train: str | None = None, saved: Path | None = None, heads: Sequence[Task] = (),
             head_init: bool = False) -> Assembled:
    """THE place a model is built for `cfg`: its backbone (model, dtype, quant, device), then

    * `train` set: `comp` (default direct) over the intermediate `modules`, per the method's plan
      (frozen, or continued as `train`), a new trainable module `train` where the plan adds one,
      and fresh heads for `heads` (the first starting from a fitting module's head, `head_init`);
    * `saved` set: the module or run folder `saved` with its parts, composed for inference, and
      its saved head for `heads[0]`;
    * else: `modules` loaded frozen and active together (retrieval), or the bare backbone."""
    bb = load_backbone(cfg.model, cfg.dtype, cfg.quant, cfg.device, cfg.trust_remote_code)
    if train is None and saved is None and not modules:
        return Assembled(bb)
    if train is not None:
        set_seed(cfg.seed)  # new modules and heads get their initial weights from the seed
    method = get_method(cfg.method)
    method.prepare(bb)
    if saved is not None:
        return _assemble_saved(bb, method, cfg, Path(saved), heads[0] if heads else None)
    if train is None:  # frozen modules, all active: what retrieval scores representations from
        attach_modules(bb, cfg, modules, method=method)
        method.compose(bb, Composition("stack", tuple(m.task for m in modules)), None)
        return Assembled(bb, method)
    comp = comp or Composition("direct")
    plan = method.plan(comp, tuple(m.task for m in modules), train)
    by_name = {m.task: m for m in modules}
    attach_modules(bb, cfg, [by_name[name] for name in plan.load], method=method)
    if plan.continued is not None:  # its folder is only read: the continued module is saved in the run
        attach_modules(bb, cfg, [by_name[plan.continued]], continued=plan.module, method=method)
    if plan.adds_module:
        method.add(bb, plan.module, method_settings(cfg.method, cfg))
    method.compose(bb, plan.train_active, plan.train, method.composition_settings(comp, cfg))
    models = {task.name: build_model(bb, task, cfg.head) for task in heads}
    head_from = init_head(models[heads[0].name], heads[0], list(modules), cfg.head.pooling) \
        if head_init and heads else None
    return Assembled(bb, method, plan, models, head_from)


def _assemble_saved(bb: Backbone, method: Method, cfg: RunConfig, folder: Path, task: Task | None) -> Assembled:
    """A saved module (with its head) or a run's `module/` (with its intermediate modules,
    composition and head) on `bb`, composed for inference."""
    meta = read_meta(folder)
    check_base(meta, bb.fingerprint, cfg.model, folder)  # the cheap, clear error first
    if meta["kind"] == "module":  # a single intermediate (or target-trained) module with its head
        attach_modules(bb, cfg, [_record(meta, folder)], method=method)
        method.compose(bb, Composition("stack", (meta["task"],)), None)
    else:
        comp = Composition.from_dict(meta["composition"])
        parts = {r["task"]: _record(r, Path(r["path"])) for r in meta["modules"]}
        plan = method.plan(comp, tuple(parts))
        attach_modules(bb, cfg, [parts[name] for name in plan.infer_load], method=method)
        if plan.module is not None:
            method.load(bb, folder, plan.module)
        method.load_composition(bb, comp, folder)
        method.compose(bb, plan.infer_active, None)
    models = {}
    if task is not None:
        from adapterx.recipes.multitask import pick_head

        where, spec = pick_head(folder, meta, task)  # a multi-task module: the head that fits
        models[task.name] = build_model(bb, task, HeadSettings.from_spec(spec))  # the pooling it was trained with
        load_head(models[task.name], where, spec, task)
    return Assembled(bb, method, None, models)


def _record(meta: dict, folder: Path) -> ModuleRecord:
    """A module already on disk, as the recipes pass modules around."""
    from adapterx.recipes.train_module import ModuleRecord

    return ModuleRecord(meta["task"], folder, meta["key"], reused=True)


def attach_modules(bb: Backbone, cfg: RunConfig, modules: Sequence[ModuleRecord], continued: str | None = None,
                   method: Method | None = None) -> None:
    """Load each intermediate module (frozen) after checking it was trained on this base with
    this method; `continued`: the one module loads trainable, under that name."""
    method = method or get_method(cfg.method)
    for record in modules:
        meta = read_meta(record.path)
        check_base(meta, bb.fingerprint, cfg.model, record.path)
        if meta.get("method") != cfg.method:
            raise AdapterxError(f"module {record.path} is a {meta.get('method')} module, not {cfg.method}",
                                f"pass --method {meta.get('method')}")
        if continued:
            method.load(bb, record.path, continued, trainable=True)
        else:
            method.load(bb, record.path, record.task)


def init_head(model: TaskModel, task: Task, modules: list[ModuleRecord], pooling: str = "cls") -> str | None:
    """Start the target head from the first intermediate module whose head fits the target;
    return that module's task name (None: the head stays fresh)."""
    from adapterx.recipes.multitask import module_heads

    for record in modules:
        for name, spec, folder in module_heads(read_meta(record.path), record.path):  # multi-task: one per task
            if head_fits(spec, task, pooling):
                load_head(model, folder, spec, task)
                where = f"the {name} module's head" if name == record.task else f"module {record.task}'s {name} head"
                console.print(f"target head starts from {where}")
                return name
    return None


def load_trained(folder: Path, meta: dict, task: Task, cfg: RunConfig,
                 model_name: str) -> tuple[TaskModel, Backbone, Composition, list[str]]:
    """A saved module or a run's `module/` on its base `model_name` (its recorded quantization),
    ready to evaluate `task`; also returns the composition and the intermediate task names."""
    cfg = dataclasses.replace(cfg, model=model_name, method=meta["method"],
                              quant=meta["base_model"].get("quant", "none"))
    built = assemble(cfg, saved=folder, heads=[task])
    if meta["kind"] == "module":
        return built.model, built.bb, Composition("direct"), [meta["task"]]
    comp = Composition.from_dict(meta["composition"])
    return built.model, built.bb, comp, list(comp.inter)


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
        cfg = dataclasses.replace(cfg, model=name, method=meta["method"], quant=meta["base_model"].get("quant", "none"))
        bb = assemble(cfg, modules=[_record(meta, folder)]).bb
        return Loaded(None, bb, task, meta, folder, eval_settings(task, cfg), cfg)
    trained, bb, _, _ = load_trained(folder, meta, task, cfg, name)
    trained.eval()
    return Loaded(trained, bb, task, meta, folder, eval_settings(task, cfg), cfg)
