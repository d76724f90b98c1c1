"""The VRAM-aware model picker: which local model, what num_ctx and how many GPU layers.

    detect.py     GPUs and free VRAM (NVML, nvidia-smi, amdgpu sysfs, rocm-smi, Apple), else system RAM
    catalog.py    architecture numbers of well-known small models, as data
    estimate.py   memory at a context: weights + KV cache + compute graph + engine reserve; partial offload
    choose.py     the choice for a tier, with the configuration's pins (picker.model / num_ctx / vram_limit_mib)
    inventory.py  what Ollama has installed and loaded, /api/show cached per digest; `survey` gathers it all

Typical use (the REPL runs it once before the prompt, then asks per turn)::

    survey = await llmos.picker.survey(config)
    choice = survey.choose("default", tools=True)   # choice.model, choice.num_ctx, choice.reason

Nothing here imports an SDK at module level: the ollama client is imported when a survey talks to Ollama.
"""

from __future__ import annotations

# The functions named like their modules (choose, detect, estimate) are not re-exported here: the name
# would hide the submodule (`llmos.picker.detect` must stay the module, for imports and monkeypatching).
from llmos.picker.choose import Choice, LoadedModel, Settings
from llmos.picker.detect import Gpu, Machine
from llmos.picker.estimate import Estimate, ModelSpec
from llmos.picker.inventory import Survey, survey, survey_sync

__all__ = ["Choice", "Estimate", "Gpu", "LoadedModel", "Machine", "ModelSpec", "Settings", "Survey",
           "survey", "survey_sync"]
