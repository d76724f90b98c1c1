"""The shell's loop: prompt, slash commands, `!` escapes, and agent turns that Ctrl-C can cancel.

The prompt appears before anything slow happens: MCP servers and the provider check load in the
background, and a request sent before they are ready waits for them with a spinner.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import traceback
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.patch_stdout import patch_stdout

from llmos import __version__, paths
from llmos.config import Config
from llmos.errors import LlmosError
from llmos.repl.commands import argument_values, describe_commands, dispatch
from llmos.repl.completion import ShellCompleter
from llmos.repl.history_file import open_history
from llmos.repl.events import ReplEvents
from llmos.runtime import Options
from llmos.terminal import Terminal, current


def _key_bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("escape", "enter")  # Alt-Enter: a new line instead of sending
    def _newline(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    @kb.add("enter", filter=_ends_with_backslash())
    def _continue(event: Any) -> None:
        buffer = event.current_buffer
        buffer.delete_before_cursor(1)
        buffer.insert_text("\n")

    return kb


def _ends_with_backslash() -> Any:
    from prompt_toolkit.filters import Condition
    from prompt_toolkit.application.current import get_app

    return Condition(lambda: get_app().current_buffer.document.text_before_cursor.endswith("\\"))


class Repl:
    def __init__(self, config: Config, terminal: Terminal | None = None, options: Options | None = None):
        from llmos.llm.router import Router
        from llmos.runtime import open_session, open_usage_store

        self.config = config
        self.terminal = terminal or current()
        self.options = options or Options()
        self.console = self.terminal.console
        self.router = Router(config, open_usage_store())
        self.provider: str | None = self.options.provider
        self.chat = open_session(config, self.options.continue_session)
        self.events = ReplEvents(self.console, self.terminal)
        self.auto_yes = False
        self.running = True
        self.offline = False
        self.confirming = False  # a confirmation is waiting for the person's answer
        self.pending_context: list[str] = []
        self.last_error: str | None = None
        self._agent: Any = None
        self._built: Any = None  # the agent while its servers are still starting (closed on exit either way)
        self._loading: asyncio.Task | None = None
        self.prompt: PromptSession[str] = PromptSession(
            history=open_history(paths.repl_history()), auto_suggest=AutoSuggestFromHistory(),
            completer=ShellCompleter(describe_commands(), lambda name: argument_values(self, name)),
            complete_while_typing=False, key_bindings=_key_bindings(), bottom_toolbar=self._toolbar,
            vi_mode=config.get("preferences.editing_mode") == "vi", input=self.terminal.prompt_input,
            output=self.terminal.prompt_output)

    # ---- what slash commands may use (llmos.repl.commands.Shell) -------------------------------------------

    @property
    def agent(self) -> Any:
        """The agent once loaded, else None (completion must not wait for it)."""
        return self._agent

    def new_conversation(self) -> None:
        from llmos.runtime import open_session

        self.chat = open_session(self.config)

    def resume(self, which: str) -> Any:
        """Continue a saved conversation (the newest, or the one whose id starts with ``which``)."""
        from llmos.conversation.store import find_session
        from llmos.runtime import open_session

        info = find_session(which or None)
        self.chat = open_session(self.config, info.id)
        return info

    # ---- background loading --------------------------------------------------------------------------------

    def start_loading(self) -> None:
        self._loading = asyncio.create_task(self._load())

    async def _load(self) -> Any:
        import importlib

        # The agent pulls in the MCP SDK (the slowest import): do it off the event loop so the prompt stays live.
        await asyncio.to_thread(importlib.import_module, "llmos.agent.setup")
        from llmos.runtime import open_agent

        agent = self._built = open_agent(self.config, self.router, self.options, _ReplConfirmer(self), self.events)
        await agent.host.ready()
        for warning in agent.host.warnings:  # tool names that collided: said once, not resolved in silence
            self.console.print(f"llmos: {warning}", style="yellow", markup=False)
        agent.host.connect_deferred()  # nothing competes with it while the person types
        await self.router.prepare("", self.provider, tools=True, tier="default")  # model, context, GPU fit
        await self._check_provider()
        self._agent = agent  # ready: from here on requests do not wait
        self.console.print(self._banner(), style="dim", markup=False, highlight=False)
        from llmos.ui.first_run import offer_in_shell  # no local model yet: offer one, asked once

        await offer_in_shell(self.terminal, self.config, self.offline)
        return agent

    async def _check_provider(self) -> None:
        config, _model = self.router.first_route("", self.provider)
        if config is None:
            self.offline = True
            return
        try:
            await asyncio.wait_for(self.router.provider(config.name).list_models(), 5)
        except Exception:
            self.offline = True

    async def ready(self) -> Any:
        """The agent, waiting (with a spinner) if it is still loading."""
        if self._agent is not None:
            return self._agent
        assert self._loading is not None
        if not self._loading.done():
            with self.console.status("starting tools…", spinner="dots"):
                return await self._loading
        return self._loading.result()

    def _banner(self) -> str:
        provider, model = self.router.first_route("", self.provider)
        parts = [f"llmos {__version__}"]
        if provider is None:
            parts.append("no provider configured")
        else:
            picked = self.router.choices.get(("default", True))
            engine = self.router.picked(provider, "default") if provider.type == "embedded" else None
            if engine is not None:  # "qwen2.5-coder-0.5b-instruct · ctx 4096 · CPU · 1 thread"
                parts += [provider.name, engine.banner()]
            elif picked is not None:  # "llama3.2:3b · ctx 4096 · 29/29 layers on GPU · est. 3.1 GiB of 3.7 GiB free"
                parts += [provider.name, picked.reason]
            else:
                context = self.router.context_window(provider)
                parts += [provider.name, model or "?"] + ([f"ctx {context}"] if context else [])
            if self.offline:
                parts.append(f"{provider.name} is unreachable")
        agent = self._agent
        if agent is not None:
            parts.append(f"{len(agent.host.tools)} tools")
            for name, reason in agent.host.down().items():
                parts.append(f"{name} down ({reason})")
        return " · ".join(parts) + " — /help for commands"

    def _toolbar(self) -> str:
        provider, model = self.router.first_route("", self.provider)
        parts = [model or "no model"]
        if provider is not None:
            window, counter = self.chat.context(self.router, "", self.provider)  # the model's context (n_ctx)
            parts.append(f"{self.chat.conversation.tokens(counter):,}/{window:,} tokens")
        if self._agent is None:
            parts.append("loading tools…")
        elif self._agent.authorizer.dry_run:
            parts.append("DRY RUN")
        if self.confirming:
            parts.append("waiting for your yes/no")
        if self.auto_yes:
            parts.append("YES: auto-approve on")
        if self.offline:
            parts.append("offline")
        return " " + " · ".join(parts)

    # ---- the loop ------------------------------------------------------------------------------------------

    async def run(self) -> None:
        self.start_loading()
        self.console.print(f"llmos {__version__} — type a request, /help for commands, Ctrl-D to exit",
                           style="dim", highlight=False)
        with patch_stdout(raw=True):
            while self.running:
                try:
                    with self._keys_raw_before_the_prompt():
                        line = await self.prompt.prompt_async("llmos> ")
                except KeyboardInterrupt:
                    self.console.print("(Ctrl-D or /exit to leave)", style="dim")
                    continue
                except EOFError:
                    break
                await self.handle(line)
        await self.close()

    def _keys_raw_before_the_prompt(self) -> contextlib.AbstractContextManager[None]:
        """On TERM=dumb prompt_toolkit writes the prompt and only then puts the tty in raw mode: a key typed in
        that gap got the tty's own handling, so a Ctrl-D right after a turn became the line discipline's
        end-of-file and was lost. Raw mode first closes the gap (prompt_toolkit's own raw mode nests inside)."""
        from prompt_toolkit.utils import is_dumb_terminal

        if self.terminal.prompt_output is not None or not is_dumb_terminal():
            return contextlib.nullcontext()
        return self.prompt.input.raw_mode()

    async def handle(self, line: str) -> None:
        text = line.strip()
        if not text:
            return
        try:
            if text.startswith("/"):
                await dispatch(self, text)
            elif text.startswith("!"):
                await self._shell(text[1:].strip())
            else:
                await self._turn(text)
        except LlmosError as exc:
            self.last_error = "".join(traceback.format_exception(exc))
            self.console.print(f"llmos: {exc}", style="red", markup=False)
        except Exception as exc:  # one friendly line; /debug shows the rest
            self.last_error = "".join(traceback.format_exception(exc))
            self.console.print(f"llmos: unexpected error: {exc} (/debug shows details)", style="red", markup=False)

    async def _turn(self, text: str) -> None:
        agent = await self.ready()
        if self.pending_context:
            text = "\n\n".join([*self.pending_context, text])
            self.pending_context = []
        self.events.start_turn()
        task = asyncio.create_task(agent.turn(self.chat, text, provider=self.provider))
        if await self._cancellable(task) is None and self.events.partial.strip():
            # Keep what was already shown, so the history reads as the person saw it.
            from llmos.llm.messages import Message

            self.chat.add(Message("assistant", self.events.partial.rstrip() + " … [cancelled]"))

    async def _cancellable(self, task: asyncio.Task) -> Any:
        """Await ``task``; Ctrl-C cancels it (not the shell) and leaves the conversation consistent."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, task.cancel)
        try:
            return await task
        except (asyncio.CancelledError, KeyboardInterrupt):
            task.cancel()
            self.events.close_stream()
            self.chat.close_dangling("cancelled by the user")
            self.console.print("cancelled", style="yellow")
            return None
        finally:
            self.events.close_stream()
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)

    async def _shell(self, command: str) -> None:
        """`!command`: authorized as the tool shell.run (rules can allow, ask or deny commands by pattern;
        commands that look destructive ask; a dry run runs only what looks read-only), then run in the
        user's shell. The same path as the model's tool calls: llmos.agent.authorize."""
        import time

        from llmos.agent.authorize import Cancelled, Denied, DryRun, Ran
        from llmos.agent.host import ToolOutcome
        from llmos.repl.shell import ShellResult, run_shell, shell_tool

        if not command:
            raise LlmosError("give a command after !, e.g. !ls -la")
        agent = await self.ready()
        shown: list[ShellResult] = []

        async def execute(arguments: dict[str, Any]) -> ToolOutcome | None:
            start = time.perf_counter()
            result = await self._cancellable(asyncio.create_task(run_shell(str(arguments["command"]))))
            if result is None:
                return None
            shown.append(result)
            return ToolOutcome(result.status == 0, result.output, None, time.perf_counter() - start)

        outcome = await agent.authorizer.run(shell_tool(command), {"command": command}, execute)
        if isinstance(outcome, Denied):
            raise LlmosError(f"not run: {outcome.rule}")
        if isinstance(outcome, DryRun):
            self.console.print("not run: dry run (/dry-run turns it off)", style="yellow")
            return
        if isinstance(outcome, Cancelled) or not isinstance(outcome, Ran):
            if not isinstance(outcome, Cancelled):
                self.console.print("not run", style="yellow")
            return
        result = shown[0]
        if result.output:
            self.console.print(result.output, markup=False, highlight=False)
        self.console.print(f"exit status {result.status} — the output is context for your next request",
                           style="dim")
        self.pending_context.append(result.as_context())

    async def close(self) -> None:
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()  # leaving while tools start: stop them, and close what had started
            with contextlib.suppress(asyncio.CancelledError, Exception):  # its error was the load's, not ours
                await self._loading
        agent = self._agent or self._built
        if agent is not None:
            await agent.host.aclose()
        await self.router.aclose()


class _ReplConfirmer:
    """Confirmation inside the shell: /yes approves everything, otherwise ask on this terminal."""

    def __init__(self, repl: Repl):
        self.repl = repl

    async def confirm(self, request: Any) -> Any:
        from llmos.agent.confirm import Answer, Confirmation, TerminalConfirmer

        if self.repl.auto_yes and not request.floor:
            return Confirmation(Answer.YES, request.arguments, "auto-approved (/yes)", by="flag")
        self.repl.events.close_stream()
        terminal = self.repl.terminal
        asker = TerminalConfirmer(console=self.repl.console, input=terminal.prompt_input, output=terminal.prompt_output)
        self.repl.confirming = True
        try:
            return await asker.confirm(request)
        finally:
            self.repl.confirming = False


def main(terminal: Terminal | None = None, options: Options | None = None) -> None:
    from llmos.runtime import load_with_warnings

    terminal = terminal or current()
    options = options or Options()
    repl = Repl(load_with_warnings(options.flags(), terminal), terminal, options)
    asyncio.run(repl.run())
