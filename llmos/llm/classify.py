"""Sorting a request into simple / moderate / complex / creative, and each into a model tier.

Deliberately cheap (no model call): it runs before every request.
"""

from __future__ import annotations

import enum
import re


class Task(enum.StrEnum):
    SIMPLE = "simple"
    MODERATE = "moderate"
    COMPLEX = "complex"
    CREATIVE = "creative"

    @property
    def tier(self) -> str:
        return {"simple": "fast", "moderate": "default", "complex": "reasoning", "creative": "default"}[self.value]


_CREATIVE = re.compile(r"\b(write|compose|draft)\b.*\b(poem|story|song|haiku|essay|letter|joke|lyrics)\b"
                       r"|\b(imagine|brainstorm|creative)\b", re.I)
_COMPLEX = re.compile(r"\b(explain|analy[sz]e|compare|design|architect|plan|debug|refactor|optimi[sz]e|prove|"
                      r"step[- ]by[- ]step|trade-?offs?|pros and cons|investigate|diagnose|figure out)\b", re.I)


def classify(text: str) -> Task:
    words = len(text.split())
    if _CREATIVE.search(text):
        return Task.CREATIVE
    if _COMPLEX.search(text) or words > 60 or text.count("\n") > 5:
        return Task.COMPLEX
    if words <= 8:
        return Task.SIMPLE
    return Task.MODERATE
