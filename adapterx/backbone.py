"""The frozen base encoder: by name or path, fp32 / bf16, or 8-bit / 4-bit through bitsandbytes."""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from adapterx.errors import AdapterxError, HubUnreachableError, UnknownChoiceError

DTYPES = ("auto", "fp32", "bf16")
QUANTS = ("none", "8bit", "4bit")
DEFAULT_MODEL = "xlm-roberta-large"
# the files that hold a model folder's weights (only safetensors are ever loaded; the others
# still make a different base)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
# ...and its vocabulary: other tokens are another base for a module, whatever the weights
TOKENIZER_FILES = ("tokenizer.json", "sentencepiece.bpe.model", "spiece.model", "vocab.txt", "vocab.json",
                   "merges.txt")
log = logging.getLogger(__name__)


@dataclass
class Backbone:
    """A loaded base encoder with its tokenizer and the facts modules are checked against."""

    model: Any  # transformers PreTrainedModel (later wrapped by peft / adapters)
    tokenizer: Any
    name: str
    quant: str
    dtype: torch.dtype  # the frozen base's compute dtype (see resolve_dtype); what trains stays fp32
    device: torch.device
    fingerprint: dict

    @property
    def hidden_size(self) -> int:
        """Width of the encoder's hidden states."""
        return int(self.fingerprint["hidden_size"])


def resolve_device(device: str | None) -> torch.device:
    """`auto`/None -> cuda when present, else cpu."""
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise AdapterxError(f"invalid --device {device!r}: {err}", "use cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise AdapterxError("--device cuda was asked for but no CUDA GPU is visible",
                            "use --device cpu (or auto)")
    return dev


def resolve_dtype(dtype: str, quant: str, device: torch.device) -> torch.dtype:
    """The base's compute dtype. `auto` is bf16 where the hardware has it (GPU) or where the base is
    quantized (bitsandbytes computes in 16 bit); fp32 otherwise. Trainable weights are fp32 in
    every case (the methods cast at their modules' boundaries)."""
    if dtype not in DTYPES:
        raise UnknownChoiceError("--dtype", dtype, DTYPES)
    if quant not in QUANTS:
        raise UnknownChoiceError("--quant", quant, QUANTS)
    if dtype == "fp32":
        return torch.float32
    if dtype == "bf16":
        return torch.bfloat16
    if quant != "none":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def _quant_config(quant: str, compute_dtype: torch.dtype):
    from transformers import BitsAndBytesConfig

    if quant == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_compute_dtype=compute_dtype, bnb_4bit_use_double_quant=True)


def _is_offline_error(err: BaseException) -> bool:
    text = f"{type(err).__name__}: {err}"
    needles = ("couldn't connect", "Connection", "offline", "Offline", "resolve", "Max retries",
               "We couldn't connect", "not the path to a directory")
    return any(n in text for n in needles)


