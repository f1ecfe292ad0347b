"""The stub file matches the built module: same public names, same methods and properties."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import kova
import kova._kova as native

STUB = Path(kova.__file__).with_name("__init__.pyi")


def stub_tree() -> ast.Module:
    return ast.parse(STUB.read_text())


def stub_top_level() -> dict:
    names = {}
    for node in stub_tree().body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
    return {n: v for n, v in names.items() if not n.startswith("_") or n == "__version__"}


def public_module_names() -> set:
    return {n for n in dir(native) if not n.startswith("_") or n == "__version__"}


def test_every_public_name_is_in_the_stub_and_vice_versa():
    assert set(stub_top_level()) == public_module_names()
    assert set(kova.__all__) == public_module_names()
    for name in kova.__all__:
        assert getattr(kova, name) is getattr(native, name)


def stub_members(cls: ast.ClassDef) -> set:
    return {
        n.name
        for n in cls.body
        if isinstance(n, ast.FunctionDef) and (not n.name.startswith("_") or n.name in RUNTIME_DUNDERS)
    }


RUNTIME_DUNDERS = {"__len__", "__getitem__", "__iter__"}


def runtime_members(cls: type) -> set:
    own = set()
    for name, _ in inspect.getmembers(cls):
        if name.startswith("_") and name not in RUNTIME_DUNDERS:
            continue
        own.add(name)
    return own


def test_classes_have_the_same_methods_and_properties_as_their_stubs():
    for name, node in stub_top_level().items():
        if not isinstance(node, ast.ClassDef):
            continue
        cls = getattr(native, name)
        if issubclass(cls, BaseException):
            # Exceptions carry their attributes on instances; the stub declares them.
            continue
        assert stub_members(node) == runtime_members(cls), name


def test_exception_attributes_in_stubs_are_set_on_raised_instances():
    annotated = {
        node.name: {a.target.id for a in node.body if isinstance(a, ast.AnnAssign)}
        for node in stub_tree().body
        if isinstance(node, ast.ClassDef) and issubclass(getattr(native, node.name), BaseException)
    }
    # Inherited annotations accumulate down the hierarchy, as the runtime sets them.
    assert annotated["KovaError"] == {"retryable"}
    assert annotated["InvalidInputError"] == {"field"}
    assert annotated["SignatureError"] == {"reason"}
    assert annotated["UpstreamError"] == {"service", "status", "retry_after"}
    assert annotated["RateLimitedError"] == set()
    assert annotated["StoreError"] == {"backend"}
    k = kova.Kova(env=False)
    try:
        k.events(status="nope")
    except kova.InvalidInputError as e:
        assert e.field == "status" and e.retryable is False


def test_every_kova_method_has_an_async_twin_and_vice_versa():
    names = {n for n in dir(kova.Kova) if not n.startswith("_")}
    plain = {n for n in names if not n.endswith("_async")}
    not_operations = {"stop_workers", "store_backend", "llm_configured", "github_configured"}
    for n in plain - not_operations:
        assert f"{n}_async" in names, n
    for n in names - plain:
        assert n[: -len("_async")] in plain, n


def test_stub_has_docstrings_for_the_engine():
    kova_stub = stub_top_level()["Kova"]
    assert ast.get_docstring(kova_stub) and "DATABASE_URL" in ast.get_docstring(kova_stub)


def test_mypy_stubtest_finds_no_inconsistency():
    """mypy's stubtest compares every signature in the stub with the built module."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "kova"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
