"""The repository actor: the code store exposed as messages."""
