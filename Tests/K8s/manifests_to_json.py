#!/usr/bin/env python3
"""Prints configs/k8s/*.yaml as one JSON object {file name: [documents]} for KubernetesManifestTests.
Exit 3 (the test skips) where PyYAML is missing."""
import json
import pathlib
import sys

try:
    import yaml
except ImportError:
    print("PyYAML is not installed (pip install pyyaml)", file=sys.stderr)
    sys.exit(3)

folder = pathlib.Path(sys.argv[1])
print(json.dumps({path.name: list(yaml.safe_load_all(path.read_text())) for path in sorted(folder.glob("*.yaml"))}))
