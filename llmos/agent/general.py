"""Questions about the world, not about this computer: "who wrote Romeo and Juliet?", "what is a git
commit?", "at what temperature does water boil?". A small model offered tools for them calls one.

Measured on Qwen2.5-Coder-0.5B (the task suite, constrained, benchmarks/README.md): 4 of 16 requests that
need no tool got a call — git_log(author="Romeo") for Romeo and Juliet, temperatures() for boiling water,
process_details(pid=12345) for "how are you doing today?", and for "what is a git commit?" git_commit, then
git_init, which made the home folder a repository. So a small-context model is offered no tool for a
question that names nothing of the person's: no "I", "my", "here", "this machine", "right now", no file,
path, URL, number or hyphenated name, no "the last commit" — nothing that can only be looked up.
"""

from __future__ import annotations

import re

from llmos.agent.answer_step import asks_for_action

# Words that point at the person, their machine, or a thing in the conversation.
_MINE = re.compile(
    r"\b(i|i'm|im|i've|ive|i'd|me|my|mine|myself|we|our|us|here|there|it|its|it's|that|this|these|those|"
    r"them|they|now|currently|today|yesterday|running|installed|open|left|free|used|using|in use|local|"
    r"locally|anywhere|somewhere|everything|anything)\b|"
    r"\bthe (\w+ ){0,2}(computer|machine|system|laptop|pc|box|disk|drive|repo|repository|branch|commit|folder|"
    r"directory|file|readme|script|document|pdf|photo|picture|image|video|song|log|process|program|app|window|"
    r"tab|page|site|battery|network|screen|desktop)s?\b|"
    r"\bthe (last|latest|newest|previous|current|first|second|third|oldest|biggest|largest|most|least|"
    r"other)\b", re.I)
# Names of things that can only be looked up: files, paths, URLs, numbers of 3+ digits (a PID, a port),
# hyphenated or underscored identifiers (backup-daemon).
_THING = re.compile(r"https?://|www\.|[~/]\w|\b[\w-]+\.[a-z0-9]{1,5}\b|\b\d{3,}\b|\b\w+[-_]\w+\b", re.I)
_QUESTION = re.compile(r"^\s*(in (one|a few|two) (sentence|word|line)s?,?\s*)?((at|in|on|for) )?"
                       r"(what|what's|whats|which|who|who's|whose|where|when|why|how|is|are|was|were|do|does|"
                       r"did|can|could|name|define|"
                       r"explain|tell me (a|an|about)|say)\b", re.I)


def about_the_world(request: str) -> bool:
    """Whether ``request`` is a question no tool on this computer answers."""
    text = request.strip()
    if not _QUESTION.match(text) or _MINE.search(text) or _THING.search(text):
        return False
    return not asks_for_action(text) or text.rstrip().endswith("?")
