"""First run: no provider could answer and no local model is on disk — say so, and offer one.

The offer is the picker's recommendation for this machine with its download size and the free disk space.
On a terminal it is asked once (default no); off a terminal nothing is asked and the exact
`llmos models pull NAME` command is printed, with exit status 3. Nothing is ever downloaded silently.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from llmos.errors import ExitStatus, NoProviderAvailable

if TYPE_CHECKING:
    from llmos.terminal import Terminal


@dataclass(frozen=True)
class Offer:
    model: str
    size_bytes: int
    free_bytes: int
    folder: Path
    placement: str  # the picker's line without the name: ctx · placement · threads

    @property
    def command(self) -> str:
        return f"llmos models pull {self.model}"

    @property
    def enough_space(self) -> bool:
        return self.free_bytes >= self.size_bytes

    def describe(self) -> str:
        from llmos.models.pull import gb
        from llmos.paths import display

        return (f"No local model is installed yet. For this machine the picker recommends {self.model} "
                f"({self.placement}): a {gb(self.size_bytes)} download, {gb(self.free_bytes)} free in "
                f"{display(self.folder)}.")


def local_model_installed() -> bool:
    """Any chat-capable GGUF on disk (Ollama's store, LM Studio, the HF cache, the llmos models folder)."""
    from llmos.models.discover import discover

    return any(m.can_chat for m in discover())


def recommendation() -> Offer | None:
    """The catalog model the picker recommends here; None when nothing in the catalog fits."""
    from llmos import paths
    from llmos.models.overview import free_disk
    from llmos.picker.detect import detect
    from llmos.picker.embedded import recommend_engine

    choice = recommend_engine(detect())
    if choice.model is None or choice.entry is None:
        return None
    folder = paths.models_dir()
    placement = choice.banner().removeprefix(f"{choice.model} · ")
    return Offer(choice.model, choice.entry.size_bytes, free_disk(folder), folder, placement)


def first_run_offer() -> Offer | None:
    """The offer to make, or None when a local model is already installed (then the usual error stands)."""
    if local_model_installed():
        return None
    return recommendation()


def _ask_once(question: str, read: Callable[[str], str]) -> bool:
    try:
        answer = read(question)
    except (EOFError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("y", "yes")


def download(offer: Offer, terminal: Terminal, then: str = "run your request again") -> int:
    """Pull the offered model with a progress bar on the terminal's stderr Console."""
    from llmos.models.pull import pull
    from llmos.paths import display
    from llmos.ui.models_view import GgufProgress

    with GgufProgress(terminal.err_console) as bar:
        result = pull(offer.model, progress=bar)
    terminal.notice(f"llmos: {offer.model} is installed at {display(result.path)}; {then}.")
    return ExitStatus.NO_PROVIDER  # this request was not answered


def after_no_provider(exc: NoProviderAvailable, *, interactive: bool | None = None, err: TextIO | None = None,
                      read: Callable[[str], str] = input) -> int:
    """What `llmos run` does when no provider could answer: the error, then the first-run offer when no local
    model exists. Returns the exit status (3 unless something else failed). ``err`` is the terminal's
    stderr; the download's progress bar goes to that terminal's Console."""
    from llmos.terminal import current

    terminal = current()
    err = err or terminal.stderr
    offer = first_run_offer()
    if offer is None:
        raise exc
    print(f"llmos: {exc}", file=err)
    print(f"llmos: {offer.describe()}", file=err)
    if interactive is None:
        interactive = terminal.interactive
    if not interactive:
        print(f"llmos: to install it, run:\n  {offer.command}", file=err)
        return ExitStatus.NO_PROVIDER
    if not offer.enough_space:
        print(f"llmos: not enough free disk space to download it; free some space, then run: {offer.command}",
              file=err)
        return ExitStatus.NO_PROVIDER
    if _ask_once(f"Download {offer.model} now? [y/N] ", read):
        return download(offer, terminal)
    print(f"llmos: not downloaded. Later: {offer.command}", file=err)
    return ExitStatus.NO_PROVIDER


LOCAL_PROVIDER_TYPES = ("ollama", "embedded")


def only_local_providers(config: Any) -> bool:
    """No enabled provider but local ones (Ollama, the embedded engine): when those have no model, nothing
    can answer. The shell's reachability check cannot say more (a server may chat yet not list models)."""
    return all(p.type in LOCAL_PROVIDER_TYPES for p in config.providers().values() if p.enabled)


async def offer_in_shell(terminal: Terminal, config: Any, offline: bool) -> None:
    """The shell's version, after its banner: the same offer, asked once above the prompt (default no), when
    the first provider is unreachable and no other kind of provider is configured."""
    if not (offline and only_local_providers(config)):
        return
    import asyncio

    offer = await asyncio.to_thread(first_run_offer)
    if offer is None:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()) or not offer.enough_space:
        terminal.console.print(f"{offer.describe()} To install it: {offer.command}", style="yellow",
                               markup=False, highlight=False)
        return
    from prompt_toolkit.application import run_in_terminal

    from llmos.errors import LlmosError

    # With the prompt put aside, talk to the terminal itself: the shell's patched stdout would hold the text.
    out, inp = sys.__stdout__, sys.__stdin__

    def say(text: str) -> None:
        if out is not None:
            out.write(text + "\n")
            out.flush()

    def read(question: str) -> str:
        if out is None or inp is None:
            return ""
        out.write(question)
        out.flush()
        return inp.readline()

    def ask_and_pull() -> None:
        say(offer.describe())
        if not _ask_once(f"Download {offer.model} now? [y/N] ", read):
            say(f"Not downloaded. Later: {offer.command}")
            return
        try:
            download(offer, terminal, then="the local engine can use it")
        except LlmosError as exc:  # a failed download must not stop the shell
            say(f"llmos: {exc}")

    await run_in_terminal(ask_and_pull, in_executor=True)
