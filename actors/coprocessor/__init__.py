"""The RISC-V (RV32IM) co-processor: engine, witness, checkpoints, and its actor."""
