#!/usr/bin/env python3
"""PyTorch reference for the optimizers and gradient clipping of `static-rnn`.

Writes JSON fixtures into ``tests/fixtures/optim/`` (relative to the repository
root, whatever the current directory is):

  * ``<case>.json``: one per optimizer configuration. Starting parameters and
    a fixed sequence of STEPS gradients are drawn from a seeded NumPy
    generator and written to the fixture, so the Rust test replays the same
    gradients without any model. ``torch.optim.<Optimizer>`` (float64 tensors,
    CPU, ``foreach=False``: the single-tensor reference implementation) takes
    the steps; after each one the fixture records the parameters and
    PyTorch's whole optimizer state (``optimizer.state[p]``).
  * ``clip.json``: ``torch.nn.utils.clip_grad_norm_`` (the returned total norm
    and the clipped gradient) and ``clip_grad_value_`` on several gradients.
  * ``defaults.json``: the default value of every hyperparameter the crate
    supports, read from the optimizers' signatures (``inspect.signature``).

Every number comes from PyTorch itself. As a check of the documentation the
crate copies, each optimizer step is also recomputed from the update rule
printed in PyTorch's docstrings, in NumPy; the script fails if the two differ
by more than 1e-13 (relative, per tensor). It also fails if a number is not
finite, or if a case does not reach the regime it is meant to test (AMSGrad
without a decreasing second moment, a centered RMSprop whose variance
estimate is ill-conditioned).

Parameters have the shapes of ``Params<2, 3, 2>`` (I = 2 inputs, H = 3 hidden,
O = 2 outputs): w_x 3x2, w_h 3x3, b_h 3, w_y 2x3, b_y 2. Matrices are written
as row-major lists of rows. Floats are Python ``repr``s, so they round-trip.

    python tools/reference/optim.py      # from anywhere; see README.md
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DIR = REPO_ROOT / "tests" / "fixtures" / "optim"

SHAPES = {"w_x": (3, 2), "w_h": (3, 3), "b_h": (3,), "w_y": (2, 3), "b_y": (2,)}
STEPS = 6
# The gradient of step t is N(0, 1) · SCALES[t]: large and small steps, so that
# the moment estimates both grow and decay (AMSGrad's max matters).
SCALES = (1.0, 3.0, 0.2, 0.05, 2.0, 0.01)
# About this fraction of gradient entries is exactly 0 at each step; b_y[0]'s
# gradient is 0 at every step (a parameter that never receives a gradient).
ZERO_FRACTION = 0.1
CASE_SEED = 5000

OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}

# (name, optimizer, hyperparameters other than PyTorch's defaults)
CASES = (
    ("sgd_defaults", "sgd", {}),
    ("sgd", "sgd", {"lr": 0.1}),
    ("sgd_weight_decay", "sgd", {"lr": 0.1, "weight_decay": 0.05}),
    ("sgd_momentum", "sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd_momentum_dampening", "sgd", {"lr": 0.1, "momentum": 0.8, "dampening": 0.3}),
    (
        "sgd_momentum_dampening_weight_decay",
        "sgd",
        {"lr": 0.1, "momentum": 0.5, "dampening": 0.5, "weight_decay": 0.01},
    ),
    ("sgd_nesterov", "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (
        "sgd_nesterov_weight_decay",
        "sgd",
        {"lr": 0.05, "momentum": 0.7, "nesterov": True, "weight_decay": 0.1},
    ),
    ("adagrad_defaults", "adagrad", {}),
    ("adagrad_lr_decay", "adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("adagrad_weight_decay", "adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    (
        "adagrad_initial_accumulator",
        "adagrad",
        {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6},
    ),
    (
        "adagrad_all",
        "adagrad",
        {
            "lr": 0.2,
            "lr_decay": 0.1,
            "weight_decay": 0.05,
            "initial_accumulator_value": 0.1,
            "eps": 1e-8,
        },
    ),
    ("rmsprop_defaults", "rmsprop", {}),
    ("rmsprop_alpha_eps", "rmsprop", {"lr": 0.001, "alpha": 0.9, "eps": 1e-6}),
    ("rmsprop_weight_decay", "rmsprop", {"lr": 0.01, "weight_decay": 0.1}),
    ("rmsprop_momentum", "rmsprop", {"lr": 0.01, "momentum": 0.9}),
    ("rmsprop_centered", "rmsprop", {"lr": 0.01, "centered": True}),
    (
        "rmsprop_centered_momentum",
        "rmsprop",
        {"lr": 0.005, "alpha": 0.95, "momentum": 0.8, "centered": True},
    ),
    (
        "rmsprop_all",
        "rmsprop",
        {
            "lr": 0.01,
            "alpha": 0.9,
            "eps": 1e-7,
            "weight_decay": 0.05,
            "momentum": 0.5,
            "centered": True,
        },
    ),
    ("adam_defaults", "adam", {}),
    ("adam_betas_eps", "adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("adam_weight_decay", "adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("adam_amsgrad", "adam", {"lr": 0.01, "amsgrad": True}),
    (
        "adam_amsgrad_weight_decay",
        "adam",
        {"lr": 0.02, "betas": (0.85, 0.95), "weight_decay": 0.05, "amsgrad": True},
    ),
    ("adamw_defaults", "adamw", {}),
    ("adamw_weight_decay", "adamw", {"lr": 0.01, "weight_decay": 0.1}),
    ("adamw_no_weight_decay", "adamw", {"lr": 0.01, "weight_decay": 0.0}),
    ("adamw_amsgrad", "adamw", {"lr": 0.01, "betas": (0.9, 0.99), "amsgrad": True}),
)

# The hyperparameters the crate supports, per optimizer.
SUPPORTED = {
    "sgd": ("lr", "momentum", "dampening", "weight_decay", "nesterov"),
    "adagrad": ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"),
    "rmsprop": ("lr", "alpha", "eps", "weight_decay", "momentum", "centered"),
    "adam": ("lr", "betas", "eps", "weight_decay", "amsgrad"),
    "adamw": ("lr", "betas", "eps", "weight_decay", "amsgrad"),
}

# The largest relative difference, per tensor, allowed between torch.optim and
# the NumPy evaluation of its documented update rule.
DOC_RULE_TOLERANCE = 1e-13


class ReferenceError(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ReferenceError(message)


def to_json(array: np.ndarray):
    """Row-major nested lists of Python floats, after a finiteness check."""
    check(bool(np.all(np.isfinite(array))), "non-finite number in a fixture")
    return array.tolist()


def params_json(tensors: dict[str, np.ndarray]) -> dict:
    return {name: to_json(tensors[name]) for name in SHAPES}


def defaults(optimizer: str) -> dict:
    signature = inspect.signature(OPTIMIZERS[optimizer].__init__)
    values = {}
    for key in SUPPORTED[optimizer]:
        default = signature.parameters[key].default
        values[key] = list(default) if isinstance(default, tuple) else default
    return values


def draw_case(index: int):
    rng = np.random.default_rng(CASE_SEED + index)
    initial = {name: rng.uniform(-1.0, 1.0, shape) for name, shape in SHAPES.items()}
    grads = []
    for scale in SCALES:
        step = {}
        for name, shape in SHAPES.items():
            g = rng.standard_normal(shape) * scale
            g[rng.uniform(size=shape) < ZERO_FRACTION] = 0.0
            step[name] = g
        step["b_y"][0] = 0.0
        grads.append(step)
    return initial, grads


def run_torch(optimizer: str, config: dict, initial, grads):
    """Steps torch.optim over float64 copies of `initial`; returns the
    parameters and the state after every step."""
    params = [torch.tensor(initial[name], dtype=torch.float64) for name in SHAPES]
    for p in params:
        p.requires_grad_(True)
    opt = OPTIMIZERS[optimizer](params, foreach=False, **config)
    history = []
    for step_grads in grads:
        for p, name in zip(params, SHAPES):
            p.grad = torch.tensor(step_grads[name], dtype=torch.float64)
        opt.step()
        after = {name: p.detach().numpy().copy() for p, name in zip(params, SHAPES)}
        state = {}
        steps = set()
        for p, name in zip(params, SHAPES):
            for key, value in opt.state[p].items():
                if key == "step":
                    steps.add(int(value.item()) if torch.is_tensor(value) else int(value))
                elif value is not None:
                    state.setdefault(key, {})[name] = value.detach().numpy().copy()
        if optimizer != "sgd":
            check(len(steps) == 1, f"inconsistent step counts {steps}")
        history.append((after, state, steps.pop() if steps else None))
    return history


def run_documented_rule(optimizer: str, config: dict, initial, grads):
    """The update rule printed in torch.optim's docstrings, in NumPy float64."""
    c = {**defaults(optimizer), **config}
    theta = {k: v.copy() for k, v in initial.items()}
    zeros = {k: np.zeros_like(v) for k, v in initial.items()}
    b, s, v, g_ave = dict(zeros), dict(zeros), dict(zeros), dict(zeros)
    m, v_max = dict(zeros), dict(zeros)
    if optimizer == "adagrad":
        s = {k: np.full_like(x, c["initial_accumulator_value"]) for k, x in initial.items()}
    history = []
    for t, step_grads in enumerate(grads, start=1):
        for k in SHAPES:
            g = step_grads[k].copy()
            lam = c["weight_decay"]
            if optimizer == "sgd":
                if lam != 0:
                    g = g + lam * theta[k]
                mu, tau = c["momentum"], c["dampening"]
                if mu != 0:
                    b[k] = mu * b[k] + (1 - tau) * g if t > 1 else g
                    g = g + mu * b[k] if c["nesterov"] else b[k]
                theta[k] = theta[k] - c["lr"] * g
            elif optimizer == "adagrad":
                lr_t = c["lr"] / (1 + (t - 1) * c["lr_decay"])
                if lam != 0:
                    g = g + lam * theta[k]
                s[k] = s[k] + g * g
                theta[k] = theta[k] - lr_t * g / (np.sqrt(s[k]) + c["eps"])
            elif optimizer == "rmsprop":
                alpha, mu = c["alpha"], c["momentum"]
                if lam != 0:
                    g = g + lam * theta[k]
                v[k] = alpha * v[k] + (1 - alpha) * g * g
                v_tilde = v[k]
                if c["centered"]:
                    g_ave[k] = g_ave[k] * alpha + (1 - alpha) * g
                    v_tilde = v_tilde - g_ave[k] ** 2
                if mu > 0:
                    b[k] = mu * b[k] + g / (np.sqrt(v_tilde) + c["eps"])
                    theta[k] = theta[k] - c["lr"] * b[k]
                else:
                    theta[k] = theta[k] - c["lr"] * g / (np.sqrt(v_tilde) + c["eps"])
            else:
                beta1, beta2 = c["betas"]
                if lam != 0:
                    if optimizer == "adamw":
                        theta[k] = theta[k] - c["lr"] * lam * theta[k]
                    else:
                        g = g + lam * theta[k]
                m[k] = beta1 * m[k] + (1 - beta1) * g
                v[k] = beta2 * v[k] + (1 - beta2) * g * g
                m_hat = m[k] / (1 - beta1**t)
                if c["amsgrad"]:
                    v_max[k] = np.maximum(v_max[k], v[k])
                    v_hat = v_max[k] / (1 - beta2**t)
                else:
                    v_hat = v[k] / (1 - beta2**t)
                theta[k] = theta[k] - c["lr"] * m_hat / (np.sqrt(v_hat) + c["eps"])
        history.append({k: x.copy() for k, x in theta.items()})
    return history


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    scale = float(np.max(np.abs(b)))
    error = float(np.max(np.abs(a - b)))
    return error if scale == 0 else error / scale


