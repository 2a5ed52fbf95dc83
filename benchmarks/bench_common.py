"""Shared pieces of the cost benchmarks (train_cost, eval_cost, peer_lora, compare_peer): model
shapes built offline, synthetic batches, memory accounting, FLOPs and the table/JSON output."""

from __future__ import annotations

import argparse
import ctypes
import functools
import gc
import json
import os
import platform
import re
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# XLM-R Large (Conneau et al. 2020): the sizes of its config.json, hard-coded so nothing is downloaded.
XLMR_LARGE = {"vocab_size": 250002, "hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16,
              "intermediate_size": 4096, "max_position_embeddings": 514, "type_vocab_size": 1,
              "layer_norm_eps": 1e-5, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}
REDUCED_LAYERS = 4  # `--shape reduced`: XLM-R Large's widths and vocabulary, this many layers
# Dense peak TFLOP/s from the vendors' spec sheets (no sparsity): (bf16 tensor cores, plain fp32).
# Matched against torch.cuda.get_device_name() in this order (PCIe before the SXM default).
GPU_PEAK_TFLOPS: list[tuple[str, float, float]] = [
    ("H100 PCIe", 756.0, 51.0), ("H100", 989.0, 67.0), ("H200", 989.0, 67.0), ("GH200", 989.0, 67.0),
    ("A100", 312.0, 19.5), ("L40S", 362.0, 91.6), ("L4", 121.0, 30.3), ("A10", 125.0, 31.2),
]


def build_shape(shape: str, layers: int | None = None, root: Path | None = None) -> Path:
    """A random-weight XLM-R Large (`xlmr-large`) or a few-layer version of it (`reduced`) in a temp
    folder, with the tiny preset's tokenizer (synthetic batches never need real words); reused."""
    n_layers = {"xlmr-large": XLMR_LARGE["num_hidden_layers"], "reduced": layers or REDUCED_LAYERS}[shape]
    out = (root or Path(tempfile.gettempdir()) / "adapterx-bench") / f"xlmr-large-{n_layers}l"
    if (out / ".complete").is_file():
        return out
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from adapterx.presets.tiny import TINY_DATA, _corpus, build_tokenizer

    tokenizer = build_tokenizer(_corpus(TINY_DATA))
    config = XLMRobertaConfig(**{**XLMR_LARGE, "num_hidden_layers": n_layers})
    torch.manual_seed(0)
    model = XLMRobertaModel(config, add_pooling_layer=False)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    (out / ".complete").write_text("ok")
    del model
    gc.collect()
    return out


def resolve_model(model: str | None, shape: str | None, layers: int | None) -> tuple[Path, str]:
    """The model folder to benchmark and a short label for it."""
    if model:
        return Path(model), Path(model).name
    shape = shape or "reduced"
    path = build_shape(shape, layers)
    return path, path.name


def base_parser(description: str, setups: tuple[str, ...], default_setups: tuple[str, ...], batch: int,
                seq_len: int, name: str) -> argparse.ArgumentParser:
    """The options every cost benchmark shares: the model (a folder or a random-weight shape), the
    setups, the synthetic shape (batch x length, padding), rounds, dtype, device, output, seed."""
    p = argparse.ArgumentParser(description=description)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", help="a model folder (e.g. /tmp/e5 from shared/tools/build_e5_small.py)")
    src.add_argument("--shape", choices=("xlmr-large", "reduced"), help="random-weight XLM-R Large (default: reduced)")
    p.add_argument("--layers", type=int, default=None, help="layers of --shape reduced (default 4)")
    p.add_argument("--setups", default=",".join(default_setups), help=f"comma-separated, of: {', '.join(setups)}")
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--seq-len", type=int, default=seq_len)
    p.add_argument("--pad-frac", type=float, default=0.0, help="fraction of batch positions that are padding")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--dtype", default="auto", help="compute dtype of the module setups (auto: bf16 on GPU)")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default=None, help=f"JSON path (default benchmarks/results/<device>-<date>-{name}.json)")
    p.add_argument("--seed", type=int, default=0)
    return p


def chosen_setups(arg: str, setups: tuple[str, ...]) -> list[str]:
    """`--setups a,b` as a list, refusing names the benchmark does not know."""
    names = [s.strip() for s in arg.split(",") if s.strip()]
    unknown = sorted(set(names) - set(setups))
    if unknown:
        raise SystemExit(f"unknown setups {unknown}; choose from {', '.join(setups)}")
    return names


