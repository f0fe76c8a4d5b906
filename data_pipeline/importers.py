"""Importers: the one reader per benchmark format, shared by the corpus builder and eval.

Layouts read (nothing is downloaded; users pass local paths):

- KernelBench: ``ROOT/level{1,2,3,4}/*.py`` or ``ROOT/KernelBench/levelN/*.py`` — each file is a task.
- TritonBench-T / -G: ``ROOT[/data]/TritonBench_{T,G}_v1/*.py`` (one file per task: code, a ``#####...``
  separator line, then a test harness that calls the code's functions) and, optional, the index
  ``TritonBench_{T,G}_v1.json[l]`` next to it (a JSON list upstream, JSON lines accepted too) whose
  entries name ``file`` and carry the instruction texts. With an index, its entries are the task list.
- User folder (or one file): ``*.py`` task files; ``<stem>_solution.py`` next to one is its candidate.

TritonBench is compared by *values*, not by TritonBench's printed text: the harness becomes the body of a
synthesized KernelBench reference whose `__init__`/`get_inputs` run the test once to record every call of
the entry functions (and their tensors), and whose `forward` replays those calls. A candidate gets the
same harness appended as `ModelNew` (`with_harness`), so reference and candidate run through the one
sandboxed `verify` on every test case. Task ids are ``<source>-<name>`` everywhere, so a decontamination
drop in the corpus report names the same task an eval report shows.

A wrong-shaped folder, a missing path or a malformed file raises one `DataError` line.

Each format has a module of its own; this one re-exports their public names, so callers import
`data_pipeline.importers`:

- `data_pipeline.import_common`: the `Imported` record; paths and task files.
- `data_pipeline.kernelbench`: KernelBench, and its size rule for the CPU interpreter (`scale_kernelbench`).
- `data_pipeline.tritonbench`: TritonBench checkouts (index, entries, `tritonbench_t` / `tritonbench_g`),
  built from `data_pipeline.tritonbench_split` (a file taken apart), `data_pipeline.tritonbench_harness`
  (the value-oracle harness) and `data_pipeline.tritonbench_device` (device portability).
- `data_pipeline.user_folder`: user folders.
"""

from data_pipeline.import_common import Imported
from data_pipeline.kernelbench import (
    CPU_BUDGET_ELEMS,
    KERNELBENCH_LICENSE,
    SIZE_FLOOR,
    SIZE_MIN,
    Scaled,
    kernelbench_tasks,
    probe_sizes,
    rewrite_constants,
    scale_kernelbench,
    size_constants,
)
from data_pipeline.tritonbench import (
    TRITONBENCH_LICENSE,
    TritonBenchEntry,
    tritonbench,
    tritonbench_g,
    tritonbench_instruction,
    tritonbench_t,
)
from data_pipeline.tritonbench_device import device_portable
from data_pipeline.tritonbench_harness import harness_source, with_harness
from data_pipeline.tritonbench_split import SEPARATOR, SplitTest, split_tritonbench
from data_pipeline.user_folder import user_tasks

__all__ = [
    "CPU_BUDGET_ELEMS", "KERNELBENCH_LICENSE", "SEPARATOR", "SIZE_FLOOR", "SIZE_MIN", "TRITONBENCH_LICENSE",
    "Imported", "Scaled", "SplitTest", "TritonBenchEntry", "device_portable", "harness_source",
    "kernelbench_tasks", "probe_sizes", "rewrite_constants", "scale_kernelbench", "size_constants",
    "split_tritonbench", "tritonbench", "tritonbench_g", "tritonbench_instruction", "tritonbench_t",
    "user_tasks", "with_harness",
]
