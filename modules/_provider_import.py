"""Load the AWS provider binding without its 30-second package ``__init__``.

``import cdktf_cdktf_provider_aws`` runs the package ``__init__``, which imports all ~2,200
resource submodules (upstream hashicorp/terraform-cdk#3753). Each submodule only needs the
jsii assembly (``cdktf_cdktf_provider_aws._jsii``), so we register a light stand-in for the
package that has the real ``__path__`` and loads the assembly. After that, ordinary imports
such as ``from cdktf_cdktf_provider_aws.vpc import Vpc`` load just the submodule they name.

This is the only place in the project that knows about the trick. It runs from
``modules/__init__.py``, so anything that imports a tier gets it first. If the real package
was already imported (a caller did ``import cdktf_cdktf_provider_aws`` first), nothing changes.
Delete this file once upstream makes the package ``__init__`` lazy.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

PACKAGE = "cdktf_cdktf_provider_aws"


def install() -> None:
    """Register the light package stand-in and load the jsii assembly (idempotent)."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without running __init__
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"{PACKAGE} is not installed: run `make install`")
    package = types.ModuleType(PACKAGE, "AWS provider binding (light loader, see modules/_provider_import.py)")
    package.__path__ = list(spec.submodule_search_locations)
    package.__file__ = spec.origin
    package.__package__ = PACKAGE
    package.__spec__ = spec

    def _lazy_submodule(name: str) -> types.ModuleType:
        # `import cdktf_cdktf_provider_aws as aws; aws.vpc.Vpc` still works, one submodule at a time.
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return importlib.import_module(f"{PACKAGE}.{name}")
        except ModuleNotFoundError as error:
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}") from error

    package.__getattr__ = _lazy_submodule  # type: ignore[attr-defined]
    sys.modules[PACKAGE] = package
    try:
        importlib.import_module(f"{PACKAGE}._jsii")
    except BaseException:
        del sys.modules[PACKAGE]
        raise
