#!/usr/bin/env python3
"""Independent JAX (float64) reference for the `static-rnn` crate.

Writes one JSON fixture per case into ``tests/fixtures/`` (relative to the
repository root, whatever the current directory is). Run from the repo root:

    python tools/reference/generate.py

Model (same conventions as the Rust crate):

    z_t = W_h h_{t-1} + W_x x_t + b_h        h_t = f(z_t)
    a_t = W_y h_t + b_y                      y^_t = g(a_t)
    L   = sum over scored steps t of L_t(y^_t, y_t)       (t = 1..T, h_0 given)

Losses are summed over output components and over scored steps (no mean).
Every gradient in the fixtures comes from JAX autodiff (jax.grad); nothing
here hand-derives a backward pass.

  * parameter gradients and dl/dh0: jax.grad of the total loss;
  * dl_dh[t] (total dL/dh_t, including what flows back from t+1): a zero
    perturbation delta_t is added to h_t right after it is computed
    (h_t := f(z_t) + delta_t, also feeding step t+1) and we differentiate
    with respect to delta at delta = 0;
  * dl_dy_hat[t] = dL_t/dy^_t: jax.grad of the per-step loss written as a
    function of y^ (the formula on y^, never on the logits); zeros for
    steps that are not scored.

The canonical (output, loss) pairs compute the loss itself stably from the
logits (softmax+CE via log_softmax, sigmoid+BCE via log_sigmoid,
identity+MSE plainly); the six other pairs apply the loss formula to y^.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)  # must happen before any array is made

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DIR = REPO_ROOT / "tests" / "fixtures"

HIDDENS = ("tanh", "relu", "sigmoid", "identity")
OUTPUTS = ("softmax", "sigmoid", "identity")
LOSSES = ("cross_entropy", "mse", "binary_cross_entropy")
CANONICAL = {
    ("softmax", "cross_entropy"),
    ("sigmoid", "binary_cross_entropy"),
    ("identity", "mse"),
}
# Canonical pairs in a fixed order (used by the many_to_one family).
CANONICAL_ORDERED = (
    ("softmax", "cross_entropy"),
    ("sigmoid", "binary_cross_entropy"),
    ("identity", "mse"),
)

# Shapes the Rust tests instantiate at compile time: (I, H, O, T).
SMALL = (3, 5, 4, 7)
LARGE = (16, 32, 8, 64)

# Seeds: every case uses numpy.random.default_rng(seed) with
#   seed = FAMILY_SEED[family] + index of the case inside its family
# (the index is the position in the fixed loops in build_cases()).
FAMILY_SEED = {
    "small": 1000,
    "many_to_one": 2000,
    "large": 3000,
    "hard": 4000,
}


# --------------------------------------------------------------------------
# Model pieces (JAX)
# --------------------------------------------------------------------------

def hidden_act(name, z):
    if name == "tanh":
        return jnp.tanh(z)
    if name == "relu":
        # ReLU'(0) = 0 by convention: jnp.where picks the 0 branch at z == 0.
        return jnp.where(z > 0, z, 0.0)
    if name == "sigmoid":
        return jax.nn.sigmoid(z)
    if name == "identity":
        return z
    raise ValueError(name)


def output_act(name, a):
    if name == "softmax":
        return jax.nn.softmax(a)
    if name == "sigmoid":
        return jax.nn.sigmoid(a)
    if name == "identity":
        return a
    raise ValueError(name)


def loss_on_yhat(loss, y_hat, y):
    """Per-step loss written on y^ (the general path, and dl_dy_hat).

    Terms whose coefficient is exactly zero contribute exactly 0 (0 * ln 0 = 0)
    and have zero gradient; the inner jnp.where keeps the log argument safe
    so no NaN leaks into the gradient of the untaken branch.
    """
    if loss == "cross_entropy":
        pos = y > 0
        return -jnp.sum(jnp.where(pos, y * jnp.log(jnp.where(pos, y_hat, 1.0)), 0.0))
    if loss == "mse":
        return jnp.sum((y_hat - y) ** 2)
    if loss == "binary_cross_entropy":
        pos = y > 0
        neg = (1.0 - y) > 0
        t1 = jnp.where(pos, y * jnp.log(jnp.where(pos, y_hat, 1.0)), 0.0)
        t2 = jnp.where(neg, (1.0 - y) * jnp.log(jnp.where(neg, 1.0 - y_hat, 1.0)), 0.0)
        return -jnp.sum(t1 + t2)
    raise ValueError(loss)


def step_loss(output, loss, a, y):
    """Per-step loss used in the total L. Canonical pairs go through logits."""
    if (output, loss) == ("softmax", "cross_entropy"):
        return -jnp.sum(y * jax.nn.log_softmax(a))
    if (output, loss) == ("sigmoid", "binary_cross_entropy"):
        return -jnp.sum(y * jax.nn.log_sigmoid(a) + (1.0 - y) * jax.nn.log_sigmoid(-a))
    if (output, loss) == ("identity", "mse"):
        return jnp.sum((a - y) ** 2)
    return loss_on_yhat(loss, output_act(output, a), y)


def make_loss_fn(hidden, output, loss, targets):
    """Returns total_loss(params, h0, xs, deltas) -> (L, (hs, y_hats, zs, as)).

    `targets` is a Python list of length T with None for unscored steps;
    the branch on None is resolved at trace time.
    """

    def total_loss(params, h0, xs, deltas):
        h = h0
        L = jnp.zeros((), dtype=jnp.float64)
        hs, y_hats, zs, logits = [], [], [], []
        for t, y in enumerate(targets):
            z = params["w_h"] @ h + params["w_x"] @ xs[t] + params["b_h"]
            h = hidden_act(hidden, z) + deltas[t]
            a = params["w_y"] @ h + params["b_y"]
            zs.append(z)
            logits.append(a)
            hs.append(h)
            y_hats.append(output_act(output, a))
            if y is not None:
                L = L + step_loss(output, loss, a, jnp.asarray(y))
        return L, (jnp.stack(hs), jnp.stack(y_hats), jnp.stack(zs), jnp.stack(logits))

    return total_loss


def evaluate(case):
    """Runs the JAX reference on one case dict; returns the `expected` block
    plus diagnostics (pre-activations and logits) as numpy arrays."""
    T = case["dims"]["steps"]
    H = case["dims"]["hidden"]
    params = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in case["params"].items()}
    h0 = jnp.asarray(case["h0"], dtype=jnp.float64)
    xs = jnp.asarray(case["xs"], dtype=jnp.float64)
    deltas = jnp.zeros((T, H), dtype=jnp.float64)
    targets = case["targets"]

    fn = make_loss_fn(case["hidden"], case["output"], case["loss"], targets)
    (L, (hs, y_hats, zs, logits)), (g_params, g_h0, g_deltas) = jax.value_and_grad(
        fn, argnums=(0, 1, 3), has_aux=True
    )(params, h0, xs, deltas)

    # dl_dy_hat[t] = grad of the per-step loss written on y^, at y^_t.
    dl_dy_hat = np.zeros((T, case["dims"]["output"]))
    for t, y in enumerate(targets):
        if y is not None:
            g = jax.grad(lambda yh, y=y: loss_on_yhat(case["loss"], yh, jnp.asarray(y)))(y_hats[t])
            dl_dy_hat[t] = np.asarray(g)

    expected = {
        "loss": np.asarray(L),
        "h": np.asarray(hs),
        "y_hat": np.asarray(y_hats),
        "grads": {k: np.asarray(g_params[k]) for k in ("w_x", "w_h", "b_h", "w_y", "b_y")},
        "dl_dh": np.asarray(g_deltas),
        "dl_dy_hat": dl_dy_hat,
        "dl_dh0": np.asarray(g_h0),
    }
    diag = {"z": np.asarray(zs), "a": np.asarray(logits)}
    return expected, diag


# --------------------------------------------------------------------------
# Case construction (numpy, deterministic)
# --------------------------------------------------------------------------

def u(rng, lo, hi, shape):
    return rng.uniform(lo, hi, size=shape)


def spectral_radius(m):
    return float(np.max(np.abs(np.linalg.eigvals(m))))


def cap_spectral_radius(m, rho_max):
    rho = spectral_radius(m)
    return m * (rho_max / rho) if rho > rho_max else m


def np_hidden(name, z):
    """Plain numpy forward of the hidden layer, used only while *building*
    parameters (e.g. to scale W_y); fixtures are computed with JAX."""
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    return z


def np_hidden_states(hidden, p, h0, xs):
    h, hs = h0, []
    for x in xs:
        h = np_hidden(hidden, p["w_h"] @ h + p["w_x"] @ x + p["b_h"])
        hs.append(h)
    return np.array(hs)


def softmax_np(v):
    e = np.exp(v - v.max())
    return e / e.sum()


def make_targets(rng, output, loss, O, T, scored):
    """Targets for the scored steps (None elsewhere).

    cross_entropy: probability vectors; one-hot on steps with t % 3 != 2,
        a random softmax distribution on the others (so each case mixes both).
    binary_cross_entropy: each component is 0 or 1 (prob. 1/2) or U(0,1).
    mse: U(-1,1) for identity outputs, U(0,1) for sigmoid/softmax outputs.
    """
    targets = []
    for t in range(T):
        if not scored[t]:
            targets.append(None)
            continue
        if loss == "cross_entropy":
            if t % 3 != 2:
                y = np.zeros(O)
                y[rng.integers(O)] = 1.0
            else:
                y = softmax_np(1.5 * rng.standard_normal(O))
        elif loss == "binary_cross_entropy":
            hard = rng.uniform(size=O) < 0.5
            y = np.where(hard, rng.integers(0, 2, size=O).astype(float), rng.uniform(size=O))
        elif loss == "mse":
            y = u(rng, -1, 1, O) if output == "identity" else u(rng, 0, 1, O)
        else:
            raise ValueError(loss)
        targets.append(y)
    return targets


def base_case(name, hidden, output, loss, dims, params, h0, xs, targets):
    I, H, O, T = dims
    return {
        "name": name,
        "hidden": hidden,
        "output": output,
        "loss": loss,
        "dims": {"input": I, "hidden": H, "output": O, "steps": T},
        "params": params,
        "h0": h0,
        "xs": xs,
        "targets": targets,
    }


def fit_identity_output_to_unit_interval(p, hs, rng, O):
    """identity output + (binary_)cross_entropy: the general path takes
    ln(y^) (and ln(1-y^)), so y^ = a must stay inside (0, 1). Centre the
    logits at 0.5 and shrink W_y until max |W_y h_t| <= 0.3."""
    p["b_y"] = 0.5 + u(rng, -0.05, 0.05, O)
    spread = np.max(np.abs(hs @ p["w_y"].T))
    if spread > 0.3:
        p["w_y"] = p["w_y"] * (0.3 / spread)


def small_case(name, hidden, output, loss, seed, scored_steps="all"):
    I, H, O, T = SMALL
    rng = np.random.default_rng(seed)
    p = {
        "w_x": u(rng, -0.8, 0.8, (H, I)),
        "w_h": cap_spectral_radius(u(rng, -0.5, 0.5, (H, H)), 0.9),
        "b_h": u(rng, -0.3, 0.3, H),
        "w_y": u(rng, -0.8, 0.8, (O, H)),
        "b_y": u(rng, -0.3, 0.3, O),
    }
    h0 = u(rng, 0.0, 0.5, H) if hidden == "relu" else u(rng, -0.5, 0.5, H)
    xs = u(rng, -1, 1, (T, I))
    if output == "identity" and loss in ("cross_entropy", "binary_cross_entropy"):
        fit_identity_output_to_unit_interval(p, np_hidden_states(hidden, p, h0, xs), rng, O)
    scored = [True] * T if scored_steps == "all" else [t == T - 1 for t in range(T)]
    targets = make_targets(rng, output, loss, O, T, scored)
    return base_case(name, hidden, output, loss, SMALL, p, h0, xs, targets)


def large_case(name, hidden, output, loss, seed):
    """I=16, H=32, O=8, T=64. Fan-in scaled weights; W_h Gaussian rescaled to
    spectral radius 0.9 (tanh/sigmoid) or 0.8 (relu/identity, unbounded f)."""
    I, H, O, T = LARGE
    rng = np.random.default_rng(seed)
    rho = 0.9 if hidden in ("tanh", "sigmoid") else 0.8
    w_h = rng.standard_normal((H, H)) / math.sqrt(H)
    w_h = w_h * (rho / spectral_radius(w_h))
    p = {
        "w_x": u(rng, -1, 1, (H, I)) * math.sqrt(3.0 / I),
        "w_h": w_h,
        "b_h": u(rng, -0.3, 0.3, H),
        "w_y": u(rng, -1, 1, (O, H)) * math.sqrt(3.0 / H),
        "b_y": u(rng, -0.3, 0.3, O),
    }
    h0 = u(rng, 0.0, 0.5, H) if hidden == "relu" else u(rng, -0.5, 0.5, H)
    xs = u(rng, -1, 1, (T, I))
    targets = make_targets(rng, output, loss, O, T, [True] * T)
    return base_case(name, hidden, output, loss, LARGE, p, h0, xs, targets)


def hard_cases(seed0):
    """Numerically hard cases on the small shape. Each has a `checks`
    callback run on (expected, diag) that fails loudly if the case does not
    actually exercise the regime it is meant to."""
    I, H, O, T = SMALL
    out = []

    # 1. tanh / softmax / CE with output logits around +-50.
    rng = np.random.default_rng(seed0 + 0)
    p = {
        "w_x": u(rng, -0.8, 0.8, (H, I)),
        "w_h": cap_spectral_radius(u(rng, -0.5, 0.5, (H, H)), 0.9),
        "b_h": u(rng, -0.3, 0.3, H),
        "w_y": u(rng, -20, 20, (O, H)),
        "b_y": np.array([35.0, -35.0, 20.0, -20.0]) + u(rng, -5, 5, O),
    }
    h0 = u(rng, -0.5, 0.5, H)
    xs = u(rng, -1, 1, (T, I))
    targets = make_targets(rng, "softmax", "cross_entropy", O, T, [True] * T)

    def chk1(e, d):
        amax = np.max(np.abs(d["a"]))
        require(35 <= amax <= 80, f"max |a| = {amax}, want ~50")
        require(np.min(e["y_hat"]) > 0, "softmax underflowed to 0")

    out.append((base_case("large_logits_tanh_softmax_cross_entropy_hard",
                          "tanh", "softmax", "cross_entropy", SMALL, p, h0, xs, targets), chk1))

    # 2. sigmoid / sigmoid / BCE: saturated sigmoid hidden layer (|z| in
    #    ~[10, 35], all strictly below 36.7 so h != 1.0 exactly) and output
    #    logits around -40 (components 0, 2) and +30 (components 1, 3).
    #    The positive logits are kept <= ~35 so that y^ < 1.0 in float64
    #    (sigmoid(a) rounds to exactly 1.0 for a > 36.7, which would make the
    #    BCE formula on y^ infinite). On the positive-logit components the
    #    target is 1, because 1 - y^ ~ 1e-13..1e-15 carries only a few
    #    significant digits and (1-y)/(1-y^) would be ill-conditioned.
    rng = np.random.default_rng(seed0 + 1)
    signs = np.where(rng.uniform(size=H) < 0.5, -1.0, 1.0)
    p = {
        "w_x": u(rng, -2, 2, (H, I)),
        "w_h": u(rng, -1.5, 1.5, (H, H)),
        "b_h": 22.0 * signs,
        "w_y": u(rng, -2, 2, (O, H)),
        "b_y": np.array([-40.0, 28.0, -40.0, 28.0]) + u(rng, -2, 2, O),
    }
    h0 = u(rng, 0.0, 1.0, H)
    xs = u(rng, -1, 1, (T, I))
    targets = make_targets(rng, "sigmoid", "binary_cross_entropy", O, T, [True] * T)
    for y in targets:
        y[1] = 1.0
        y[3] = 1.0

    def chk2(e, d):
        az = np.abs(d["z"])
        require(az.min() >= 8 and az.max() <= 36, f"|z| range [{az.min()}, {az.max()}]")
        require(np.all(e["h"] < 1.0) and np.all(e["h"] > 0.0), "sigmoid hidden hit 0/1 exactly")
        a = d["a"]
        require(np.all(a[:, [0, 2]] < -30), f"negative logits {a[:, [0, 2]].max()}")
        require(np.all(a[:, [1, 3]] > 20) and np.all(a[:, [1, 3]] < 36), "positive logits out of (20,36)")
        require(np.all(e["y_hat"] < 1.0) and np.all(e["y_hat"] > 0.0), "y_hat hit 0/1 exactly")

    out.append((base_case("saturated_sigmoid_sigmoid_binary_cross_entropy_hard",
                          "sigmoid", "sigmoid", "binary_cross_entropy", SMALL, p, h0, xs, targets), chk2))

    # 3. tanh / identity / MSE with saturated tanh: |z| mostly in 6..12.
    rng = np.random.default_rng(seed0 + 2)
    signs = np.where(rng.uniform(size=H) < 0.5, -1.0, 1.0)
    p = {
        "w_x": u(rng, -1, 1, (H, I)),
        "w_h": u(rng, -0.4, 0.4, (H, H)),
        "b_h": 9.0 * signs,
        "w_y": u(rng, -0.8, 0.8, (O, H)),
        "b_y": u(rng, -0.3, 0.3, O),
    }
    h0 = u(rng, -1, 1, H)
    xs = u(rng, -1, 1, (T, I))
    targets = make_targets(rng, "identity", "mse", O, T, [True] * T)

    def chk3(e, d):
        az = np.abs(d["z"])
        require(az.min() >= 4 and az.max() <= 15, f"|z| range [{az.min()}, {az.max()}]")
        require(np.mean((az >= 6) & (az <= 12)) >= 0.7, "too few |z| in [6, 12]")
        require(np.all(np.abs(e["h"]) < 1.0), "tanh rounded to +-1 exactly")

    out.append((base_case("saturated_tanh_identity_mse_hard",
                          "tanh", "identity", "mse", SMALL, p, h0, xs, targets), chk3))

    # 4. relu / softmax / CE with many dead units (negative pre-activations),
    #    none of them within 1e-3 of the kink at 0.
    rng = np.random.default_rng(seed0 + 3)
    p = {
        "w_x": u(rng, -0.8, 0.8, (H, I)),
        "w_h": cap_spectral_radius(u(rng, -0.5, 0.5, (H, H)), 0.9),
        "b_h": u(rng, -1.0, 0.2, H),
        "w_y": u(rng, -0.8, 0.8, (O, H)),
        "b_y": u(rng, -0.3, 0.3, O),
    }
    h0 = u(rng, 0.0, 0.5, H)
    xs = u(rng, -1, 1, (T, I))
    targets = make_targets(rng, "softmax", "cross_entropy", O, T, [True] * T)

    def chk4(e, d):
        z = d["z"]
        frac = np.mean(z < 0)
        require(0.5 <= frac <= 0.9, f"dead fraction {frac}")
        require(np.min(np.abs(z)) >= 1e-3, f"z too close to the ReLU kink: {np.min(np.abs(z))}")

    out.append((base_case("dead_relu_softmax_cross_entropy_hard",
                          "relu", "softmax", "cross_entropy", SMALL, p, h0, xs, targets), chk4))

    # 5. sigmoid / softmax / MSE (general path) with logits around +-30.
    rng = np.random.default_rng(seed0 + 4)
    p = {
        "w_x": u(rng, -0.8, 0.8, (H, I)),
        "w_h": cap_spectral_radius(u(rng, -0.5, 0.5, (H, H)), 0.9),
        "b_h": u(rng, -0.3, 0.3, H),
        "w_y": u(rng, -15, 15, (O, H)),
        "b_y": np.array([20.0, -20.0, 10.0, -10.0]) + u(rng, -3, 3, O),
    }
    h0 = u(rng, -0.5, 0.5, H)
    xs = u(rng, -1, 1, (T, I))
    targets = make_targets(rng, "softmax", "mse", O, T, [True] * T)

    def chk5(e, d):
        amax = np.max(np.abs(d["a"]))
        require(20 <= amax <= 45, f"max |a| = {amax}, want ~30")

    out.append((base_case("large_logits_sigmoid_softmax_mse_hard",
                          "sigmoid", "softmax", "mse", SMALL, p, h0, xs, targets), chk5))
    return out


def build_cases():
    """All cases, as (case dict, seed, optional check callback)."""
    cases = []
    i = 0
    for hidden in HIDDENS:
        for output in OUTPUTS:
            for loss in LOSSES:
                seed = FAMILY_SEED["small"] + i
                cases.append((small_case(f"{hidden}_{output}_{loss}_small", hidden, output, loss, seed), seed, None))
                i += 1
    i = 0
    for hidden in ("tanh", "relu"):
        for output, loss in CANONICAL_ORDERED:
            seed = FAMILY_SEED["many_to_one"] + i
            cases.append((small_case(f"{hidden}_{output}_{loss}_many_to_one", hidden, output, loss, seed,
                                     scored_steps="last"), seed, None))
            i += 1
    large = (
        ("tanh", "softmax", "cross_entropy"),
        ("relu", "identity", "mse"),
        ("sigmoid", "sigmoid", "binary_cross_entropy"),
        ("identity", "softmax", "cross_entropy"),
    )
    for i, (hidden, output, loss) in enumerate(large):
        seed = FAMILY_SEED["large"] + i
        cases.append((large_case(f"{hidden}_{output}_{loss}_large", hidden, output, loss, seed), seed, None))
    for i, (case, chk) in enumerate(hard_cases(FAMILY_SEED["hard"])):
        cases.append((case, FAMILY_SEED["hard"] + i, chk))
    return cases


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------

class FixtureError(RuntimeError):
    pass


def require(cond, msg):
    if not cond:
        raise FixtureError(msg)


def to_py(x):
    """numpy arrays / scalars -> nested lists of Python floats (None kept)."""
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: to_py(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_py(v) for v in x]
    if isinstance(x, (str, int)) and not isinstance(x, bool):
        return x
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr)
    return [to_py(v) for v in arr]


def all_floats(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from all_floats(v)
    elif isinstance(x, list):
        for v in x:
            yield from all_floats(v)
    elif isinstance(x, float):
        yield x


def check_shapes(case):
    d = case["dims"]
    I, H, O, T = d["input"], d["hidden"], d["output"], d["steps"]
    e = case["expected"]
    want = {
        ("params", "w_x"): (H, I), ("params", "w_h"): (H, H), ("params", "b_h"): (H,),
        ("params", "w_y"): (O, H), ("params", "b_y"): (O,),
        ("expected", "h"): (T, H), ("expected", "y_hat"): (T, O), ("expected", "dl_dh"): (T, H),
        ("expected", "dl_dy_hat"): (T, O), ("expected", "dl_dh0"): (H,),
    }
    for (blk, k), shp in want.items():
        require(np.shape(case[blk][k]) == shp, f"{case['name']}: {blk}.{k} shape {np.shape(case[blk][k])} != {shp}")
    for k in ("w_x", "w_h", "b_h", "w_y", "b_y"):
        require(np.shape(e["grads"][k]) == np.shape(case["params"][k]), f"{case['name']}: grads.{k} shape")
    require(np.shape(case["h0"]) == (H,) and np.shape(case["xs"]) == (T, I), f"{case['name']}: h0/xs shape")
    require(len(case["targets"]) == T, f"{case['name']}: targets length")
    for y in case["targets"]:
        require(y is None or len(y) == O, f"{case['name']}: target length")


def generate(out_dir=FIXTURE_DIR, verbose=True):
    out_dir.mkdir(parents=True, exist_ok=True)
    total_bytes = 0
    written = []
    names = set()
    for case, seed, chk in build_cases():
        name = case["name"]
        require(name not in names, f"duplicate case name {name}")
        names.add(name)
        expected, diag = evaluate(case)
        if chk is not None:
            try:
                chk(expected, diag)
            except FixtureError as err:
                raise FixtureError(f"{name} (seed {seed}): hard-case regime check failed: {err}") from None
        case = to_py(case)
        case["expected"] = to_py(expected)
        check_shapes(case)
        bad = [v for v in all_floats(case) if not math.isfinite(v)]
        require(not bad, f"{name} (seed {seed}): {len(bad)} non-finite numbers, e.g. {bad[:3]}")
        # allow_nan=False: a NaN/inf that slipped through would raise here.
        text = json.dumps(case, allow_nan=False, separators=(",", ":")) + "\n"
        path = out_dir / f"{name}.json"
        path.write_text(text)
        total_bytes += len(text.encode())
        written.append(path)
        if verbose:
            amax = float(np.max(np.abs(diag["a"])))
            hmax = float(np.max(np.abs(expected["h"])))
            print(f"  {name:58s} seed={seed:5d} loss={float(expected['loss']):.6g} "
                  f"max|h|={hmax:.3g} max|a|={amax:.3g} bytes={len(text)}")
    return written, total_bytes


def main():
    print(f"jax {jax.__version__}, numpy {np.__version__}, x64={jax.config.jax_enable_x64}")
    try:
        written, total = generate()
    except FixtureError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        sys.exit(1)
    print(f"wrote {len(written)} fixture files, {total} bytes total, into {FIXTURE_DIR}")


if __name__ == "__main__":
    main()
