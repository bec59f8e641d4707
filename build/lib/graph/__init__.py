"""The knowledge and how it is held: load, validate, snapshot, and the question functions."""
