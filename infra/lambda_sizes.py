"""Unzipped size of each function of a `sam build` with its layers, against Lambda's limit.

Lambda refuses a function whose code and layers, unzipped, pass 250 MB (262,144,000 bytes).
`make build` runs this on `.aws-sam/build` after `sam build`, so a dependency that pushes a
function past the limit fails the build, not the deployment:

    python infra/lambda_sizes.py .aws-sam/build
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import yaml

LIMIT = 262_144_000  # bytes: Lambda's "250 MB", function + layers, unzipped


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref X -> {"Ref": "X"}, ...)."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _tag)


def tree_bytes(path: str) -> int:
    """Bytes of every file under ``path`` (what the zip holds, unzipped); links not followed."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.lstat(os.path.join(root, name)).st_size
    return total


def sizes(build_dir: str) -> dict[str, tuple[int, dict[str, int]]]:
    """Each function's own bytes and those of each of its layers (by logical ID)."""
    with open(os.path.join(build_dir, "template.yaml")) as handle:
        template = yaml.load(handle, Loader=_CloudFormationLoader)  # a SafeLoader
    resources = template["Resources"]
    default_layers = (template.get("Globals") or {}).get("Function", {}).get("Layers") or []

    def located(uri: str) -> str:
        return os.path.join(build_dir, uri)

    found: dict[str, tuple[int, dict[str, int]]] = {}
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties") or {}
        layers = {}
        for layer in properties.get("Layers", default_layers):
            if isinstance(layer, dict) and "Ref" in layer and layer["Ref"] in resources:
                content = resources[layer["Ref"]]["Properties"]["ContentUri"]
                layers[layer["Ref"]] = tree_bytes(located(content))
        found[name] = (tree_bytes(located(properties["CodeUri"])), layers)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default=".aws-sam/build")
    args = parser.parse_args(argv)
    over = []
    for name, (own, layers) in sorted(sizes(args.build_dir).items()):
        total = own + sum(layers.values())
        parts = " + ".join(
            [f"{own / 1e6:.2f} MB", *(f"{v / 1e6:.1f} MB {k}" for k, v in layers.items())]
        )
        verdict = "ok" if total <= LIMIT else "OVER"
        print(f"{name}: {total / 1e6:.1f} MB of {LIMIT / 1e6:.1f} ({parts}) {verdict}")
        if total > LIMIT:
            over.append(name)
    if over:
        print(f"past Lambda's unzipped limit: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