def load_backbone(name: str = DEFAULT_MODEL, dtype: str = "auto", quant: str = "none",
                  device: str | None = "auto", trust_remote_code: bool = False) -> Backbone:
    """Load tokenizer and encoder (no task head: heads are ours, so only the encoder is quantized),
    freeze every weight, and record a fingerprint of its shape and weights."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    dev = resolve_device(device)
    compute = resolve_dtype(dtype, quant, dev)
    # Remote code runs only when the user asks for it (trust_remote_code=true): the flag is not
    # even passed otherwise, so no library default can turn it on.
    kwargs: dict[str, Any] = {"trust_remote_code": True} if trust_remote_code else {}
    if os.path.isdir(name) and not os.path.isfile(os.path.join(name, "config.json")):
        # without config.json transformers guesses the architecture from the folder's *name*
        # ("empty" -> MPT) and then fails deep inside the tokenizer
        raise AdapterxError(f"{name} is not a model folder: it has no config.json",
                            "point --model at a folder with config.json, safetensors weights and "
                            "tokenizer files (e.g. one written by save_pretrained)")
    offline = None
    if not os.path.isdir(name):
        from adapterx.hub_probe import check_hub

        offline = check_hub()  # unreachable: offline mode, so a cached model still loads, fast
    try:
        config = AutoConfig.from_pretrained(name, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(name, use_fast=True, **kwargs)
    except OSError as err:
        if os.path.isdir(name):
            raise AdapterxError(f"{name} is not a model folder transformers can load: {err}",
                                "point --model at a folder with config.json and tokenizer files") from None
        if offline or _is_offline_error(err):
            why = f"{offline}, and it is not in the local cache" if offline else "unreachable or offline"
            raise HubUnreachableError(
                f"could not load model {name!r} from the Hugging Face Hub ({why})",
                "download it once and pass --model DIR, or run the offline demo with --preset tiny",
            ) from None
        raise AdapterxError(f"could not load model {name!r}: {err}",
                            "check the name on the Hub or pass a local folder with --model DIR") from None
    except ValueError as err:  # e.g. a config.json without a known model_type
        raise AdapterxError(f"could not load model {name!r}: {err}",
                            "pass a folder or Hub id of a transformers encoder with --model") from None
    if not getattr(tokenizer, "is_fast", False):
        raise AdapterxError(f"model {name!r} has no fast tokenizer",
                            "span QA needs character offsets; use a model with tokenizer.json")
    model_kwargs: dict[str, Any] = dict(kwargs, dtype=compute)
    model_cls = AutoModel._model_mapping.get(type(config), None) if not trust_remote_code else None
    if model_cls is not None and "add_pooling_layer" in inspect.signature(model_cls.__init__).parameters:
        model_kwargs["add_pooling_layer"] = False  # our heads pool themselves; no unused weights
    if quant != "none":
        model_kwargs["quantization_config"] = _quant_config(quant, compute)
        model_kwargs["device_map"] = {"": dev.index if dev.type == "cuda" and dev.index is not None
                                      else dev.type}
    try:  # safetensors only: a pickled pytorch_model.bin can run code when it is loaded
        model = AutoModel.from_pretrained(name, config=config, use_safetensors=True, **model_kwargs)
    except OSError as err:
        raise AdapterxError(f"model {name!r} has no safetensors weights adapterx can load ({err})",
                            "adapterx never unpickles weights; convert them once with "
                            "AutoModel.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True) "
                            "and pass --model DIR") from None
    if quant == "none":
        model.to(dev)
    model.requires_grad_(False)
    return Backbone(model=model, tokenizer=tokenizer, name=name, quant=quant, dtype=compute,
                    device=dev, fingerprint=fingerprint(model))


def weights_digest(folder: str) -> str:
    """sha256 over a local model folder's weight and vocabulary files (names and contents, in name
    order): the identity of the base in cache keys, so that the same weights under another path
    find their modules and new weights under the same path do not."""
    # top level only: transformers loads from there (checkpoint subfolders are not the base)
    files = sorted(p for p in Path(folder).iterdir()
                   if p.is_file() and (p.suffix in WEIGHT_SUFFIXES or p.name in TOKENIZER_FILES))
    stats = tuple((p.name, *_stat_key(p)) for p in files)
    return _digest(os.path.realpath(folder), stats)


def _stat_key(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


@functools.lru_cache(maxsize=16)
def _digest(folder: str, stats: tuple) -> str:
    # keyed on the files' size, mtime and inode: a folder replaced at the same path hashes again
    total = hashlib.sha256()
    for name, *_ in stats:
        total.update(name.encode("utf-8") + b"\0")
        one = hashlib.sha256()
        with open(os.path.join(folder, name), "rb") as handle:
            for block in iter(lambda: handle.read(1 << 24), b""):
                one.update(block)
        total.update(one.digest())
    return total.hexdigest()


def base_id(name: str) -> str:
    """A base model's identity for cache keys: `sha256:<digest>` of a local folder's weights
    (see weights_digest), else the Hub name."""
    if not os.path.isdir(name):
        return name
    return f"sha256:{weights_digest(name)}"


def fingerprint(model) -> dict:
    """Shape facts plus a hash of the first embedding rows: two bases with the same architecture
    but different weights (a different checkpoint) get different fingerprints."""
    cfg = model.config
    emb = model.get_input_embeddings().weight[:16].detach().float().cpu()
    digest = hashlib.sha256(emb.numpy().round(4).tobytes()).hexdigest()[:16]
    return {
        "model_type": cfg.model_type,
        "hidden_size": cfg.hidden_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "vocab_size": cfg.vocab_size,
        "embedding_hash": digest,
    }
