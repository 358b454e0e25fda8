"""A progress bar over the lines of a file, for the commands that import one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import OutputWrapper
from tqdm import tqdm

from abonent.cli.management.commands.seed import _Stream


class LineProgress:
    """Called as ``progress(done, total)`` by an import; draws a bar on ``stream`` once the
    file has ``from_lines`` lines or more (below that a bar would only flicker), and nothing
    when ``show`` is false. ``close()`` when the import is over, however it ended."""

    def __init__(self, stream: OutputWrapper, *, show: bool, from_lines: int) -> None:
        self.stream = stream
        self.show = show
        self.from_lines = from_lines
        self.bar: tqdm[Any] | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self.show or total < self.from_lines:
            return
        if self.bar is None:
            self.bar = tqdm(
                total=total,
                desc="Строки",
                bar_format="{desc}: {percentage:3.0f}% |{bar}| {n_fmt} из {total_fmt} [прошло {elapsed}, ещё {remaining}]",
                file=_Stream(self.stream),
                mininterval=0.5,
                leave=False,
            )
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
