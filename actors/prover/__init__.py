"""The prover: BabyBear fields, multilinear polynomials, sum-check, commitments, and actors."""
