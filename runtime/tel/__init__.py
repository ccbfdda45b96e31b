"""TEL, the Temporal Effect Language of stored code: syntax, types, cost, evaluation, hashing."""
