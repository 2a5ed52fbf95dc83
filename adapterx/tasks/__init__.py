"""The task registry: `get_task("xnli")`, `all_tasks()`."""

from adapterx.tasks.base import (HEAD_KINDS, HubData, Task, TranslateTest, all_tasks, check_languages, get_task,
                                 register)

__all__ = ["HEAD_KINDS", "HubData", "Task", "TranslateTest", "all_tasks", "check_languages", "get_task", "register"]
