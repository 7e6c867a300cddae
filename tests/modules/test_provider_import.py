"""modules/_provider_import.py and _lazy_provider_index.js: the provider binding loads only what is used,
on the Python side and in the jsii kernel, and no Node.js setting leaks out of the loader."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from modules import _provider_import

NODE = os.environ.get("JSII_NODE", "node")  # the Node.js the jsii kernel runs on
INDEX_MEMBER = "package/lib/index.js"
#: Prints the exported names of the index and which provider files Node.js has compiled.
REQUIRE_INDEX = """
const index = require(process.argv[1]);
const compiled = Object.keys(require.cache).filter((file) => file.includes("provider-aws"));
console.log(JSON.stringify({names: Object.keys(index), compiled}));
"""


@pytest.fixture(scope="module")
def provider_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The provider's Node.js lib/index.js alone, where the kernel would put it: none of the ~2,100
    modules it requires is beside it, so requiring any of them fails loudly."""
    package_dir = Path(sys.modules["cdktf_cdktf_provider_aws"].__path__[0])
    [tarball] = (package_dir / "_jsii").glob("provider-aws@*.jsii.tgz")
    root = tmp_path_factory.mktemp("kernel") / "node_modules" / "@cdktf" / "provider-aws"
    with tarfile.open(tarball) as archive:
        source = archive.extractfile(INDEX_MEMBER).read()
    index = root / "lib" / "index.js"
    index.parent.mkdir(parents=True)
    index.write_bytes(source)
    return index


def run_node(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    return subprocess.run([NODE, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture(scope="module")
def preloaded_index(provider_index: Path) -> dict:
    """What REQUIRE_INDEX prints when Node.js runs with the preload."""
    result = run_node("--require", str(_provider_import.NODE_PRELOAD), "-e", REQUIRE_INDEX, str(provider_index))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_provider_package_is_loaded_lightly():
    """The Python stand-in is in place, and only used submodules load."""
    package = sys.modules["cdktf_cdktf_provider_aws"]
    assert "light loader" in (package.__doc__ or "")
    loaded = [m for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")]
    # Two modules per resource type used (the module and its _private): about a hundred types today.
    # The real __init__ would load ~2,200.
    assert 1 < len(loaded) < 400, len(loaded)


def test_attribute_access_on_the_light_package_loads_one_submodule():
    import cdktf_cdktf_provider_aws as aws

    assert aws.vpc.Vpc.__name__ == "Vpc"
    with pytest.raises(AttributeError):
        aws.no_such_resource  # noqa: B018


def test_the_index_requires_every_resource_module_without_the_preload(provider_index):
    """What the preload is for (and proof the next tests can tell): plain Node.js requires them all at once."""
    result = run_node("-e", REQUIRE_INDEX, str(provider_index))
    assert result.returncode != 0
    assert "Cannot find module './" in result.stderr


def test_with_the_preload_the_index_compiles_no_resource_module(provider_index, preloaded_index):
    assert preloaded_index["compiled"] == [str(provider_index)]


def test_with_the_preload_the_index_exports_the_same_names_in_the_same_order(provider_index, preloaded_index):
    # The eager index creates its names in its `exports.a = exports.b = ... = void 0;` lines; a chained
    # assignment sets the rightmost first, so each line creates its names last to first.
    declared = [
        name
        for line in re.findall(r"^exports\.\w+ = .* = void 0;$", provider_index.read_text(), re.M)
        for name in reversed(re.findall(r"exports\.(\w+) = ", line))
    ]
    names = preloaded_index["names"]
    assert len(names) > 2000 and names == declared


def test_with_the_preload_a_resource_module_is_required_on_first_use(provider_index):
    script = "const index = require(process.argv[1]); index.vpc;"
    result = run_node("--require", str(_provider_import.NODE_PRELOAD), "-e", script, str(provider_index))
    assert result.returncode != 0 and "Cannot find module './vpc'" in result.stderr


def test_the_jsii_kernel_of_this_session_was_started_with_the_preload():
    """The loader started the kernel (the conftest imports the tiers first): its Node.js has the preload."""
    assert sys.platform == "linux", "reads /proc; CI and the dev machines are Linux"
    children = [Path(stat).parent for stat in Path("/proc").glob("[0-9]*/stat") if _parent_pid(stat) == os.getpid()]
    kernels = [proc for proc in children if b"jsii-runtime" in _read(proc / "cmdline")]
    assert kernels, "no jsii kernel among this process's children"
    environment = _read(kernels[0] / "environ").split(b"\0")
    assert f'NODE_OPTIONS=--require "{_provider_import.NODE_PRELOAD}"'.encode() in environment


def test_the_preload_does_not_leak_into_later_processes():
    assert str(_provider_import.NODE_PRELOAD) not in os.environ.get("NODE_OPTIONS", "")


def test_node_preload_keeps_existing_node_options(monkeypatch, tmp_path):
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=4096")
    with _provider_import.node_preload(tmp_path / "hook.js"):
        assert os.environ["NODE_OPTIONS"] == f'--max-old-space-size=4096 --require "{tmp_path / "hook.js"}"'
    assert os.environ["NODE_OPTIONS"] == "--max-old-space-size=4096"


def _parent_pid(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None  # the process ended while we looked


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
