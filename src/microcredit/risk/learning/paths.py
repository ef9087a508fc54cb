"""One applicant's walk through a forest, in machine code: the margin and each feature's share of it.

A decision needs, besides the PD, the reasons: the features that raised the margin most along the
path the applicant took through each tree (Saabas' attribution, from LightGBM's own node values).
NumPy can walk every tree at once (`GradientBoosting.walk`), but each step over 300 trees costs a
handful of array calls, and a few dozen of them make ~50 µs per applicant.

Here the walk is one small native function, the same for every model, emitted as LLVM IR with
llvmlite (here already for lleaves) and compiled once per process in milliseconds. It reads the
model's flat node tables (NumPy arrays, handed over by address): for each tree, from its root,
while the node is not a leaf, go right when `x[feature] > threshold` (a missing value goes the
node's NaN direction), adding the change of the node value to the split feature's slot; at the
leaf, add its value to the margin slot. Nothing is allocated but the accumulator: one applicant
costs a few microseconds plus the call.

The tables are LightGBM's own (a leaf's children are itself); `nan_right` holds each node's
default direction for NaN splits, or 0.0's side where the tree treats missing as zero ("None").

`GradientBoosting.walk` stays the reference; the tests compare the two, node for node, on rows
with and without missing values.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

Walk = Callable[[np.ndarray], tuple[float, np.ndarray]]

# The tables' order in the model block the native function reads (one int64 each: an address or a count).
_TABLES = ("feat", "thr", "nan_right", "value", "left", "right", "roots")

_LOCK = threading.Lock()
_NATIVE: list[Any] = []  # [the ctypes function, its execution engine] once compiled


def _native() -> Any:
    """The walk function, compiled on first use (one per process: it does not depend on the model)."""
    with _LOCK:
        if not _NATIVE:
            _NATIVE.extend(_compile())
        return _NATIVE[0]


def _compile() -> tuple[Any, Any]:
    import llvmlite.binding as llvm
    from llvmlite import ir

    llvm.initialize()
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    f64, i64, i8 = ir.DoubleType(), ir.IntType(64), ir.IntType(8)
    module = ir.Module(name="forest_walk")
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [f64.as_pointer(), f64.as_pointer(), i64.as_pointer()]),
                     name="walk")
    x, acc, block = fn.args
    entry, tree_head, tree_body, step, move, leaf, done = (
        fn.append_basic_block(n) for n in ("entry", "tree_head", "tree_body", "step", "move", "leaf", "done"))

    b = ir.IRBuilder(entry)

    def word(i: int) -> ir.Value:
        return b.load(b.gep(block, [ir.Constant(i64, i)]))

    feat, left, right, roots = (b.inttoptr(word(_TABLES.index(n)), i64.as_pointer())
                                for n in ("feat", "left", "right", "roots"))
    thr, value = (b.inttoptr(word(_TABLES.index(n)), f64.as_pointer()) for n in ("thr", "value"))
    nan_right = b.inttoptr(word(_TABLES.index("nan_right")), i8.as_pointer())
    n_trees, n_features = word(len(_TABLES)), word(len(_TABLES) + 1)
    b.branch(tree_head)

    b = ir.IRBuilder(tree_head)
    t = b.phi(i64, "t")
    t.add_incoming(ir.Constant(i64, 0), entry)
    b.cbranch(b.icmp_signed("<", t, n_trees), tree_body, done)

    b = ir.IRBuilder(tree_body)
    root = b.load(b.gep(roots, [t]))
    b.branch(step)

    b = ir.IRBuilder(step)
    s = b.phi(i64, "s")
    s.add_incoming(root, tree_body)
    go_left = b.load(b.gep(left, [s]))
    b.cbranch(b.icmp_signed("==", go_left, s), leaf, move)

    b = ir.IRBuilder(move)
    f = b.load(b.gep(feat, [s]))
    v = b.load(b.gep(x, [f]))
    above = b.fcmp_ordered(">", v, b.load(b.gep(thr, [s])))  # false for NaN
    missing = b.fcmp_unordered("uno", v, v)
    nan_goes_right = b.icmp_signed("!=", b.load(b.gep(nan_right, [s])), ir.Constant(i8, 0))
    goes_right = b.select(missing, nan_goes_right, above)
    nxt = b.select(goes_right, b.load(b.gep(right, [s])), go_left)
    delta = b.fsub(b.load(b.gep(value, [nxt])), b.load(b.gep(value, [s])))
    slot = b.gep(acc, [f])
    b.store(b.fadd(b.load(slot), delta), slot)
    s.add_incoming(nxt, move)
    b.branch(step)

    b = ir.IRBuilder(leaf)
    margin = b.gep(acc, [n_features])
    b.store(b.fadd(b.load(margin), b.load(b.gep(value, [s]))), margin)
    t.add_incoming(b.add(t, ir.Constant(i64, 1)), leaf)
    b.branch(tree_head)

    ir.IRBuilder(done).ret_void()

    parsed = llvm.parse_assembly(str(module))
    parsed.verify()
    engine = llvm.create_mcjit_compiler(parsed, llvm.Target.from_default_triple().create_target_machine(opt=2))
    engine.finalize_object()
    native = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)(
        engine.get_function_address("walk"))
    return native, engine


def compile_walk(*, feat: np.ndarray, thr: np.ndarray, nan_right: np.ndarray, value: np.ndarray,
                 left: np.ndarray, right: np.ndarray, roots: np.ndarray, n_features: int) -> Walk:
    """The forest (flat node arrays; a leaf's children are itself) walked natively.

    The returned function takes one row (float64, `n_features` long, NaN for missing) and returns
    the margin and the per-feature contributions (summing to the margin less the roots' values)."""
    tables: dict[str, np.ndarray] = {
        "feat": np.ascontiguousarray(feat, dtype=np.int64), "thr": np.ascontiguousarray(thr, dtype=np.float64),
        "nan_right": np.ascontiguousarray(nan_right, dtype=np.int8),
        "value": np.ascontiguousarray(value, dtype=np.float64), "left": np.ascontiguousarray(left, dtype=np.int64),
        "right": np.ascontiguousarray(right, dtype=np.int64), "roots": np.ascontiguousarray(roots, dtype=np.int64)}
    n = len(tables["feat"])
    if any(len(tables[k]) != n for k in ("thr", "nan_right", "value", "left", "right")):
        raise ValueError("the node tables differ in length")
    for k in ("left", "right", "roots"):  # the native walk trusts every index: check them once here
        if len(tables[k]) and (tables[k].min() < 0 or tables[k].max() >= n):
            raise ValueError(f"{k} points outside the node tables")
    inner = tables["left"] != np.arange(n)
    if (tables["left"][inner] <= np.arange(n)[inner]).any() or (tables["right"][inner] <= np.arange(n)[inner]).any():
        raise ValueError("a child comes before its parent (the walk would not end)")
    if inner.any() and (tables["feat"][inner].min() < 0 or tables["feat"][inner].max() >= n_features):
        raise ValueError("a split reads a feature the row does not have")
    model = np.array([tables[k].ctypes.data for k in _TABLES] + [len(tables["roots"]), n_features], dtype=np.int64)
    native, address = _native(), model.ctypes.data

    def walk(row: np.ndarray) -> tuple[float, np.ndarray]:
        x = np.ascontiguousarray(row, dtype=np.float64)
        if x.shape != (n_features,):
            raise ValueError(f"a row has {n_features} values")
        out = np.zeros(n_features + 1)
        native(x.ctypes.data, out.ctypes.data, address)
        return float(out[n_features]), out[:n_features]

    walk.tables = (tables, model)  # type: ignore[attr-defined]  # the native code reads them: keep them alive
    return walk
