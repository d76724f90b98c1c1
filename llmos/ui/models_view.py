"""Rendering for `llmos models` (and the machine section of `llmos doctor`): tables and a pull progress bar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table
from rich.text import Text

from llmos.models.overview import GgufOverview
from llmos.paths import display
from llmos.picker.choose import Choice, Fit, verdict
from llmos.picker.estimate import GIB, Estimate
from llmos.picker.inventory import Survey

if TYPE_CHECKING:
    from rich.console import Console


def _gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"


def _size(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"  # as Ollama prints download sizes


def _verdict(fit_or_estimate: Fit | Estimate) -> Text:
    e = fit_or_estimate.estimate if isinstance(fit_or_estimate, Fit) else fit_or_estimate
    style = "green" if e.fits else "yellow" if e.device == "partial" else "red"
    return Text(verdict(e), style=style)


def print_machine(console: Console, survey: Survey, choice: Choice | None = None) -> None:
    """GPUs with total/free VRAM and driver, what Ollama has loaded, and the picker's choice."""
    m = survey.machine
    table = Table(title="GPU", title_justify="left", header_style="bold")
    for name in ("#", "name", "total", "free", "driver", "via"):
        table.add_column(name, justify="right" if name in ("#", "total", "free") else "left", no_wrap=True)
    for g in m.gpus:
        table.add_row(str(g.index), g.name + (" (unified memory)" if g.unified else ""), _gib(g.total_bytes),
                      _gib(g.free_bytes), g.driver or "–", g.source)
    if m.gpus:
        console.print(table)
    else:
        console.print(f"[bold]GPU[/] none found — models run on the CPU "
                      f"({_gib(m.ram_available_bytes)} of {_gib(m.ram_total_bytes)} RAM available)")
    for note in m.notes if not m.gpus else ():
        console.print(f"  [dim]{note}[/]")
    for lm in survey.loaded:
        console.print(f"[dim]Ollama has {lm.name} loaded: {_gib(lm.vram_bytes)} in VRAM of {_gib(lm.size_bytes)}, "
                      f"ctx {lm.context_length}[/]")
    if survey.ollama_error and (choice is None or choice.model is not None):
        console.print(f"[yellow]Ollama not reachable at {survey.ollama_url}:[/] {survey.ollama_error}")
    for note in survey.notes:
        console.print(f"[dim]{note}[/]")
    if choice is not None:
        console.print(f"[bold]Picker[/] {choice.reason}")
        for w in choice.warnings:
            console.print(f"  [yellow]![/] {w}")


def _ctx(n: int) -> str:
    return f"{n // 1024}k" if n >= 1024 and n % 1024 == 0 else str(n)


def _short_verdict(e: Estimate) -> Text:
    if e.fits:
        return Text("fits on GPU" if e.has_gpu else "runs on CPU", style="green")
    if e.device == "partial":
        return Text(f"partial {e.gpu_layers}/{e.total_layers} ≈{e.slowdown or 0:.1f}×", style="yellow")
    return Text("CPU only" if e.has_gpu else "too big", style="red")


def print_models(console: Console, survey: Survey, fits: list[Fit], choice: Choice) -> None:
    print_machine(console, survey, choice)
    table = Table(title="Models (● installed; partial: layers on GPU, ≈ times slower)", title_justify="left",
                  header_style="bold", box=None, pad_edge=False)
    for column in ("model", "size", "quant", "max ctx", "tools", "needs @ ctx", "here"):
        table.add_column(column, no_wrap=column != "here", min_width=len(column),
                         justify="right" if column in ("size", "max ctx", "needs @ ctx")
                         else "center" if column == "tools" else "left")
    for f in fits:
        s, e = f.spec, f.estimate
        name = Text(("● " if f.installed else "  ") + s.name, style="bold" if s.name == choice.model else "")
        table.add_row(name, _size(s.weights_bytes), s.quant or "–", _ctx(s.arch.context_length),
                      "✔" if s.tools else "–", f"{e.need_bytes / GIB:.1f} GiB @ {_ctx(e.num_ctx)}",
                      _short_verdict(e) if s.can_chat else Text("embeddings only", style="dim"))
    console.print(table)
    console.print("[dim]`llmos models fit MODEL` explains one estimate; `llmos models recommend` suggests "
                  "what to pull.[/]")


def print_fit(console: Console, fit: Fit, ladder: list[Estimate], survey: Survey) -> None:
    s, e, a = fit.spec, fit.estimate, fit.spec.arch
    m = survey.machine
    where = ("what-if card" if m.hypothetical else "GPU") if m.gpus else "no GPU (CPU, system RAM)"
    console.print(f"[bold]{s.name}[/] — {s.quant or '?'} · {s.params / 1e9:.2f}B parameters · "
                  f"{_size(s.weights_bytes)} · metadata from {s.source} · {where}")
    window = f", sliding window {a.sliding_window}" if a.sliding_window else ""
    console.print(f"  architecture {a.name}: {a.block_count} layers, {a.head_count} heads, "
                  f"{a.head_count_kv} KV heads, head size {a.key_length}/{a.value_length}, "
                  f"embedding {a.embedding_length}, max context {a.context_length:,}{window}")
    table = Table(title=f"at ctx {e.num_ctx}", title_justify="left", show_header=False, box=None)
    table.add_column(justify="left")
    table.add_column(justify="right")
    table.add_column(justify="left", style="dim")
    table.add_row("weights", _gib(e.weights_bytes), "the model file")
    table.add_row("KV cache", _gib(e.kv_bytes), f"{e.num_ctx} × {a.block_count} layers × {a.head_count_kv} KV "
                  f"heads × ({a.key_length}+{a.value_length}) × {e.kv_type}")
    table.add_row("compute graph", _gib(e.graph_bytes), "Ollama's estimate for this architecture")
    table.add_row("engine reserve", _gib(e.reserve_bytes), "per-GPU minimum + one layer of buffer"
                  if e.has_gpu else "none on the CPU")
    table.add_row(Text("total", style="bold"), Text(_gib(e.need_bytes), style="bold"),
                  f"of {_gib(e.free_bytes)} {'free' if e.has_gpu else 'RAM available'}")
    console.print(table)
    console.print(_verdict(e))
    if len(ladder) > 1:
        other = Table(title="other context sizes", title_justify="left", header_style="bold")
        for name in ("ctx", "KV cache", "total", "verdict"):
            other.add_column(name, justify="right" if name != "verdict" else "left", no_wrap=True)
        for x in ladder:
            other.add_row(f"{x.num_ctx:,}", _gib(x.kv_bytes), _gib(x.need_bytes), _verdict(x))
        console.print(other)


