"""Completion for the shell: slash commands and their arguments, paths (with ~), model/server/tool names."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document


class ShellCompleter(Completer):
    def __init__(self, commands: dict[str, str], arguments: Callable[[str], list[str]]):
        self._commands = commands  # name -> one-line help
        self._arguments = arguments  # command -> its possible arguments (models, providers, tools, sessions)
        self._paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        if text.startswith("/") and " " not in text:
            for name, help_text in self._commands.items():
                if name.startswith(text[1:]):
                    yield Completion(f"/{name}", start_position=-len(text), display_meta=help_text)
            return
        if text.startswith("/"):
            command, _, partial = text[1:].partition(" ")
            for value in self._arguments(command):
                if value.startswith(partial):
                    yield Completion(value, start_position=-len(partial))
            return
        word = document.get_word_before_cursor(WORD=True)
        if word.startswith(("~", "/", "./", "../")):
            path_doc = Document(word, len(word))
            yield from self._paths.get_completions(path_doc, event)
