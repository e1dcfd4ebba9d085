"""Validates Argo Workflows manifests offline against hera's models of the Argo API (generated from
Argo's own OpenAPI schema): types through pydantic, and unknown keys, which the models would
silently drop, by comparing each document with what the model kept. Used by scripts/lint."""

import sys

import yaml
from hera.workflows.models import ClusterWorkflowTemplate, CronWorkflow, Workflow, WorkflowTemplate

KINDS = {m.__name__: m for m in (Workflow, WorkflowTemplate, ClusterWorkflowTemplate, CronWorkflow)}


def unknown_keys(given, kept, path):
    """Paths of keys in `given` that the validated model did not keep."""
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                yield f"{path}.{key}"
            else:
                yield from unknown_keys(value, kept[key], f"{path}.{key}")
    elif isinstance(given, list) and isinstance(kept, list):
        for i, (a, b) in enumerate(zip(given, kept)):
            yield from unknown_keys(a, b, f"{path}[{i}]")


failed = False
for name in sys.argv[1:]:
    with open(name, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            model = KINDS.get(doc.get("kind"))
            if model is None:
                print(f"{name}: kind {doc.get('kind')!r} is not an Argo workflow kind")
                failed = True
                continue
            try:
                kept = model.model_validate(doc).model_dump(by_alias=True, exclude_unset=True)
            except Exception as e:  # pydantic's ValidationError, with every problem listed
                print(f"{name}: {e}")
                failed = True
                continue
            extra = list(unknown_keys(doc, kept, "$"))
            for path in extra:
                print(f"{name}: unknown key {path}")
            failed |= bool(extra)
            if not extra:
                print(f"{name}: ok ({doc['kind']})")
sys.exit(1 if failed else 0)
