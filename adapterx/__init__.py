"""adapterx: parameter-efficient English intermediate-task training for zero-shot cross-lingual
transfer (Phang et al. 2020), with LoRA (peft) and bottleneck adapters (adapters)."""

__version__ = "0.1.0"

from adapterx.api import evaluate, fuse, stack, tasks, train  # noqa: E402

__all__ = ["__version__", "evaluate", "fuse", "stack", "tasks", "train"]
