"""The profiler behind ``stele profile``: TEL cost/wall profiles, RISC-V cycle profiles, writers.

- :mod:`._model`: a profile as self weights per call stack (exact totals);
- :mod:`._tel`: a TEL execution through the embedded runtime, with the
  interpreter's instrumentation mode and the execution-context tree;
- :mod:`._guest`: a RISC-V guest, exact (every instruction, call stacks from
  ``jal``/``jalr`` through ``ra``) or sampled (every N instructions);
- :mod:`._speedscope`, :mod:`._perfetto`, :mod:`._flame`, :mod:`._table`:
  speedscope JSON, Chrome trace-event / Perfetto JSON, a self-contained HTML
  flame graph, and the terminal's top-N table.
"""
