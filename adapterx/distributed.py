"""Data-parallel training launched by `accelerate launch` / `torchrun`: every process trains the
same module (the Trainer wraps the model in DDP), and only the main process takes cache locks and
writes folders, so the ranks never wait on each other's file locks while the Trainer waits on them
in an all-reduce. A single process (no WORLD_SIZE) is the main process."""

from __future__ import annotations

import os


def world_size() -> int:
    """Processes in the launch (1 without a launcher)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """Global rank 0 (the cache may sit on a file system that several machines share)."""
    return int(os.environ.get("RANK", "0")) == 0


def barrier() -> None:
    """Wait for every rank, when a process group is up (the Trainer starts it on its first use)."""
    if world_size() > 1:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.barrier()
