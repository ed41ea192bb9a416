"""Readers for instrument formats, atomic writers and the run manifest."""
