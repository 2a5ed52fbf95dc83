"""adapterx: parameter-efficient English intermediate-task training for zero-shot cross-lingual
transfer (Phang et al. 2020), with LoRA (peft) and bottleneck adapters (adapters)."""

import logging as _logging

__version__ = "0.1.0"

# bitsandbytes logs a warning at import on CPUs without its optional `kernels` package; the
# fallback it uses is correct, so users need not see it on every command.
_logging.getLogger("bitsandbytes").setLevel(_logging.ERROR)

from adapterx.api import (compare, direct, evaluate, finetune, fuse, grid, merge, multitask,  # noqa: E402
                          report, sequential, stack, suggest, tasks, train, translate_test)

__all__ = ["__version__", "compare", "direct", "evaluate", "finetune", "fuse", "grid", "merge", "multitask", "report",
           "sequential", "stack", "suggest", "tasks", "train", "translate_test"]

# modules <-> the Hugging Face Hub, and the module cache
from adapterx.api import cache_ls, cache_prune, pull, push  # noqa: E402

__all__ += ["cache_ls", "cache_prune", "pull", "push"]

# a trained run or module back as a model that predicts
from adapterx.api import load  # noqa: E402

__all__ += ["load"]
