"""Streaming an answer to the terminal: rich markdown on a TTY, plain text when piped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from llmos.terminal import Terminal


class PlainStream:
    """Writes text as it arrives; for pipes and dumb terminals."""

    def __init__(self, out: TextIO):
        self._out = out
        self._last = ""

    def __enter__(self) -> PlainStream:
        return self

    def write(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()
        self._last = text or self._last

    def __exit__(self, *exc: object) -> None:
        if self._last and not self._last.endswith("\n"):
            self._out.write("\n")
        self._out.flush()


class MarkdownStream:
    """Renders markdown incrementally: each finished block (a paragraph, a list, a closed code fence) is
    rendered once and printed for good; only the unfinished tail is live. Nothing already shown is redrawn,
    so long answers neither flicker nor cost more per chunk as they grow."""

    def __init__(self, console: Any) -> None:
        from rich.live import Live

        self._console = console
        self._done = ""  # text already rendered permanently
        self._tail = ""
        self._live = Live(console=self._console, refresh_per_second=12, transient=True,
                          vertical_overflow="visible")

    def __enter__(self) -> MarkdownStream:
        self._live.__enter__()
        return self

    def write(self, text: str) -> None:
        from rich.text import Text

        self._tail += text
        cut = _block_end(self._tail)
        if cut:
            block, self._tail = self._tail[:cut], self._tail[cut:]
            self._live.update(Text(""))
            self._print(block)
        self._live.update(Text(self._tail))

    def _print(self, block: str) -> None:
        from rich.markdown import Markdown

        if block.strip():
            self._live.console.print(Markdown(block))
        self._done += block

    def __exit__(self, *exc: Any) -> None:
        from rich.text import Text

        self._live.update(Text(""))
        self._live.__exit__(*exc)
        if self._tail:
            self._print(self._tail)
            self._tail = ""


def _block_end(text: str) -> int:
    """Where the last finished markdown block ends in ``text`` (0: none finished). A blank line ends a
    block unless it is inside a code fence."""
    end, in_fence, position = 0, False, 0
    for line in text.splitlines(keepends=True):
        position += len(line)
        if not line.endswith("\n"):
            break  # an unfinished line belongs to the tail
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            if not in_fence:
                end = position
        elif not in_fence and not line.strip():
            end = position
    return end


def answer_stream(terminal: Terminal | None = None) -> PlainStream | MarkdownStream:
    """Markdown on a terminal, plain text into a pipe or a dumb terminal."""
    from llmos.terminal import current

    terminal = terminal or current()
    if terminal.stdout_is_terminal():
        return MarkdownStream(terminal.console)
    return PlainStream(terminal.stdout)


def notice(message: str, terminal: Terminal | None = None) -> None:
    """One dim line on stderr (fallbacks, warnings) that never mixes into piped output."""
    from llmos.terminal import current

    (terminal or current()).notice(message)
