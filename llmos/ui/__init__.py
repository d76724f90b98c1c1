"""Showing things to the person: streamed answers, tables, notices. Results never print themselves."""