def synthetic_lengths(batch: int, seq_len: int, pad_frac: float) -> list[int]:
    """Per-row lengths of one batch: the first row is `seq_len` long (so the batch pads to it), the
    others share the rest so that `pad_frac` of the batch's `batch * seq_len` positions are padding."""
    if not 0.0 <= pad_frac < 1.0:
        raise ValueError("--pad-frac must be in [0, 1)")
    if batch == 1 or pad_frac == 0.0:
        return [seq_len] * batch
    real = round(batch * seq_len * (1.0 - pad_frac))
    rest = max(real - seq_len, 2 * (batch - 1))
    base, extra = divmod(rest, batch - 1)
    return [seq_len] + [min(seq_len, base + (i < extra)) for i in range(batch - 1)]


def synthetic_rows(n: int, seq_len: int, pad_frac: float, batch: int, vocab_size: int, num_labels: int,
                   seed: int = 0, special: int = 5) -> list[dict]:
    """`n` examples of random token ids (ids below `special` left out) whose lengths follow
    synthetic_lengths batch by batch, with random labels."""
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for start in range(0, n, batch):
        for length in synthetic_lengths(batch, seq_len, pad_frac)[: n - start]:
            ids = torch.randint(special, vocab_size, (length,), generator=gen).tolist()
            rows.append({"input_ids": ids, "attention_mask": [1] * length,
                         "labels": int(torch.randint(0, num_labels, (1,), generator=gen))})
    return rows