def print_recommend(console: Console, survey: Survey, recs: list[tuple[str, Choice, bool]]) -> None:
    print_machine(console, survey, None)
    table = Table(title="Recommended", title_justify="left", header_style="bold")
    for name in ("tier", "model", "ctx", "placement", "est. memory", "installed"):
        table.add_column(name, no_wrap=True)
    to_pull = []
    for tier, choice, installed in recs:
        if choice.model is None:
            table.add_row(tier, "–", "–", choice.reason, "–", "–")
            continue
        e = choice.estimate
        placement = _verdict(e) if e is not None else Text(choice.device)
        table.add_row(tier, choice.model, str(choice.num_ctx), placement, _gib(choice.est_bytes),
                      "✔" if installed else "–")
        if not installed and choice.model not in to_pull:
            to_pull.append(choice.model)
    console.print(table)
    for model in to_pull:
        console.print(f"  llmos models pull {model}")
    if not to_pull:
        console.print("[green]The recommended models are installed.[/]")


class PullProgress:
    """A rich progress bar per layer of an Ollama pull (records: status, digest, total, completed), on the
    terminal's stderr Console."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), TimeRemainingColumn(), console=self.console)
        self.tasks: dict[str, Any] = {}
        self.last_status = ""

    def __enter__(self) -> PullProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def update(self, record: Any) -> None:
        digest, total = getattr(record, "digest", None), getattr(record, "total", None)
        status = getattr(record, "status", "") or ""
        if digest and total:
            task = self.tasks.get(digest)
            if task is None:
                task = self.tasks[digest] = self.progress.add_task(f"pulling {digest.removeprefix('sha256:')[:12]}",
                                                                   total=total)
            self.progress.update(task, completed=getattr(record, "completed", None) or 0)
        elif status and status != self.last_status:
            self.progress.console.print(status)
        self.last_status = status


def print_gguf(console: Console, view: GgufOverview) -> None:
    """The GGUF files on disk (used in place by the embedded engine) and what the engine would run."""
    if view.local:
        table = Table(title="GGUF files on disk (used where they are)", title_justify="left", header_style="bold",
                      box=None, pad_edge=False)
        for name in ("model", "from", "size", "quant", "max ctx", "tools", "needs @ ctx", "here"):
            table.add_column(name, no_wrap=name != "here", min_width=len(name),
                             justify="right" if name in ("size", "max ctx", "needs @ ctx") else "left")
        for m, fit in view.local:
            needs = f"{fit.estimate.need_bytes / GIB:.1f} GiB @ {_ctx(fit.estimate.num_ctx)}" if fit else "–"
            here = _short_verdict(fit.estimate) if fit and m.can_chat else Text(m.problem or "not a chat model",
                                                                               style="dim")
            table.add_row(m.name, m.source, _size(m.size_bytes), m.quant or "–",
                          _ctx(m.context_length) if m.context_length else "–", "✔" if m.tools else "–", needs, here)
        console.print(table)
    else:
        console.print(f"[bold]GGUF files[/] none found (Ollama's store, LM Studio, the Hugging Face cache, "
                      f"{display(view.models_dir)})")
    engine, rec = view.engine, view.recommended
    if engine.installed:
        console.print(f"[bold]Embedded engine[/] {engine.banner()}", markup=True, highlight=False)
    if rec.model is not None and rec.entry is not None and (not engine.installed or rec.model != engine.model):
        console.print(f"[bold]Recommended GGUF[/] {rec.banner()} — {_size(rec.size_bytes)} download, "
                      f"{_size(view.free_disk_bytes)} free in {display(view.models_dir)}", highlight=False)
        console.print(f"  llmos models pull {rec.model}", highlight=False)


class GgufProgress:
    """A rich progress bar for a GGUF download (llmos.models.pull.Progress), on the terminal's stderr Console."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), TimeRemainingColumn(), console=self.console)
        self.task: Any = None

    def __enter__(self) -> GgufProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def start(self, description: str, total: int | None, completed: int) -> None:
        if self.task is None:
            self.task = self.progress.add_task(f"pulling {description}", total=total, completed=completed)
            if completed:
                self.progress.console.print(f"resuming from {_size(completed)}")
        else:  # a retry after a dropped connection reuses the bar
            self.progress.update(self.task, total=total, completed=completed)

    def advance(self, n: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)

    def status(self, text: str) -> None:
        self.progress.console.print(text)

    def finish(self) -> None:
        if self.task is not None:
            task = self.progress.tasks[0]
            self.progress.update(self.task, completed=task.total or task.completed)
