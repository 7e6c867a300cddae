"""Load the AWS provider binding without its 30-second package ``__init__``.

``import cdktf_cdktf_provider_aws`` runs the package ``__init__``, which imports all ~2,200
resource submodules (upstream hashicorp/terraform-cdk#3753). Each submodule only needs the
jsii assembly (``cdktf_cdktf_provider_aws._jsii``), so we register a light stand-in for the
package that has the real ``__path__`` and loads the assembly. After that, ordinary imports
such as ``from cdktf_cdktf_provider_aws.vpc import Vpc`` load just the submodule they name.

The jsii kernel (Node.js) has the same problem on its side: loading the assembly requires the
package's ``lib/index.js``, which requires every resource module (about 2 s and 400 MB here).
When this loader is the one that starts the kernel, it starts it with
``_lazy_provider_index.js`` preloaded (``node --require``), which makes that index lazy too.
``NODE_OPTIONS`` is set only while the kernel starts, so no other Node.js process inherits it.
If the kernel was already running (a caller imported ``cdktf`` or ``constructs`` first), the
Node.js side loads eagerly: slower, never different.

This is the only place in the project that knows about the trick. It runs from
``modules/__init__.py``, so anything that imports a tier gets it first. If the real package
was already imported (a caller did ``import cdktf_cdktf_provider_aws`` first), nothing changes.
Delete both files once upstream makes the package ``__init__`` and ``lib/index.js`` lazy.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_aws"
#: Preloaded into the jsii kernel: makes the provider's Node.js index lazy (see that file).
NODE_PRELOAD = Path(__file__).with_name("_lazy_provider_index.js")


def jsii_kernel_started() -> bool:
    """Whether a jsii kernel runs already: every jsii library loads its assembly (and so starts the
    kernel) when its ``_jsii`` package is imported."""
    return any(name.endswith("._jsii") for name in sys.modules)


@contextlib.contextmanager
def node_preload(script: Path) -> Iterator[None]:
    """``NODE_OPTIONS`` with ``--require <script>`` for Node.js processes started inside the block."""
    before = os.environ.get("NODE_OPTIONS")
    os.environ["NODE_OPTIONS"] = " ".join(filter(None, [before, f'--require "{script}"']))
    try:
        yield
    finally:
        if before is None:
            del os.environ["NODE_OPTIONS"]
        else:
            os.environ["NODE_OPTIONS"] = before


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

    package.__getattr__ = _lazy_submodule  # type: ignore[method-assign]
    sys.modules[PACKAGE] = package
    preload = contextlib.nullcontext() if jsii_kernel_started() else node_preload(NODE_PRELOAD)
    try:
        with preload:  # the assembly import starts the kernel when none runs yet
            importlib.import_module(f"{PACKAGE}._jsii")
    except BaseException:
        del sys.modules[PACKAGE]
        raise
