"""`llmos models`: local models, whether each fits this machine, what to pull, and pulling it."""

from __future__ import annotations

from typing import Any

import typer

app = typer.Typer(help="Local models: what is installed, what fits this GPU, what to pull.",
                  no_args_is_help=False)

_VRAM_HELP = "What if the GPU had this many MiB free (e.g. 4096 for a 4 GB card), whatever this machine has."
_JSON_HELP = "Print the result as JSON."


def _survey(vram_mib: int | None, config: Any = None) -> Any:
    from llmos.config import load_config
    from llmos.picker.inventory import survey_sync

    if vram_mib is not None and vram_mib <= 0:
        raise typer.BadParameter("must be a positive number of MiB", param_hint="--vram-mib")
    return survey_sync(config or load_config(), vram_mib=vram_mib)


def _gguf_overview(survey: Any, config: Any) -> Any:
    """The GGUF files and the engine's plan, with what the embedded provider's config pins (model, n_ctx,
    threads, gpu_layers), so this says what `llmos` will load."""
    from llmos.models.overview import overview

    pins = next((p for p in config.providers().values() if p.type == "embedded" and p.enabled), None)
    if pins is None:
        return overview(survey.machine, survey.settings)
    from dataclasses import replace

    from llmos.llm.providers.embedded import binding_offloads, configured_model

    view = overview(survey.machine, survey.settings, threads=pins.threads, model=configured_model(pins),
                    n_ctx=pins.n_ctx, gpu_layers=pins.gpu_layers)
    if view.engine.gpu_layers and not binding_offloads():
        view = replace(view, engine=view.engine.with_gpu_layers(0))  # a CPU-only build of the binding
    return view


def _print_json(data: Any) -> None:
    import json

    from llmos.terminal import current

    current().write(json.dumps(data, indent=2) + "\n")


@app.callback(invoke_without_command=True)
def models(ctx: typer.Context,
           vram_mib: int | None = typer.Option(None, "--vram-mib", help=_VRAM_HELP),
           json_output: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
    """List installed models and the catalog's recommendations with size, quantization, context, tools
    support, estimated memory at the context the picker would use, and whether each fits this machine."""
    if ctx.invoked_subcommand is not None:
        return
    from llmos.config import load_config

    config = load_config()
    survey = _survey(vram_mib, config)
    fits = survey.fits()
    choice = survey.choose("default", tools=True)
    gguf = _gguf_overview(survey, config)
    if json_output:
        _print_json({**survey.to_json(), "choice": choice.to_json(), "models": [f.to_json() for f in fits],
                     "gguf": gguf.to_json()})
        return
    from llmos.terminal import current
    from llmos.ui.models_view import print_gguf, print_models

    console = current().console
    print_models(console, survey, fits, choice)
    print_gguf(console, gguf)


@app.command("fit")
def fit(model: str = typer.Argument(..., help="An installed model or a catalog name, e.g. llama3.2:3b."),
        ctx: int | None = typer.Option(None, "--ctx", min=256, help="Context size (default: the picker's)."),
        vram_mib: int | None = typer.Option(None, "--vram-mib", help=_VRAM_HELP),
        json_output: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
    """Explain the memory estimate of one model: weights, KV cache, compute graph, reserve, and the verdict."""
    from llmos.errors import UsageError
    from llmos.picker.catalog import CATALOG
    from llmos.picker.choose import CTX_STEPS, assess

    survey = _survey(vram_mib)
    spec = survey.spec_for(model)
    if spec is None:
        known = ", ".join(sorted({m.name for m in survey.installed} | set(CATALOG)))
        raise UsageError(f"unknown model {model!r}: not installed in Ollama and not in the built-in catalog "
                         f"(known: {known})")
    installed = any(m.name == spec.name for m in survey.installed)
    result = assess(spec, survey.machine, survey.settings, installed=installed, loaded=survey.loaded, num_ctx=ctx)
    ladder = [assess(spec, survey.machine, survey.settings, installed=installed, num_ctx=c).estimate
              for c in CTX_STEPS if c <= spec.arch.context_length]
    if json_output:
        a = spec.arch
        _print_json({**result.to_json(), "machine": survey.machine.to_json(),
                     "architecture": {"name": a.name, "block_count": a.block_count, "head_count": a.head_count,
                                      "head_count_kv": a.head_count_kv, "key_length": a.key_length,
                                      "value_length": a.value_length, "embedding_length": a.embedding_length,
                                      "context_length": a.context_length, "vocab_size": a.vocab_size,
                                      "sliding_window": a.sliding_window},
                     "by_context": [e.to_json() for e in ladder]})
        return
    from llmos.terminal import current
    from llmos.ui.models_view import print_fit

    print_fit(current().console, result, ladder, survey)


@app.command("recommend")
def recommend(vram_mib: int | None = typer.Option(None, "--vram-mib", help=_VRAM_HELP),
              json_output: bool = typer.Option(False, "--json", help=_JSON_HELP)) -> None:
    """Suggest which models to pull for this machine (or a what-if card), per tier."""
    survey = _survey(vram_mib)
    recs = survey.recommend()
    if json_output:
        _print_json({"machine": survey.machine.to_json(),
                     "recommendations": [{"tier": tier, "installed": installed, **choice.to_json()}
                                         for tier, choice, installed in recs]})
        return
    from llmos.terminal import current
    from llmos.ui.models_view import print_recommend

    print_recommend(current().console, survey, recs)


@app.command("pull")
def pull(model: str = typer.Argument(..., help="A GGUF catalog name (e.g. qwen2.5-1.5b-instruct) or an Ollama "
                                               "tag (e.g. llama3.2:3b).")) -> None:
    """Download a model: GGUF catalog names from Hugging Face into the models folder (resumable, checksum
    verified), Ollama tags through Ollama; with a progress bar."""
    from llmos.models import catalog

    if ":" not in model and catalog.get(model) is not None:
        _pull_gguf(model)
        return
    import asyncio

    from llmos.config import load_config
    from llmos.picker.inventory import pull as pull_model
    from llmos.terminal import current
    from llmos.ui.models_view import PullProgress

    with PullProgress(current().err_console) as bar:
        asyncio.run(pull_model(load_config(), model, bar.update))
    current().write(f"pulled {model}\n")


def _pull_gguf(name: str) -> None:
    from llmos.models.pull import gb, pull
    from llmos.paths import display
    from llmos.terminal import current
    from llmos.ui.models_view import GgufProgress

    terminal = current()
    with GgufProgress(terminal.err_console) as bar:
        result = pull(name, progress=bar)
    if not result.sha256:  # found in another tool's folder
        terminal.write(f"{result.entry.name} is already on disk: {display(result.path)} "
                       f"({gb(result.size_bytes)}); it is used from there, not copied\n")
        return
    how = "already downloaded" if not result.downloaded else "pulled"
    terminal.write(f"{how} {result.entry.name}: {display(result.path)} ({gb(result.size_bytes)}, "
                   f"sha256 {result.sha256[:16]}…)\n")
