"""The ``unified-ats`` command line (operators)."""

import json
from typing import Annotated

import typer

from schemas.export import EXPORTED, render

app = typer.Typer(no_args_is_help=True, help="unified-ats: unified ATS API and connector SDK.")


@app.callback()
def root() -> None:
    """unified-ats: a self-hostable unified ATS API (Bindbee-shaped) and connector SDK."""


@app.command()
def schema(
    model: Annotated[str, typer.Argument(help="candidate, attachment, candidate_page, ...")] = (
        "candidate"
    ),
) -> None:
    """Print the JSON Schema of a public model."""
    file_name = f"{model}.json"
    if file_name not in EXPORTED:
        raise typer.BadParameter(f"unknown model; choose from {[n[:-5] for n in EXPORTED]}")
    typer.echo(json.dumps(json.loads(render(EXPORTED[file_name])), indent=2, ensure_ascii=False))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
