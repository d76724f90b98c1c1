"""Provider checks for `llmos doctor`: key present, reachable, configured models served."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from llmos.config import Config, ProviderConfig
from llmos.errors import ErrorKind, ProviderError
from llmos.llm.providers import create_provider


@dataclass
class ProviderCheck:
    name: str
    type: str
    ok: bool
    status: str
    fix: str = ""
    models: list[str] = field(default_factory=list)  # served by the provider
    missing_models: list[str] = field(default_factory=list)  # configured but not served


def _fix(p: ProviderConfig, error: ProviderError) -> str:
    if p.type == "ollama" and error.kind in (ErrorKind.UNAVAILABLE, ErrorKind.TIMEOUT):
        return f"start Ollama (`ollama serve`) or set OLLAMA_HOST; tried {p.base_url}"
    if error.kind is ErrorKind.AUTH_FAILED:
        return f"set {p.api_key_env} to a valid key" if p.api_key_env else "check the provider's API key"
    if error.kind in (ErrorKind.UNAVAILABLE, ErrorKind.TIMEOUT):
        return f"check that {p.base_url or 'the service'} is up and reachable"
    return error.hint


async def check_provider(p: ProviderConfig, timeout: float = 5.0) -> ProviderCheck:
    adapter = create_provider(p.name, p)
    try:
        problem = adapter.missing_setup()
        if problem:
            return ProviderCheck(p.name, p.type, False, problem, f"export {p.api_key_env}=…" if p.api_key_env else "")
        try:
            served = await asyncio.wait_for(adapter.list_models(), timeout)
        except TimeoutError:
            error = ProviderError(p.name, ErrorKind.TIMEOUT, f"no answer within {timeout:g}s")
            return ProviderCheck(p.name, p.type, False, error.kind.value, _fix(p, error))
        except ProviderError as error:
            return ProviderCheck(p.name, p.type, False, f"{error.kind.value}: {error.detail}", _fix(p, error))
        missing = sorted({m for m in p.models.values() if not _served(m, served)})
        if missing and p.type == "ollama":
            fix = "ollama pull " + " && ollama pull ".join(missing)
        elif missing:
            fix = "set providers.{}.models to served models ({})".format(p.name, ", ".join(served[:5]) or "none")
        else:
            fix = ""
        status = f"reachable, {len(served)} model{'s' if len(served) != 1 else ''}"
        if missing:
            status += f"; not served: {', '.join(missing)}"
        return ProviderCheck(p.name, p.type, True, status, fix, served, missing)
    finally:
        await adapter.aclose()


def _served(model: str, served: list[str]) -> bool:
    # Ollama lists "llama3.2:3b"; a config may say "llama3.2" meaning ":latest".
    return model in served or f"{model}:latest" in served


async def check_all(config: Config) -> list[ProviderCheck]:
    enabled = [p for p in config.providers().values() if p.enabled]
    return list(await asyncio.gather(*(check_provider(p) for p in enabled)))
