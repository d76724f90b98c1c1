"""The conversation: history inside a real token budget, compaction, references, persistence."""
