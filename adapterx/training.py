"""Training on the Hugging Face Trainer: dynamic padding, accumulation, bf16 where the device has it,
seeded, checkpoints that hold only what trains (marked complete), and model selection on the
English dev set after every epoch."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import ProgressCallback

from adapterx.configs.run import check_training_choices
from adapterx.store import DONE_MARKER
from adapterx.train_state import (OPTIMIZER_FILE, SCALER_FILE, SCHEDULER_FILE, load_state, resumable_checkpoint,
                                  rng_file, rng_state, save_state, set_rng_state)

log = logging.getLogger(__name__)
TRAINABLE_FILE = "trainable.safetensors"
BEST_FILE = "best_on_dev.safetensors"
SELECTION_FILE = "dev_selection.json"
# Below this many dev examples the best epoch is mostly chosen by noise (on COPA's 20 items one
# item is 5 points, the standard error of one epoch's score about 11): keeping it is warned about.
SMALL_DEV = 200


@dataclass
class TrainSettings:
    """Resolved hyperparameters of one training (task defaults already applied)."""

    learning_rate: float
    epochs: float
    batch_size: int
    grad_accum: int
    warmup_ratio: float
    weight_decay: float
    logging_steps: int
    seed: int
    save_checkpoints: bool = True
    gradient_checkpointing: bool = False
    optim: str = "adamw_torch"  # one of OPTIMS (`auto`: resolve_optim), passed to TrainingArguments
    group_by_length: bool = False  # batches of similar length (less padding); single-source data only
    lr_scheduler: str = "linear"  # one of LR_SCHEDULERS, passed to TrainingArguments
    select: str = "best"  # best: the best epoch on English dev; last: the final weights
    report_to: str = "none"  # one of REPORT_TO: the Trainer's logging integration (loss curves)
    max_grad_norm: float = 1.0  # gradient clipping (0: none), passed to TrainingArguments

    def __post_init__(self) -> None:
        check_training_choices(self)  # settings built without a TrainingConfig are checked too


LOGS_DIR = ".logs"  # beside .work/: <output or modules>/.logs/<training>, one loss curve per training
LENGTH_COLUMN = "length"  # the column the Trainer's length-grouped sampler reads


@dataclass
class TrainOutcome:
    """What a training produced besides the weights left in the model."""

    train_seconds: float
    peak_memory_mb: float
    best_dev: float | None
    dev_history: list[dict] = field(default_factory=list)
    steps: int = 0
    select: str = "best"
    selected_dev: float | None = None  # the dev score of the weights kept (best: = best_dev)


class _ModuleTrainer(Trainer):
    """A Trainer whose checkpoints hold only trainable weights (a frozen 8-bit base is never
    rewritten) and are marked complete only after every file is on disk."""

    def _save(self, output_dir: str | None = None, state_dict=None) -> None:
        from safetensors.torch import save_file

        out = Path(output_dir or self.args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        weights = {n: p.detach().contiguous().cpu() for n, p in self.model.named_parameters() if p.requires_grad}
        save_file(weights, str(out / TRAINABLE_FILE))
        # JSON, not the Trainer's pickled training_args.bin: nothing here is ever unpickled (and
        # to_json_string masks *_token fields)
        (out / "training_args.json").write_text(self.args.to_json_string(), encoding="utf-8")

    selector: "_SelectOnDev | None" = None
    # An extra term of the training objective that the model's own loss lacks (AdapterFusion's
    # value-matrix regularization, which only adapters' AdapterTrainer would add); None: none.
    regularizer: Callable[[], torch.Tensor | None] | None = None
    _reg_sum, _reg_count = 0.0, 0

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        result = super().compute_loss(model, inputs, return_outputs=return_outputs,
                                      num_items_in_batch=num_items_in_batch)
        term = self.regularizer() if self.regularizer is not None else None
        if term is None:
            return result
        loss, outputs = result if return_outputs else (result, None)
        loss = loss + term.to(loss.dtype)
        # detached and summed on the device: no host sync per step
        self._reg_sum, self._reg_count = self._reg_sum + term.detach().float(), self._reg_count + 1
        return (loss, outputs) if return_outputs else loss

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        # the term's mean since the last log beside the loss (it is part of it), so it is visible
        if self._reg_count and "loss" in logs:
            logs["fusion_regularization"] = float(self._reg_sum) / self._reg_count
            self._reg_sum, self._reg_count = 0.0, 0
        super().log(logs, *args, **kwargs)

    _defer_rotation = False

    def _save_checkpoint(self, model, trial) -> None:
        # The Trainer deletes older checkpoints (save_total_limit) at the end of its own save, which
        # would leave a kill between that and our marker with no complete checkpoint at all: the
        # previous one goes only once the new one is marked complete.
        ckpt = Path(self.args.output_dir) / f"checkpoint-{self.state.global_step}"
        self._defer_rotation = True
        try:
            super()._save_checkpoint(model, trial)
            if not self.args.should_save:  # other ranks of a multi-process launch: the main one writes
                return
            if ckpt.is_dir():
                if self.selector is not None:  # the best epoch so far must survive a restart too
                    self.selector.save(ckpt)
                (ckpt / DONE_MARKER).write_text("ok", encoding="utf-8")
        except OSError as err:
            _drop_partial_checkpoint(ckpt, err)
            raise
        finally:
            self._defer_rotation = False
        self._rotate_checkpoints(use_mtime=True, output_dir=self.args.output_dir)

    def _rotate_checkpoints(self, *args, **kwargs) -> None:
        if not self._defer_rotation:
            super()._rotate_checkpoints(*args, **kwargs)

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model=None) -> None:
        from safetensors.torch import load_file

        model = model or self.model
        state = load_file(os.path.join(resume_from_checkpoint, TRAINABLE_FILE))
        names = {n for n, _ in model.named_parameters()}
        unknown = set(state) - names
        if unknown:
            raise RuntimeError(f"checkpoint {resume_from_checkpoint} does not fit this model: {sorted(unknown)[:3]}")
        model.load_state_dict(state, strict=False)

    # The Trainer's training state is torch.save pickles (optimizer.pt, scheduler.pt, scaler.pt,
    # rng_state.pth) that its resume unpickles, the RNG one without weights_only: adapterx writes
    # and reads that state as safetensors + JSON instead (adapterx.train_state).
    def _save_optimizer_and_scheduler(self, output_dir: str) -> None:
        if self.args.should_save:
            save_state(self.optimizer.state_dict(), Path(output_dir) / OPTIMIZER_FILE)
            save_state(self.lr_scheduler.state_dict(), Path(output_dir) / SCHEDULER_FILE)

    def _load_optimizer_and_scheduler(self, checkpoint: str | None) -> None:
        if checkpoint is not None:  # resumable_checkpoint already checked that both read back
            self.optimizer.load_state_dict(load_state(Path(checkpoint) / OPTIMIZER_FILE))
            self.lr_scheduler.load_state_dict(load_state(Path(checkpoint) / SCHEDULER_FILE))

    def _save_scaler(self, output_dir: str) -> None:
        scaler = getattr(self.accelerator, "scaler", None)
        if scaler is not None and self.args.should_save:
            save_state(scaler.state_dict(), Path(output_dir) / SCALER_FILE)

    def _load_scaler(self, checkpoint: str | None) -> None:
        scaler = getattr(self.accelerator, "scaler", None)
        if checkpoint is not None and scaler is not None and (Path(checkpoint) / SCALER_FILE).is_file():
            scaler.load_state_dict(load_state(Path(checkpoint) / SCALER_FILE))

    def _save_rng_state(self, output_dir: str) -> None:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        save_state(rng_state(), Path(output_dir) / rng_file(self.args.process_index, self.args.world_size))

    def _load_rng_state(self, checkpoint: str | None) -> None:
        path = Path(checkpoint or "") / rng_file(self.args.process_index, self.args.world_size)
        if checkpoint is not None and path.is_file():
            set_rng_state(load_state(path))

    def _load_best_model(self) -> None:
        # adapterx selects on dev itself (_SelectOnDev); the Trainer's own path could unpickle
        raise NotImplementedError("load_best_model_at_end is not used by adapterx")


RESUME_FILES = (TRAINABLE_FILE, "trainer_state.json", OPTIMIZER_FILE, SCHEDULER_FILE)


def _drop_partial_checkpoint(ckpt: Path, err: OSError) -> None:
    """A full disk mid-save: remove the unmarked checkpoint (it would only hold the space) and
    note on the error how much it had written, for the message."""
    import errno
    import shutil

    if err.errno != errno.ENOSPC or not ckpt.is_dir() or (ckpt / DONE_MARKER).is_file():
        return
    from adapterx.cache import folder_size

    err.adapterx_written = folder_size(ckpt)  # type: ignore[attr-defined]
    err.filename = err.filename or str(ckpt)
    shutil.rmtree(ckpt, ignore_errors=True)


def last_complete_checkpoint(folder: Path) -> str | None:
    """Highest-numbered checkpoint whose done marker exists (the Trainer's own lookup would take a
    folder whose save a kill interrupted)."""
    if not Path(folder).is_dir():
        return None
    found = []
    for child in Path(folder).iterdir():
        m = re.fullmatch(r"checkpoint-(\d+)", child.name)
        if m and (child / DONE_MARKER).is_file() and (child / TRAINABLE_FILE).is_file():
            found.append((int(m.group(1)), child))
    return str(max(found)[1]) if found else None


class _SelectOnDev(TrainerCallback):
    """Score the English dev set after each epoch; keep the best trainable weights in memory."""

    def __init__(self, model: torch.nn.Module, score_fn: Callable[[], float], announce: bool = True) -> None:
        self.model, self.score_fn, self.announce = model, score_fn, announce
        self.best: float | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.history: list[dict] = []

    def on_epoch_end(self, args, state, control, **kwargs):
        was_training = self.model.training
        self.model.eval()
        score = float(self.score_fn())
        self.model.train(was_training)
        self.history.append({"epoch": round(state.epoch or 0, 3), "step": state.global_step, "dev": score})
        log.info("epoch %.2f: English dev %.2f", state.epoch or 0, score)
        if self.announce:  # above the progress bar, which tqdm.write keeps intact
            from tqdm.auto import tqdm

            best = " (best so far)" if self.best is None or score > self.best else ""
            tqdm.write(f"epoch {state.epoch or 0:.2f}: English dev {score:.2f}{best}", file=sys.stderr)
        if self.best is None or score > self.best:
            self.best = score
            self.best_state = {n: p.detach().clone() for n, p in self.model.named_parameters() if p.requires_grad}
        return control

    def save(self, folder: Path) -> None:
        """Write the best weights and the dev history into a checkpoint folder."""
        from safetensors.torch import save_file

        if self.best_state is not None:
            save_file({k: v.contiguous().cpu() for k, v in self.best_state.items()}, str(folder / BEST_FILE))
        (folder / SELECTION_FILE).write_text(json.dumps({"best": self.best, "history": self.history}))

    def load(self, folder: Path) -> None:
        """Read what save() wrote (when resuming)."""
        from safetensors.torch import load_file

        if (folder / SELECTION_FILE).is_file():
            data = json.loads((folder / SELECTION_FILE).read_text())
            self.best, self.history = data["best"], data["history"]
        if (folder / BEST_FILE).is_file():
            self.best_state = load_file(str(folder / BEST_FILE))

    def restore_best(self) -> None:
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state, strict=False)


def resolve_select(select: str, n_dev: int | None) -> str:
    """`training.select` as it runs: `auto` keeps the best epoch when `n_dev` English dev examples
    (None: no dev scoring) are enough to tell epochs apart, else the last. On COPA's 20 items the
    best epoch is mostly the luckiest one: a plain script keeping the best of 5 epochs lost most of
    SIQa -> XCOPA's gain (+5.1 -> +2.1), see README "Model selection"."""
    if select != "auto":
        return select
    return "best" if n_dev is not None and n_dev >= SMALL_DEV else "last"


