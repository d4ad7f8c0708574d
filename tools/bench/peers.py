#!/usr/bin/env python3
"""This crate beside its peers, in one invocation, on one core.

Runs `cargo bench --bench bptt` (this crate and the nalgebra DMatrix peer), then times the same
work in JAX (jit) and PyTorch (nn.RNN + nn.Linear + autograd), and prints every median with its
spread and the ratios peer / static-rnn.

The work, for (I, H, O, T) in SIZES, f32 and f64, tanh / softmax / cross-entropy summed over a
target at every step, from the same weights and data as benches/support/mod.rs:

- forward + backward of one sequence: the loss, every parameter gradient and dL/dh0;
- a streaming step: (h, x) -> (h', softmax(W_y h' + b_y)), nothing recorded;
- forward + backward of a minibatch of B = 1 and B = 32 sequences (the summed loss, every
  parameter gradient and dL/dH0): this crate's batch_forward_into + batch_backward (matrix-matrix
  products), the DMatrix peer looping over the sequences, JAX on (T, B, ·) arrays, PyTorch nn.RNN
  on a (T, B, I) tensor.

Time is CPU time, as in the Rust benches (benches/support: thread CPU time): here the process's
(`time.process_time_ns`), with the process and every thread it starts pinned to one core
(`taskset -c CORE`, XLA's and PyTorch's thread pools reduced to one thread), so that time the
process spends waiting for a busy machine is not counted. Wall time is printed beside it.

    python3 -m venv /tmp/perfvenv   # Python >= 3.12 (jax 0.12 does not install on 3.11)
    /tmp/perfvenv/bin/pip install -r tools/bench/requirements.txt
    /tmp/perfvenv/bin/python tools/bench/peers.py            # everything (~10 min)
    /tmp/perfvenv/bin/python tools/bench/peers.py --sizes 16x32x8x64 --precisions f32
    /tmp/perfvenv/bin/python tools/bench/peers.py --no-cargo # reuse target/criterion results
    /tmp/perfvenv/bin/python tools/bench/peers.py --features fma  # fused multiply-adds
    /tmp/perfvenv/bin/python tools/bench/peers.py --rounds 5 ...  # each side 5 times, in turn

On a shared machine the load moves every median, and a peer measured minutes after this crate
may meet another load than it did. `--rounds N` measures everything N times, each side in turn,
and reports the median of the rounds' medians with their range, and after each peer the median
of the N ratios taken within a round (so each ratio compares two measurements minutes apart).

A peer that is not installed (`import torch` fails) is reported as not measured.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIZES = [(4, 8, 2, 16), (16, 32, 8, 64), (64, 128, 32, 128)]
BATCH = 32  # the minibatch size of the "minibatch_forward_backward" benches (and B = 1)


# --- the model and data of benches/support/mod.rs -------------------------------------------

def weight(i, j, scale):
    return scale * ((i * 31 + j * 17) % 13) / 13.0 - scale / 2.0


def parameters(I, H, O):
    """W_x, W_h, b_h, W_y, b_y as nested lists, as support::model builds them."""
    w_x = [[weight(i, j, 1.0 / I ** 0.5) for j in range(I)] for i in range(H)]
    w_h = [[weight(i + 7, j, 2.0 / H ** 0.5) for j in range(H)] for i in range(H)]
    b_h = [weight(i, 3, 0.2) for i in range(H)]
    w_y = [[weight(i + 5, j, 2.0 / H ** 0.5) for j in range(H)] for i in range(O)]
    b_y = [weight(i, 1, 0.2) for i in range(O)]
    return w_x, w_h, b_h, w_y, b_y


def data(I, O, T):
    xs = [[((t + i) % 3) - 1.0 for i in range(I)] for t in range(T)]
    classes = [(3 * t) % O for t in range(T)]
    ys = [[1.0 if k == c else 0.0 for k in range(O)] for c in classes]
    return xs, ys, classes


def batch_data(I, O, T, B):
    """benches/support/mod.rs's batch_inputs/batch_targets: sequence b is `data` shifted by b,
    x[t][b][i] = ((t + i + b) mod 3) - 1, class (3t + b) mod O; shapes (T, B, I), (T, B, O)."""
    xs = [[[((t + i + b) % 3) - 1.0 for i in range(I)] for b in range(B)] for t in range(T)]
    classes = [[(3 * t + b) % O for b in range(B)] for t in range(T)]
    ys = [[[1.0 if k == c else 0.0 for k in range(O)] for c in row] for row in classes]
    return xs, ys, classes


# --- timing ---------------------------------------------------------------------------------

def measure(fn, repeats=31, min_seconds=0.05):
    """Median and interquartile range (ns per call) of CPU and wall time over `repeats` runs of
    n calls each, n chosen so that a run lasts at least `min_seconds`."""
    for _ in range(20):
        fn()
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - start >= min_seconds:
            break
        n *= 2
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time_ns(), time.perf_counter_ns()
        for _ in range(n):
            fn()
        cpu.append((time.process_time_ns() - c0) / n)
        wall.append((time.perf_counter_ns() - w0) / n)

    def summary(samples):
        q = statistics.quantiles(samples, n=4)
        return {"median": statistics.median(samples), "q1": q[0], "q3": q[2]}

    return {"cpu": summary(cpu), "wall": summary(wall), "calls": n}


# --- JAX --------------------------------------------------------------------------------------

def jax_benchmarks(sizes, precisions):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as error:
        return {}, f"not measured: {error}"
    jax.config.update("jax_enable_x64", True)

    def loss(params, h0, xs, ys):
        w_x, w_h, b_h, w_y, b_y = params

        def cell(h, x):
            h = jnp.tanh(w_h @ h + w_x @ x + b_h)
            return h, w_y @ h + b_y

        _, logits = jax.lax.scan(cell, h0, xs)
        return -jnp.sum(ys * jax.nn.log_softmax(logits))

    forward_backward = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))

    def batch_loss(params, h0, xs, ys):
        """The same model on a batch: h0 (B, H), xs (T, B, I), ys (T, B, O); rows are sequences."""
        w_x, w_h, b_h, w_y, b_y = params

        def cell(h, x):
            h = jnp.tanh(h @ w_h.T + x @ w_x.T + b_h)
            return h, h @ w_y.T + b_y

        _, logits = jax.lax.scan(cell, h0, xs)
        return -jnp.sum(ys * jax.nn.log_softmax(logits))

    batch_forward_backward = jax.jit(jax.value_and_grad(batch_loss, argnums=(0, 1)))

    @jax.jit
    def step(params, h, x):
        w_x, w_h, b_h, w_y, b_y = params
        h = jnp.tanh(w_h @ h + w_x @ x + b_h)
        return h, jax.nn.softmax(w_y @ h + b_y)

    results = {}
    for (I, H, O, T) in sizes:
        for precision in precisions:
            dtype = {"f32": jnp.float32, "f64": jnp.float64}[precision]
            params = tuple(jnp.asarray(p, dtype) for p in parameters(I, H, O))
            xs, ys, _ = data(I, O, T)
            xs, ys = jnp.asarray(xs, dtype), jnp.asarray(ys, dtype)
            h0 = jnp.zeros(H, dtype)
            x0 = xs[0]
            results[("forward_backward", I, H, O, T, precision)] = measure(
                lambda: jax.block_until_ready(forward_backward(params, h0, xs, ys)))
            results[("step", I, H, O, T, precision)] = measure(
                lambda: jax.block_until_ready(step(params, h0, x0)))
            for B in (1, BATCH):
                bxs, bys, _ = batch_data(I, O, T, B)
                bxs, bys = jnp.asarray(bxs, dtype), jnp.asarray(bys, dtype)
                bh0 = jnp.zeros((B, H), dtype)
                results[("minibatch_forward_backward", I, H, O, T, precision, B)] = measure(
                    lambda: jax.block_until_ready(batch_forward_backward(params, bh0, bxs, bys)))
    return results, f"jax {jax.__version__}"


# --- PyTorch ------------------------------------------------------------------------------------

def torch_benchmarks(sizes, precisions):
    try:
        import torch
    except ImportError as error:
        return {}, f"not measured: {error}"
    torch.set_num_threads(1)
    if torch.get_num_interop_threads() != 1:  # settable once per process (--rounds)
        torch.set_num_interop_threads(1)
    results = {}
    for (I, H, O, T) in sizes:
        for precision in precisions:
            dtype = {"f32": torch.float32, "f64": torch.float64}[precision]
            w_x, w_h, b_h, w_y, b_y = parameters(I, H, O)
            rnn = torch.nn.RNN(I, H, nonlinearity="tanh").to(dtype)
            linear = torch.nn.Linear(H, O).to(dtype)
            with torch.no_grad():
                rnn.weight_ih_l0.copy_(torch.tensor(w_x, dtype=dtype))
                rnn.weight_hh_l0.copy_(torch.tensor(w_h, dtype=dtype))
                rnn.bias_ih_l0.copy_(torch.tensor(b_h, dtype=dtype))
                rnn.bias_hh_l0.zero_()
                linear.weight.copy_(torch.tensor(w_y, dtype=dtype))
                linear.bias.copy_(torch.tensor(b_y, dtype=dtype))
            xs, _, classes = data(I, O, T)
            xs = torch.tensor(xs, dtype=dtype).reshape(T, 1, I)
            classes = torch.tensor(classes)
            parameters_ = list(rnn.parameters()) + list(linear.parameters())

            def forward_backward():
                for p in parameters_:
                    p.grad = None
                h0 = torch.zeros(1, 1, H, dtype=dtype, requires_grad=True)
                states, _ = rnn(xs, h0)
                logits = linear(states[:, 0, :])
                loss = torch.nn.functional.cross_entropy(logits, classes, reduction="sum")
                loss.backward()
                return loss, h0.grad

            h = torch.zeros(1, 1, H, dtype=dtype)
            x = xs[:1]

            def step():
                with torch.inference_mode():
                    _, h_next = rnn(x, h)
                    return h_next, torch.softmax(linear(h_next[0, 0]), dim=0)

            results[("forward_backward", I, H, O, T, precision)] = measure(forward_backward)
            results[("step", I, H, O, T, precision)] = measure(step)
            for B in (1, BATCH):
                bxs, _, bclasses = batch_data(I, O, T, B)
                bxs = torch.tensor(bxs, dtype=dtype)  # (T, B, I)
                bclasses = torch.tensor(bclasses).reshape(T * B)

                def batch_forward_backward(bxs=bxs, bclasses=bclasses, B=B):
                    for p in parameters_:
                        p.grad = None
                    h0 = torch.zeros(1, B, H, dtype=dtype, requires_grad=True)
                    states, _ = rnn(bxs, h0)
                    logits = linear(states.reshape(T * B, H))
                    loss = torch.nn.functional.cross_entropy(logits, bclasses, reduction="sum")
                    loss.backward()
                    return loss, h0.grad

                results[("minibatch_forward_backward", I, H, O, T, precision, B)] = measure(
                    batch_forward_backward)
    return results, f"torch {torch.__version__} (torch.set_num_threads(1))"


# --- this crate's results -------------------------------------------------------------------

def criterion_dir():
    if "CRITERION_HOME" in os.environ:
        return Path(os.environ["CRITERION_HOME"])
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "criterion"


def criterion_median(ident, since):
    path = criterion_dir() / ident / "new" / "estimates.json"
    if not path.exists() or path.stat().st_mtime < since:
        return None
    m = json.loads(path.read_text())["median"]
    ci = m["confidence_interval"]
    return {"median": m["point_estimate"], "q1": ci["lower_bound"], "q3": ci["upper_bound"]}


def rust_ids(kind, I, H, O, T, precision, B=None):
    shape = f"{I}x{H}x{O}" + (f"x{T}" if kind != "step" else "") + (f"xB{B}" if B else "")
    ids = {"static-rnn": f"{kind}/static-{precision}/{shape}"}
    if precision == "f32":
        ids["static-rnn FastTanh"] = f"{kind}/static-fasttanh-f32/{shape}"
        ids["static-rnn +FastSoftmax"] = f"{kind}/static-fast-f32/{shape}"
    ids["DMatrix"] = f"{kind}/dmatrix-{precision}/{shape}"
    return ids


# --- report -------------------------------------------------------------------------------------

def fmt(ns):
    for unit, scale in (("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


CASES = [("forward_backward", None), ("step", None),
         ("minibatch_forward_backward", 1), ("minibatch_forward_backward", BATCH)]


def keys(sizes, precisions):
    """Every (kind, I, H, O, T, precision[, B]) measured, in the order of the report."""
    for kind, B in CASES:
        for (I, H, O, T) in sizes:
            for precision in precisions:
                yield (kind, I, H, O, T, precision) + ((B,) if B else ())


def one_round(args, sizes, first):
    """Every row of every case, measured once: {key: {name: {median, q1, q3[, wall]} or None}},
    and the peers' versions."""
    since = time.time()
    if not args.no_cargo:
        precisions = "|".join(args.precisions)
        shapes = "|".join(f"{I}x{H}x{O}(x{T}(xB[0-9]+)?)?" for (I, H, O, T) in sizes)
        pattern = f"({precisions})/({shapes})$"
        features = ["--features", args.features] if args.features else []
        command = ["cargo", "bench", *features, "--bench", "bptt", "--", pattern]
        if first:
            print("$", " ".join(command), flush=True)
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    else:
        since = 0.0
    jax_results, jax_version = jax_benchmarks(sizes, args.precisions)
    torch_results, torch_version = torch_benchmarks(sizes, args.precisions)
    measured = {}
    for key in keys(sizes, args.precisions):
        kind, I, H, O, T, precision = key[:6]
        B = key[6] if len(key) > 6 else None
        rows = {name: criterion_median(ident, since)
                for name, ident in rust_ids(kind, I, H, O, T, precision, B).items()}
        for fast in ("static-rnn FastTanh", "static-rnn +FastSoftmax"):
            if rows.get(fast) is None:
                rows.pop(fast, None)  # benched at some sizes only
        for name, results in (("JAX (jit)", jax_results), ("PyTorch", torch_results)):
            r = results.get(key)
            rows[name] = r and {**r["cpu"], "wall": r["wall"]["median"]}
        measured[key] = rows
    return measured, jax_version, torch_version


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="*", help="IxHxOxT, e.g. 16x32x8x64")
    parser.add_argument("--precisions", nargs="*", default=["f32", "f64"])
    parser.add_argument("--core", type=int, default=1, help="the core to pin to (default 1)")
    parser.add_argument("--features", default="",
                        help="cargo features for this crate's build, e.g. fma")
    parser.add_argument("--no-cargo", action="store_true",
                        help="use the criterion results already in target/criterion")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure everything this many times, each side in turn, and report "
                             "the median of the rounds' medians and of each round's ratio")
    args = parser.parse_args()
    if args.no_cargo and args.rounds > 1:
        parser.error("--rounds measures both sides in every round; with --no-cargo every round "
                     "would read the same criterion results, so this crate's side would not vary")
    sizes = SIZES if not args.sizes else [tuple(int(d) for d in s.split("x")) for s in args.sizes]
    os.sched_setaffinity(0, {args.core})

    rounds = []
    for r in range(args.rounds):
        if args.rounds > 1:
            print(f"round {r + 1} of {args.rounds}", flush=True)
        measured, jax_version, torch_version = one_round(args, sizes, first=r == 0)
        rounds.append(measured)

    print(f"\nJAX: {jax_version}\nPyTorch: {torch_version}")
    print(f"static-rnn: default features{' + ' + args.features if args.features else ''}"
          + (" (reused results)" if args.no_cargo else ""))
    print(f"CPU: {cpu_model()}, pinned to core {args.core}; medians of CPU time, ", end="")
    if len(rounds) == 1:
        print("[interquartile range] for JAX/PyTorch, [95 % CI of the median] for criterion;\n"
              "after a peer: its median / static-rnn's", end="")
    else:
        print(f"{len(rounds)} rounds (every row measured once per round, in turn):\n"
              "the median of the rounds' medians [their least – greatest];\n"
              "after a peer: the median of the rounds' ratios peer / static-rnn (their least – "
              "greatest)", end="")
    print(" (Tanh, and in f32 FastTanh, and FastTanh with FastSoftmax)\n")

    for key in keys(sizes, args.precisions):
        kind, I, H, O, T, precision = key[:6]
        B = key[6] if len(key) > 6 else None
        title = f"{kind.replace('_', ' + ')}  I={I} H={H} O={O}" + (
            f" T={T}" if kind != "step" else "") + (f" B={B}" if B else "") + f"  {precision}"
        if B:
            title += f"   (per batch; per sequence: divide by {B})"
        print(title)
        for name in rounds[0][key]:
            per_round = [m[key].get(name) for m in rounds]
            if any(r is None for r in per_round):
                print(f"  {name:<20} not measured")
                continue
            medians = [r["median"] for r in per_round]
            if len(rounds) == 1:
                r = per_round[0]
                low, high = r["q1"], r["q3"]
            else:
                low, high = min(medians), max(medians)
            median = statistics.median(medians)
            line = f"  {name:<20} {fmt(median):>10}  [{fmt(low)} – {fmt(high)}]"
            if B and B > 1:
                line += f"  = {fmt(median / B)}/seq"
            if not name.startswith("static-rnn"):
                ratios = []
                for ours in rounds[0][key]:
                    if not ours.startswith("static-rnn"):
                        continue
                    theirs = [m[key][ours] for m in rounds]
                    if any(r is None for r in theirs):
                        continue
                    each = [p / o["median"] for p, o in zip(medians, theirs)]
                    label = ours.removeprefix("static-rnn").strip() or "Tanh"
                    text = f"{statistics.median(each):5.2f}× {label}"
                    if len(rounds) > 1:
                        text += f" ({min(each):.2f}–{max(each):.2f})"
                    ratios.append(text)
                line += "   " + "  ".join(ratios)
                if "wall" in per_round[0]:
                    line += f"   (wall {fmt(statistics.median(r['wall'] for r in per_round))})"
            print(line)
        print()


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
