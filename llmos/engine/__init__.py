"""llmos's own local model engine: llama.cpp in-process, behind one small backend interface.

    backend.py          the interface a binding implements (load, tokenize, evaluate, sample, state files)
    cyllama_backend.py  the binding used by default (prebuilt wheels; imported only when a model loads)
    engine.py           prefix reuse across turns, generation with a grammar, cancellation
    prefix_cache.py     saved prefix states for one-shot runs, under the cache dir
    template.py         the model's own chat template (GGUF metadata), rendered in a sandbox
    toolcalls.py        grammars that make a small model's tool calls well-formed, and reading them back
"""
