"""`--preset tiny`: a tiny random XLM-R and sample files shipped with the package, so the whole
path runs offline on a CPU in a minute or two. It proves the plumbing; accuracy is not expected."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

TINY_DATA = Path(__file__).parent / "tiny_data"
TINY_SHAPE = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
              "intermediate_size": 128, "max_position_embeddings": 514}
# Small enough to train in seconds; long enough to hold the sample QA contexts.
_TINY_TRAINING = {"max_seq_length": 128, "doc_stride": 32, "epochs": 3, "learning_rate": 2e-3,
                  "batch_size": 8, "logging_steps": 10}
# the same settings for target training and for the intermediate modules fuse / stack train
TINY_OVERRIDES = {
    **{f"{section}.{k}": v for section in ("training", "inter") for k, v in _TINY_TRAINING.items()},
    "bottleneck.reduction_factor": 4, "lora.r": 4,
}


def _corpus(data_dir: Path) -> list[str]:
    lines = []
    for path in sorted(data_dir.rglob("*")):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".tsv", ".lst", ".csv"):
            lines.extend(path.read_text(encoding="utf-8").splitlines())
    return lines


def build_tokenizer(texts: list[str], vocab_size: int = 2000):
    """A fast XLM-R-style (SentencePiece Unigram) tokenizer trained on `texts`."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import XLMRobertaTokenizerFast

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # XLM-R's ids 0..3, mask last
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token="<unk>",
                                      show_progress=False)
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    return XLMRobertaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                                   pad_token="<pad>", mask_token="<mask>")


def build_tiny_model(out_dir: str | Path, data_dir: Path = TINY_DATA, seed: int = 0,
                     **shape: int) -> Path:
    """Write a random tiny XLM-R (config, safetensors, tokenizer) to `out_dir`."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    out = Path(out_dir)
    tokenizer = build_tokenizer(_corpus(data_dir))
    dims = dict(TINY_SHAPE, **shape)
    config = XLMRobertaConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                              bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                              type_vocab_size=1, **dims)
    torch.manual_seed(seed)
    model = XLMRobertaModel(config, add_pooling_layer=False)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    os.replace(tmp, out) if not out.exists() else None
    return out


def tiny_model_dir(cache_root: str | Path | None = None) -> Path:
    """The tiny model for the current sample data, built once and cached (keyed by data + shape)."""
    root = Path(cache_root or os.environ.get("ADAPTERX_HOME", Path.home() / ".cache" / "adapterx"))
    digest = hashlib.sha256(("\n".join(_corpus(TINY_DATA)) + repr(sorted(TINY_SHAPE.items()))).encode())
    path = root / "presets" / f"tiny-xlmr-{digest.hexdigest()[:12]}"
    if not (path / "config.json").is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        build_tiny_model(path)
    return path


def one_thread() -> None:
    """Compute the tiny model on one CPU thread (unless OMP_NUM_THREADS says otherwise): its
    64-wide matrices gain nothing from splitting, and on a busy CPU the threads' synchronisation
    made the demo 2x slower (46 s -> 21 s measured)."""
    if os.environ.get("OMP_NUM_THREADS"):
        return
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    else:  # read by torch when it is imported
        os.environ["OMP_NUM_THREADS"] = "1"
