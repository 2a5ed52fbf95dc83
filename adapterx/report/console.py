"""The one rich Console adapterx prints through (stderr stays free for logs and progress bars)."""

from rich.console import Console

console = Console(highlight=False)
