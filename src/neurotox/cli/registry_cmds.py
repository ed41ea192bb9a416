"""``neurotox endpoints`` and ``neurotox protocols``: browse the registries."""

from __future__ import annotations

import click

from neurotox.vocab import Category


@click.group()
def endpoints() -> None:
    """Browse the endpoint registry."""


@endpoints.command("list")
@click.option("--category", type=click.Choice([c.value for c in Category]), default=None,
              help="Only endpoints of this OECD/EPA category.")
@click.option("--assay", default=None, help="Only endpoints of this assay.")
def endpoints_list(category: str | None, assay: str | None) -> None:
    """List registered endpoints: name, assay, category, unit, type, adverse direction, values.

    ``values`` is the endpoint's domain: a value outside it in an EndpointTable
    is an error.
    """
    from neurotox import endpoints as ep

    rows = ep.list_endpoints(category=category, assay=assay)
    if not rows:     # a known assay and category that do not meet
        click.echo(f"no endpoint of assay {assay!r} in category {category!r}")
        return
    click.echo(f"{'endpoint':38} {'assay':20} {'category':19} {'unit':10} "
               f"{'type':11} {'adverse':9} values")
    for e in rows:
        click.echo(f"{e.name:38} {','.join(e.assays):20} {e.category.value:19} {e.unit:10} "
                   f"{e.data_type.value:11} {e.direction.value:9} {ep.domain_text(e)}")


@click.group()
def protocols() -> None:
    """Browse protocol templates."""


@protocols.command("list")
def protocols_list() -> None:
    """List shipped protocol templates."""
    from neurotox.protocols import available, load_protocol

    for name in available():
        p = load_protocol(name)
        click.echo(f"{p.name:32} {p.assay:20} {p.title}")


@protocols.command("show")
@click.argument("name")
def protocols_show(name: str) -> None:
    """Show a protocol with its effective parameters (template values and defaults)."""
    import yaml

    from neurotox.assays.base import resolve_parameters

    proto, params = resolve_parameters(name)
    doc = {"name": proto.name, "assay": proto.assay, "title": proto.title,
           "category": proto.category.value if proto.category else None,
           "guidelines": list(proto.guidelines), "description": proto.description,
           "parameters": params.model_dump(mode="json")}
    click.echo(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).rstrip())
