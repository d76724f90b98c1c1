"""Checking that the configured providers can work, with a fix for each problem."""
