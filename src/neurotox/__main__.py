"""``python -m neurotox`` runs the CLI."""

from neurotox.cli.main import cli

cli(prog_name="neurotox")
