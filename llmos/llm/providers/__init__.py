"""Provider adapters. Each converts the internal format to one wire format; SDKs import lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmos.config.model import ProviderConfig
    from llmos.llm.providers.base import Provider


def create_provider(name: str, config: ProviderConfig) -> Provider:
    """Build the adapter for a configured provider; only that adapter's SDK gets imported."""
    kind = config.type
    if kind in ("openai", "openai-compatible"):
        from llmos.llm.providers.openai_chat import OpenAIChatProvider

        return OpenAIChatProvider(name, config)
    if kind == "anthropic":
        from llmos.llm.providers.anthropic_messages import AnthropicProvider

        return AnthropicProvider(name, config)
    if kind == "ollama":
        from llmos.llm.providers.ollama_chat import OllamaProvider

        return OllamaProvider(name, config)
    if kind == "embedded":
        from llmos.llm.providers.embedded import EmbeddedProvider

        return EmbeddedProvider(name, config)
    raise ValueError(f"unknown provider type {kind!r}")  # config validation rejects this earlier