def synthetic_batch(rows: list[dict], pad_id: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Rows padded (right) into one batch of tensors on `device`."""
    width = max(len(r["input_ids"]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r["input_ids"])] = torch.tensor(r["input_ids"])
        mask[i, : len(r["input_ids"])] = 1
    labels = torch.tensor([r["labels"] for r in rows], dtype=torch.long)
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}


def sync(device: torch.device) -> None:
    """Wait for queued GPU work (timings on a GPU are otherwise launch times)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_label(device: torch.device) -> str:
    """`cpu`, or the GPU's name as a file-name slug (e.g. nvidia-h100-80gb-hbm3)."""
    if device.type != "cuda":
        return "cpu"
    return re.sub(r"[^a-z0-9]+", "-", torch.cuda.get_device_name(device).lower()).strip("-")


@functools.lru_cache(maxsize=None)
def measured_gemm_tflops(device: torch.device, dtype: torch.dtype = torch.float32, n: int = 1536,
                         repeats: int = 4) -> float:
    """TFLOP/s of an n x n x n matrix product on `device` (best of `repeats`, after a warm-up);
    measured once per process. CPUs have no spec-sheet peak to look up (it depends on the vector
    units, cores and clocks), so their MFU is taken against what their own GEMM reaches."""
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    c = torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e12


def peak_tflops(device: torch.device, bf16: bool, override: float | None) -> tuple[float | None, str]:
    """Peak FLOP/s (in TFLOP/s) to compute MFU against, and where it came from: `--peak-tflops`, the
    GPU table (bf16 or fp32 column), or on a CPU this machine's measured fp32 GEMM rate."""
    if override:
        return override, "--peak-tflops"
    if device.type != "cuda":
        dtype = torch.bfloat16 if bf16 else torch.float32
        return measured_gemm_tflops(device, dtype), f"measured {str(dtype).replace('torch.', '')} GEMM on this CPU"
    name = torch.cuda.get_device_name(device)
    for needle, bf16_peak, fp32_peak in GPU_PEAK_TFLOPS:
        if needle in name:
            return (bf16_peak, f"table: {needle} bf16") if bf16 else (fp32_peak, f"table: {needle} fp32")
    return None, f"none ({name} not in the table: pass --peak-tflops)"


def _numel(param: torch.Tensor) -> int:
    state = getattr(param, "quant_state", None)  # bitsandbytes 4-bit: packed storage, real shape here
    return int(state.shape.numel()) if state is not None and hasattr(state, "shape") else param.numel()


def parameter_counts(model: torch.nn.Module) -> dict[str, int]:
    """Parameters by kind: `nonembedding` (N of the FLOP formula: every weight a token's compute
    touches, modules and heads included), `embedding`, `trainable` and `trainable_nonembedding`."""
    emb_ids = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    counts = dict.fromkeys(("nonembedding", "embedding", "trainable", "trainable_nonembedding"), 0)
    seen: set[int] = set()
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        n = _numel(p)
        counts["embedding" if id(p) in emb_ids else "nonembedding"] += n
        if p.requires_grad:
            counts["trainable"] += n
            counts["trainable_nonembedding"] += 0 if id(p) in emb_ids else n
    return counts


def flops_per_token(counts: dict[str, int]) -> int:
    """Training FLOPs per token: forward 2N + backward through the activations 2N + weight
    gradients 2 x the trainable non-embedding weights: 6N for full fine-tuning, ~4N on a frozen
    base (attention's sequence-length term left out)."""
    return 4 * counts["nonembedding"] + 2 * counts["trainable_nonembedding"]


def _storage_bytes(tensors: list[torch.Tensor]) -> int:
    seen, total = set(), 0
    for t in tensors:
        if not isinstance(t, torch.Tensor) or t.device.type == "meta":
            continue
        storage = t.untyped_storage()
        if storage.data_ptr() and storage.data_ptr() not in seen:
            seen.add(storage.data_ptr())
            total += storage.nbytes()
    return total


def static_bytes(model: torch.nn.Module, optimizer: Any = None) -> int:
    """Bytes held between steps: weights, buffers (bitsandbytes scales included), optimizer state."""
    tensors = list(model.parameters()) + list(model.buffers())
    for p in model.parameters():
        for attr in ("SCB", "CB"):
            if isinstance(getattr(p, attr, None), torch.Tensor):
                tensors.append(getattr(p, attr))
        state = getattr(p, "quant_state", None)
        while state is not None:
            tensors.append(getattr(state, "absmax", None))
            state = getattr(state, "state2", None)
    if optimizer is not None:
        tensors += [v for st in optimizer.state.values() for v in st.values() if isinstance(v, torch.Tensor)]
    return _storage_bytes(tensors)


class TensorPeak(TorchDispatchMode):
    """Peak bytes of tensor storages allocated while the block runs (CPU or GPU), from every aten
    op's outputs: torch keeps no CPU allocator statistics, so this is the CPU stand-in for CUDA's
    max_memory_allocated. Views and in-place results (storages shared with an input) are not new."""

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[int, int] = {}
        self.current = self.peak = 0

    def _free(self, key: int) -> None:
        self.current -= self.live.pop(key, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {a.untyped_storage().data_ptr() for a in tree_leaves((args, kwargs))
                  if isinstance(a, torch.Tensor) and a.device.type != "meta"}
        for t in tree_leaves(out):
            if not isinstance(t, torch.Tensor) or t.device.type == "meta":
                continue
            storage = t.untyped_storage()
            key = storage.data_ptr()
            if key and key not in inputs and key not in self.live:
                self.live[key] = storage.nbytes()
                self.current += self.live[key]
                self.peak = max(self.peak, self.current)
                weakref.finalize(storage, self._free, key)
        return out


def rss_bytes() -> int:
    """Resident memory of this process now."""
    import psutil

    return psutil.Process().memory_info().rss


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc), so RSS deltas start clean."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: RSS deltas are then rougher
        pass


def machine() -> dict:
    """What ran the benchmark: device, CPU, load, library versions."""
    import transformers

    info = {"platform": platform.platform(), "cpu": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "torch": torch.__version__, "transformers": transformers.__version__,
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    for mod in ("peft", "adapters", "bitsandbytes"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001  (optional library missing or failing to import)
            info[mod] = None
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def default_output(device: torch.device, name: str, out: str | None) -> Path:
    """`--out`, or benchmarks/results/<device>-<date>-<name>.json."""
    if out:
        return Path(out)
    return RESULTS_DIR / f"{device_label(device)}-{time.strftime('%Y-%m-%d')}-{name}.json"


def write_outputs(path: Path, payload: dict, columns: list[str], rows: list[dict], title: str) -> None:
    """Write the JSON and a markdown table (same name, .md) and print the table with rich."""
    from rich.console import Console
    from rich.table import Table

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="left" if col == columns[0] else "right")
    for row in rows:
        table.add_row(*[_fmt(row.get(col)) for col in columns])
    console = Console(width=220)
    console.print(table)
    lines = [f"# {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(row.get(col)) for col in columns) + " |" for row in rows]
    notes = payload.get("notes") or []
    if notes:
        lines += ["", *[f"- {n}" for n in notes]]
    path.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    console.print(f"wrote {path} and {path.with_suffix('.md')}")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