def check_regime(name: str, optimizer: str, config: dict, history) -> None:
    if config.get("amsgrad"):
        decreased = any(
            np.any(state["exp_avg_sq"][k] < state["max_exp_avg_sq"][k])
            for _, state, _ in history
            for k in SHAPES
        )
        check(decreased, f"{name}: the second moment never decreased; AMSGrad is not tested")
    if optimizer == "rmsprop" and config.get("centered"):
        worst = min(
            float(np.min((v[v > 0] - state["grad_avg"][k][v > 0] ** 2) / v[v > 0]))
            for _, state, _ in history
            for k, v in state["square_avg"].items()
        )
        check(worst > 1e-3, f"{name}: v - grad_avg^2 is ill-conditioned ({worst:.1e} of v)")


def build_case(index: int, name: str, optimizer: str, config: dict):
    initial, grads = draw_case(index)
    history = run_torch(optimizer, config, initial, grads)
    documented = run_documented_rule(optimizer, config, initial, grads)
    worst = 0.0
    for (after, _, _), expected in zip(history, documented):
        for k in SHAPES:
            worst = max(worst, relative_difference(expected[k], after[k]))
    check(
        worst <= DOC_RULE_TOLERANCE,
        f"{name}: torch.optim and its documented rule differ by {worst:.1e}",
    )
    check_regime(name, optimizer, config, history)
    steps = []
    for (after, state, step), step_grads in zip(history, grads):
        steps.append(
            {
                "grads": params_json(step_grads),
                "params": params_json(after),
                "step": step,
                "state": {key: params_json(tensors) for key, tensors in sorted(state.items())},
            }
        )
    fixture = {
        "name": name,
        "optimizer": optimizer,
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
        "seed": CASE_SEED + index,
        "initial": params_json(initial),
        "steps": steps,
    }
    return fixture, worst


