"""Analyses over tasks, modules and runs (task similarity)."""