@functools.lru_cache(maxsize=None)
def note_auto_last(n_dev: int) -> None:
    """Say once per dev-set size that `auto` keeps the last epoch on a small dev set."""
    log.info("training.select=auto keeps the last epoch: %d English dev examples are too few to pick one "
             "(fewer than %d; training.select=best picks anyway)", n_dev, SMALL_DEV)


@functools.lru_cache(maxsize=None)
def warn_small_dev(n_dev: int) -> None:
    """Say once per dev-set size that picking the best epoch on so few examples is mostly noise."""
    log.warning("training.select=best picks the epoch on %d English dev examples (fewer than %d): "
                "the choice is mostly noise; training.select=last keeps the final weights", n_dev, SMALL_DEV)


class PeakRSS:
    """Peak resident memory of this process while the block runs, sampled every `interval` s.

    The process-wide high-water mark (ru_maxrss) never resets, so after a module training in the
    same process it would report that training's peak for every later run; sampling per run does
    not (it can miss spikes shorter than `interval`)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.peak = interval, 0
        self._stop = None

    def _sample(self) -> None:
        import psutil

        process = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, process.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakRSS":
        import threading

        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        """The peak in MiB."""
        return self.peak / 2**20


def _peak_memory_mb(device: torch.device, rss: PeakRSS) -> float:
    """CUDA: max allocated since the reset at the start of training; CPU: peak RSS of the run."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return rss.peak_mb