def build_clip():
    """clip_grad_norm_ and clip_grad_value_ on a few gradients."""
    rng = np.random.default_rng(CASE_SEED + 1000)
    cases = []

    def grads_of(scale: float):
        return {name: rng.standard_normal(shape) * scale for name, shape in SHAPES.items()}

    def norm_case(label: str, grads, max_norm: float):
        tensors = [torch.tensor(grads[k], dtype=torch.float64) for k in SHAPES]
        for t in tensors:
            t.grad = t.clone()
        total = torch.nn.utils.clip_grad_norm_(tensors, max_norm, foreach=False)
        clipped = {k: t.grad.numpy().copy() for k, t in zip(SHAPES, tensors)}
        cases.append(
            {
                "name": label,
                "kind": "norm",
                "max_norm": max_norm,
                "grads": params_json(grads),
                "total_norm": float(total),
                "clipped": params_json(clipped),
            }
        )
        return float(total)

    def value_case(label: str, grads, clip_value: float):
        tensors = [torch.tensor(grads[k], dtype=torch.float64) for k in SHAPES]
        for t in tensors:
            t.grad = t.clone()
        torch.nn.utils.clip_grad_value_(tensors, clip_value, foreach=False)
        clipped = {k: t.grad.numpy().copy() for k, t in zip(SHAPES, tensors)}
        cases.append(
            {
                "name": label,
                "kind": "value",
                "clip_value": clip_value,
                "grads": params_json(grads),
                "clipped": params_json(clipped),
            }
        )

    g = grads_of(2.0)
    norm = norm_case("norm_above", g, 1.0)
    check(norm > 1.0, "norm_above: the norm must exceed max_norm")
    norm_case("norm_below", grads_of(0.1), 5.0)
    # Just below max_norm, within 1e-6: PyTorch still scales, by max_norm / (norm + 1e-6).
    g = grads_of(1.0)
    exact = float(np.sqrt(sum(float(np.sum(x * x)) for x in g.values())))
    norm_case("norm_within_1e-6_below_max", g, exact + 4e-7)
    norm_case("norm_zero_max", grads_of(1.0), 0.0)
    g = grads_of(1e-3)
    g["b_h"][:] = 0.0
    norm_case("norm_small_gradient", g, 1e-4)
    value_case("value_5", grads_of(4.0), 5.0)
    value_case("value_0_1", grads_of(1.0), 0.1)
    return {"cases": cases}


def main() -> int:
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    print(f"torch {torch.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    files = []
    try:
        for index, (name, optimizer, config) in enumerate(CASES):
            fixture, worst = build_case(index, name, optimizer, config)
            files.append((f"{name}.json", fixture))
            print(f"{name:40s} {STEPS} steps   |torch - documented rule| <= {worst:.1e}")
        files.append(("clip.json", build_clip()))
        files.append(
            (
                "defaults.json",
                {
                    "torch": torch.__version__.split("+")[0],
                    "defaults": {o: defaults(o) for o in OPTIMIZERS},
                },
            )
        )
    except ReferenceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    total = 0
    for filename, content in files:
        text = json.dumps(content, separators=(",", ":")) + "\n"
        (FIXTURE_DIR / filename).write_text(text)
        total += len(text)
    print(f"{len(files)} files, {total} bytes in {FIXTURE_DIR.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
