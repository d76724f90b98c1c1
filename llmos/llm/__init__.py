"""Talking to language models: one message format, provider adapters, and the router."""
