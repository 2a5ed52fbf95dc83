"""A checkpoint's training state (optimizer, scheduler, grad scaler, RNG) as safetensors: tensors
as tensors, everything else as JSON in the file's metadata. Nothing is pickled, so resuming never
unpickles a file (the Trainer's own format is torch.save pickles, and its RNG load ignores
weights_only). A damaged checkpoint is dropped with a warning, never loaded half-way."""

from __future__ import annotations

import json
import logging
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

log = logging.getLogger(__name__)
OPTIMIZER_FILE = "optimizer.safetensors"
SCHEDULER_FILE = "scheduler.safetensors"
SCALER_FILE = "scaler.safetensors"
STATE_KEY = "adapterx_state"  # the metadata entry that holds the JSON part


def rng_file(process_index: int, world_size: int) -> str:
    """One RNG file per process of a multi-process launch."""
    return "rng_state.safetensors" if world_size <= 1 else f"rng_state_{process_index}.safetensors"


def _encode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """JSON-able form of a state dict; tensors and arrays go to `tensors`, referenced by name."""
    if isinstance(obj, torch.Tensor):
        name = f"t{len(tensors)}"
        tensors[name] = obj.detach().cpu().contiguous()
        return {"__tensor__": name}
    if isinstance(obj, np.ndarray):  # numpy's RNG key: kept as int64, restored to its dtype
        name = f"t{len(tensors)}"
        tensors[name] = torch.from_numpy(obj.astype(np.int64))
        return {"__ndarray__": name, "dtype": str(obj.dtype)}
    if isinstance(obj, dict):  # optimizer state is keyed by int: keys keep their type
        return {"__dict__": [[_encode(k, tensors), _encode(v, tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, tensors) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, tensors) for v in obj]
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} in a training checkpoint")


def _decode(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Inverse of _encode."""
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if "__ndarray__" in obj:
        return tensors[obj["__ndarray__"]].numpy().astype(obj["dtype"])
    if "__tuple__" in obj:
        return tuple(_decode(v, tensors) for v in obj["__tuple__"])
    return {_decode(k, tensors): _decode(v, tensors) for k, v in obj["__dict__"]}


def save_state(state: Any, path: Path) -> None:
    """Write a state dict as one safetensors file."""
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    meta = json.dumps(_encode(state, tensors))
    save_file(tensors, str(path), metadata={STATE_KEY: meta})


def load_state(path: Path) -> Any:
    """Read what save_state wrote (safetensors only: nothing is unpickled)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        meta = (handle.metadata() or {})[STATE_KEY]
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
    return _decode(json.loads(meta), tensors)


def check_state(path: Path) -> None:
    """Raise if `path` cannot be read back (truncated, not safetensors, no state): header and
    metadata only, the tensors are not read."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        json.loads((handle.metadata() or {})[STATE_KEY])


def rng_state() -> dict:
    """This process's random generators (as the Trainer saves them)."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "cpu": torch.random.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.random.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what rng_state() returned."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.random.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.random.set_rng_state_all(state["cuda"])


def checkpoint_problem(folder: Path, required: tuple[str, ...]) -> str | None:
    """Why a checkpoint cannot be resumed from (a missing or unreadable file), or None."""
    from safetensors import safe_open

    for name in required:
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        try:
            if name.endswith(".json"):
                json.loads(path.read_text(encoding="utf-8"))
            elif name in (OPTIMIZER_FILE, SCHEDULER_FILE) or name.startswith("rng_state"):
                check_state(path)
            else:
                with safe_open(str(path), framework="pt"):
                    pass
        except Exception as err:  # noqa: BLE001  (any failure to read means: do not resume from it)
            return f"{name} is unreadable ({type(err).__name__}: {str(err)[:120]})"
    return None


def resumable_checkpoint(folder: Path, newest: Callable[[Path], str | None], marker: str,
                         required: tuple[str, ...]) -> str | None:
    """The newest complete checkpoint (`newest`) whose files all read back; a damaged one loses its
    done marker and is removed with a warning (later reruns do not meet it again), and the one
    before it is tried."""
    from adapterx.report.console import console

    while (found := newest(folder)) is not None:
        problem = checkpoint_problem(Path(found), required)
        if problem is None:
            return found
        message = (f"warning: checkpoint {found} is damaged ({problem}); it is removed and training "
                   "goes on from the previous complete checkpoint, or from the start")
        log.warning(message)
        console.print(message)
        (Path(found) / marker).unlink(missing_ok=True)  # first: a partial removal leaves it incomplete
        shutil.rmtree(found, ignore_errors=True)
    return None