class _TidyProgress(ProgressCallback):
    """The Trainer's progress bar, with the loss and learning rate on the bar instead of a raw log
    dict printed every `logging_steps`."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and self.training_bar is not None and logs:
            shown = {k: f"{logs[k]:.4g}" for k in ("loss", "learning_rate") if isinstance(logs.get(k), (int, float))}
            if shown:
                self.training_bar.set_postfix(shown, refresh=False)


def resolve_optim(optim: str, device: torch.device) -> str:
    """`auto` -> torch's fused AdamW on CUDA (one kernel for all parameters, the same update),
    else the foreach AdamW; other names as given."""
    if optim != "auto":
        return optim
    return "adamw_torch_fused" if device.type == "cuda" else "adamw_torch"


def training_arguments(settings: TrainSettings, work_dir: Path, device: torch.device,
                       compute_dtype: torch.dtype, progress: bool = True) -> TrainingArguments:
    """The TrainingArguments of every adapterx training (bf16 autocast where the base computes in
    bf16 on a GPU; `settings.optim` and `settings.group_by_length` passed through)."""
    use_bf16 = compute_dtype == torch.bfloat16 and device.type == "cuda"
    return TrainingArguments(
        output_dir=str(work_dir), per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.grad_accum, learning_rate=settings.learning_rate,
        num_train_epochs=settings.epochs, warmup_ratio=settings.warmup_ratio,
        weight_decay=settings.weight_decay, lr_scheduler_type=settings.lr_scheduler,
        max_grad_norm=settings.max_grad_norm,  # the Trainer clips only when > 0
        logging_steps=settings.logging_steps, save_strategy="epoch" if settings.save_checkpoints else "no",
        save_total_limit=1, seed=settings.seed, data_seed=settings.seed, bf16=use_bf16,
        report_to=[] if settings.report_to == "none" else [settings.report_to], logging_dir=str(work_dir.parent.parent / LOGS_DIR / work_dir.name),
        disable_tqdm=not progress, remove_unused_columns=False,
        dataloader_num_workers=0, use_cpu=device.type == "cpu", eval_strategy="no",
        gradient_checkpointing=settings.gradient_checkpointing, optim=resolve_optim(settings.optim, device),
        group_by_length=settings.group_by_length, length_column_name=LENGTH_COLUMN,
        label_names=["labels", "start_positions", "end_positions"])


def sequence_length(input_ids: list) -> int:
    """Tokens of one feature: its length, or for multiple choice (a list per choice) the longest."""
    return max((len(x) for x in input_ids), default=0) if input_ids and isinstance(input_ids[0], list) \
        else len(input_ids)


def with_lengths(features):
    """`features` with a `length` column (what the length-grouped sampler sorts by; the Trainer's
    own fallback would count choices, not tokens, for multiple choice)."""
    if LENGTH_COLUMN in features.column_names:
        return features
    return features.add_column(LENGTH_COLUMN, [sequence_length(ids) for ids in features["input_ids"]])


def train_model(model: torch.nn.Module, train_features, collator, settings: TrainSettings,
                work_dir: Path, device: torch.device, compute_dtype: torch.dtype,
                score_fn: Callable[[], float] | None = None, progress: bool = True,
                callbacks: list[TrainerCallback] | None = None, dev_size: int | None = None,
                regularizer: Callable[[], torch.Tensor | None] | None = None) -> TrainOutcome:
    """Train `model` on `train_features`; resume from `work_dir`'s last complete checkpoint if any;
    leave the best-on-dev weights in the model (`settings.select` best) or the final ones (last).
    `callbacks` join the Trainer's (e.g. a per-epoch batch plan); `dev_size`: the dev examples
    `score_fn` scores (a small one is warned about when it picks the epoch); `regularizer()`,
    when given, is added to every batch's loss."""
    from adapterx.progress import enabled

    progress = progress and enabled() is not False  # ADAPTERX_PROGRESS=0 (e.g. a quiet grid): no bar
    if settings.select == "auto":
        settings = dataclasses.replace(settings, select=resolve_select("auto", dev_size if score_fn else None))
        if score_fn is not None and dev_size is not None and settings.select == "last":
            note_auto_last(dev_size)
    elif score_fn is not None and settings.select == "best" and dev_size is not None and dev_size < SMALL_DEV:
        warn_small_dev(dev_size)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    if settings.group_by_length:
        if hasattr(train_features, "add_column"):  # a datasets.Dataset of single examples
            train_features = with_lengths(train_features)
        else:  # one item = one whole batch (multi-source training): nothing to group
            settings = dataclasses.replace(settings, group_by_length=False)
    args = training_arguments(settings, work_dir, device, compute_dtype, progress)
    selector = _SelectOnDev(model, score_fn, announce=progress) if score_fn else None
    trainer = _ModuleTrainer(model=model, args=args, train_dataset=train_features, data_collator=collator,
                             callbacks=([selector] if selector else []) + list(callbacks or []) or None)
    trainer.selector = selector
    trainer.regularizer = regularizer
    if not progress:  # without a bar the Trainer prints every log dict instead: quiet means quiet
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    else:  # the bar, without a raw log dict printed under it every `logging_steps`
        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(_TidyProgress())
    # every file read back first: a damaged checkpoint is dropped with a warning, not a traceback
    resume = resumable_checkpoint(work_dir, last_complete_checkpoint, DONE_MARKER,
                                  RESUME_FILES + (rng_file(args.process_index, args.world_size),))
    if resume:
        from adapterx.report.console import console

        console.print(f"resuming from {resume} (an earlier run of this training was interrupted)")
        if selector:
            selector.load(Path(resume))
    start = time.perf_counter()
    with PeakRSS() as rss:
        result = trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - start
    selected = None
    if selector and settings.select == "best":
        selector.restore_best()
        selected = selector.best
    elif selector and selector.history:  # last: the weights stay as training left them
        selected = selector.history[-1]["dev"]
    return TrainOutcome(train_seconds=seconds, peak_memory_mb=_peak_memory_mb(device, rss),
                        best_dev=selector.best if selector else None,
                        dev_history=selector.history if selector else [], steps=result.global_step,
                        select=settings.select, selected_dev=selected)
