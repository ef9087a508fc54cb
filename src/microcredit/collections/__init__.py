"""Collections: cases of overdue loans, the actions logged on them, and the compliance gates (docs/collections.md)."""
