"""The interactive shell: `llmos` with no arguments."""
