"""Registers every task: English intermediate tasks, then zero-shot targets."""

from adapterx.tasks import intermediate, targets  # noqa: F401  (registration happens on import)
