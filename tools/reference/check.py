#!/usr/bin/env python3
"""Sanity checks of the reference generator itself (not of the Rust crate).

    python tools/reference/check.py            # all fixtures in tests/fixtures
    python tools/reference/check.py NAME ...   # only these fixture names

For every fixture file it runs these independent checks:

1. Forward, without JAX: a plain NumPy forward pass on the numbers *read
   back from the JSON file* recomputes h_t, y^_t and L and compares them to
   `expected` (this also checks the JSON round trip and the loss conventions,
   e.g. "summed, not averaged" and "unscored steps contribute nothing").

2. Gradients by central finite differences of the JAX float64 loss,
       dL/dθ_i ≈ (L(θ + ε e_i) − L(θ − ε e_i)) / 2ε,   ε = 1e-5 · max(1, |θ_i|)
   for every parameter, h0 and every δ_t (the dl_dh perturbations), and of
   the per-step loss on y^ for dl_dy_hat. Reported per quantity:
       rel = ||fd − ad||_∞ / ||ad||_∞   (normwise relative error)
   plus the max element-wise relative error over the entries with
   |ad_i| ≥ 1e-3 ||ad||_∞.

3. For the small shape (all but the `large` family), central differences of
   an mpmath forward pass at 60 digits on the fixture's exact float64 inputs:
   these are the true derivatives to ~30 digits, so the reported error is the
   error of the float64 JAX reference itself. This is what validates the
   `hard` fixtures, where float64 differences cannot resolve gradients of
   ~1e-9 against a loss of ~1e2 (their float64 FD numbers are printed but
   not judged).

Exits non-zero if the NumPy forward differs by more than 1e-12 (relative),
if a float64 FD error exceeds 1e-6 normwise (non-hard), or if an mpmath FD
error exceeds 1e-12 normwise (non-hard) / 1e-6 (hard).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate as gen  # noqa: E402  (enables jax x64 on import)
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import mpmath  # noqa: E402

EPS = 1e-5
PARAM_KEYS = ("w_x", "w_h", "b_h", "w_y", "b_y")


# ---------------------------------------------------------------- NumPy forward
def np_f(name, z):
    return gen.np_hidden(name, z)


def np_g(name, a):
    if name == "softmax":
        e = np.exp(a - a.max())
        return e / e.sum()
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-a))
    return a


def np_step_loss(output, loss, a, yh, y):
    if (output, loss) == ("softmax", "cross_entropy"):
        m = a.max()
        logsm = a - (m + np.log(np.sum(np.exp(a - m))))
        return -np.sum(y * logsm)
    if (output, loss) == ("sigmoid", "binary_cross_entropy"):
        ls = lambda v: -np.logaddexp(0.0, -v)  # log sigmoid
        return -np.sum(y * ls(a) + (1 - y) * ls(-a))
    if loss == "mse":
        return np.sum((yh - y) ** 2)
    if loss == "cross_entropy":
        return -np.sum([yk * np.log(pk) for yk, pk in zip(y, yh) if yk != 0])
    if loss == "binary_cross_entropy":
        s = 0.0
        for yk, pk in zip(y, yh):
            if yk != 0:
                s += yk * np.log(pk)
            if yk != 1:
                s += (1 - yk) * np.log(1 - pk)
        return -s
    raise ValueError(loss)


def check_forward(c):
    p = {k: np.array(v) for k, v in c["params"].items()}
    h = np.array(c["h0"])
    L, hs, yhs = 0.0, [], []
    for x, y in zip(np.array(c["xs"]), c["targets"]):
        h = np_f(c["hidden"], p["w_h"] @ h + p["w_x"] @ x + p["b_h"])
        a = p["w_y"] @ h + p["b_y"]
        yh = np_g(c["output"], a)
        hs.append(h)
        yhs.append(yh)
        if y is not None:
            L += np_step_loss(c["output"], c["loss"], a, yh, np.array(y))
    e = c["expected"]

    def rel(x, ref):
        ref = np.asarray(ref)
        return float(np.max(np.abs(np.asarray(x) - ref)) / max(np.max(np.abs(ref)), 1e-300))

    return {"loss": rel(L, e["loss"]), "h": rel(hs, e["h"]), "y_hat": rel(yhs, e["y_hat"])}


# --------------------------------------------------------- finite differences
def flatten(c):
    """All differentiable inputs of the JAX loss as one vector + unflatten."""
    T, H = c["dims"]["steps"], c["dims"]["hidden"]
    parts = [np.array(c["params"][k]) for k in PARAM_KEYS] + [np.array(c["h0"]), np.zeros((T, H))]
    names = list(PARAM_KEYS) + ["h0", "deltas"]
    shapes = [q.shape for q in parts]
    sizes = [q.size for q in parts]
    theta = np.concatenate([q.ravel() for q in parts])

    def unflatten(v):
        out, o = {}, 0
        for n, s, k in zip(names, shapes, sizes):
            out[n] = v[o:o + k].reshape(s)
            o += k
        return out

    return theta, unflatten, names, sizes


def fd_gradients(c):
    theta, unflatten, names, sizes = flatten(c)
    fn = gen.make_loss_fn(c["hidden"], c["output"], c["loss"], c["targets"])
    xs = jnp.asarray(c["xs"])

    def L(v):
        d = unflatten(v)
        params = {k: d[k] for k in PARAM_KEYS}
        return fn(params, d["h0"], xs, d["deltas"])[0]

    L_batch = jax.jit(jax.vmap(L))
    n = theta.size
    steps = EPS * np.maximum(1.0, np.abs(theta))
    fd = np.empty(n)
    chunk = 256
    for s in range(0, n, chunk):
        idx = np.arange(s, min(n, s + chunk))
        base = np.tile(theta, (len(idx), 1))
        plus, minus = base.copy(), base.copy()
        plus[np.arange(len(idx)), idx] += steps[idx]
        minus[np.arange(len(idx)), idx] -= steps[idx]
        # Use the *actual* step (θ+ε)−(θ−ε) as represented in floating point.
        actual = plus[np.arange(len(idx)), idx] - minus[np.arange(len(idx)), idx]
        fd[idx] = (np.asarray(L_batch(jnp.asarray(plus))) - np.asarray(L_batch(jnp.asarray(minus)))) / actual
    g = unflatten(fd)
    return {k: g[k] for k in PARAM_KEYS}, g["h0"], g["deltas"]


def fd_step_on_yhat(loss, p, y):
    """FD step for dL_t/dy^_k that keeps the probe inside the domain of the
    log terms that are actually present (a term whose coefficient y or 1−y
    is 0 is exactly 0 and does not restrict the step)."""
    if loss == "mse":
        return EPS * max(1.0, abs(p))
    step = EPS
    if y > 0:
        step = min(step, 1e-4 * p)
    if loss == "binary_cross_entropy" and y < 1:
        step = min(step, 1e-4 * (1.0 - p))
    return step


def fd_dl_dy_hat(c):
    out = np.zeros((c["dims"]["steps"], c["dims"]["output"]))
    for t, y in enumerate(c["targets"]):
        if y is None:
            continue
        yh = np.array(c["expected"]["y_hat"][t])
        f = jax.jit(lambda v, y=y: gen.loss_on_yhat(c["loss"], v, jnp.asarray(y)))
        for k in range(len(yh)):
            eps = fd_step_on_yhat(c["loss"], yh[k], y[k])
            vp, vm = yh.copy(), yh.copy()
            vp[k] += eps
            vm[k] -= eps
            out[t, k] = (float(f(jnp.asarray(vp))) - float(f(jnp.asarray(vm)))) / (vp[k] - vm[k])
    return out


# ------------------------------------------- high-precision FD (mpmath)
# In the saturated "hard" cases some gradients are ~1e-9..1e-11 while the
# loss is ~1e2, so float64 finite differences cannot resolve them at all
# (round-off ~1e-16·L/ε). For every fixture of the small shape we therefore
# also difference an mpmath forward pass run at MP_DPS decimal digits, on the
# exact float64 inputs of the fixture, with step MP_STEP: the result is the
# true derivative to ~30 digits, so the error printed is the error of the
# float64 JAX reference itself.
MP_DPS = 60
MP_STEP = mpmath.mpf("1e-20")


def mp_hidden(name, z):
    if name == "tanh":
        return mpmath.tanh(z)
    if name == "relu":
        return z if z > 0 else mpmath.mpf(0)
    if name == "sigmoid":
        return 1 / (1 + mpmath.exp(-z))
    return z


def mp_output(name, a):
    if name == "softmax":
        m = max(a)
        e = [mpmath.exp(v - m) for v in a]
        s = mpmath.fsum(e)
        return [v / s for v in e]
    if name == "sigmoid":
        return [1 / (1 + mpmath.exp(-v)) for v in a]
    return list(a)


def mp_loss_on_yhat(loss, yh, y):
    s = mpmath.mpf(0)
    for p, t in zip(yh, y):
        t = mpmath.mpf(t)
        if loss == "mse":
            s += (p - t) ** 2
        else:
            if t != 0:
                s -= t * mpmath.log(p)
            if loss == "binary_cross_entropy" and t != 1:
                s -= (1 - t) * mpmath.log(1 - p)
    return s


def mp_matvec(m, v):
    return [mpmath.fsum(a * b for a, b in zip(row, v)) for row in m]


def mp_total_loss(c, P, h0, deltas):
    h, L = h0, mpmath.mpf(0)
    for t, (x, y) in enumerate(zip(c["xs"], c["targets"])):
        z = [p + q + r for p, q, r in zip(mp_matvec(P["w_h"], h), mp_matvec(P["w_x"], x), P["b_h"])]
        h = [mp_hidden(c["hidden"], v) + d for v, d in zip(z, deltas[t])]
        a = [p + q for p, q in zip(mp_matvec(P["w_y"], h), P["b_y"])]
        if y is not None:
            # In exact arithmetic the logit-based canonical losses equal the
            # formula on y^, so one code path serves all nine pairs.
            L += mp_loss_on_yhat(c["loss"], mp_output(c["output"], a), y)
    return L


def mp_gradients(c):
    """Central differences of the 60-digit loss w.r.t. every parameter,
    h0 entry and δ_t entry; and of the per-step loss on y^ (dl_dy_hat)."""
    with mpmath.workdps(MP_DPS):
        conv = lambda v: [conv(w) for w in v] if isinstance(v, list) else mpmath.mpf(v)
        P = {k: conv(c["params"][k]) for k in PARAM_KEYS}
        h0 = conv(c["h0"])
        T, H = c["dims"]["steps"], c["dims"]["hidden"]
        D = [[mpmath.mpf(0)] * H for _ in range(T)]
        slots = []  # (container, index, output name, output index)
        for k in PARAM_KEYS:
            if isinstance(P[k][0], list):
                slots += [(P[k][i], j, k, (i, j)) for i in range(len(P[k])) for j in range(len(P[k][0]))]
            else:
                slots += [(P[k], i, k, (i,)) for i in range(len(P[k]))]
        slots += [(h0, i, "dl_dh0", (i,)) for i in range(H)]
        slots += [(D[t], i, "dl_dh", (t, i)) for t in range(T) for i in range(H)]
        out = {k: np.zeros(np.shape(c["params"][k])) for k in PARAM_KEYS}
        out["dl_dh0"] = np.zeros(H)
        out["dl_dh"] = np.zeros((T, H))
        for cont, i, name, idx in slots:
            orig = cont[i]
            cont[i] = orig + MP_STEP
            lp = mp_total_loss(c, P, h0, D)
            cont[i] = orig - MP_STEP
            lm = mp_total_loss(c, P, h0, D)
            cont[i] = orig
            out[name][idx] = float((lp - lm) / (2 * MP_STEP))
        dyh = np.zeros((T, c["dims"]["output"]))
        for t, y in enumerate(c["targets"]):
            if y is None:
                continue
            yh = conv(c["expected"]["y_hat"][t])
            for k in range(len(yh)):
                orig = yh[k]
                # relative step: y^ can be ~1e-18 (or 1 - y^ ~1e-13) in the hard cases
                step = MP_STEP * max(min(1, abs(orig), abs(1 - orig)), mpmath.mpf("1e-30"))
                yh[k] = orig + step
                lp = mp_loss_on_yhat(c["loss"], yh, y)
                yh[k] = orig - step
                lm = mp_loss_on_yhat(c["loss"], yh, y)
                yh[k] = orig
                dyh[t, k] = float((lp - lm) / (2 * step))
        out["dl_dy_hat"] = dyh
        return out


def errs(fd, ad):
    fd, ad = np.asarray(fd), np.asarray(ad)
    scale = np.max(np.abs(ad))
    if scale == 0:
        return (float(np.max(np.abs(fd))), 0.0)
    norm = float(np.max(np.abs(fd - ad)) / scale)
    mask = np.abs(ad) >= 1e-3 * scale
    elem = float(np.max(np.abs(fd[mask] - ad[mask]) / np.abs(ad[mask])))
    return norm, elem


QUANTITIES = list(PARAM_KEYS) + ["dl_dh0", "dl_dh", "dl_dy_hat"]


def expected_of(c, q):
    e = c["expected"]
    return e["grads"][q] if q in PARAM_KEYS else e[q]


def family(name):
    return "many_to_one" if name.endswith("many_to_one") else name.rsplit("_", 1)[-1]


def main(argv):
    files = sorted(gen.FIXTURE_DIR.glob("*.json"))
    if argv:
        files = [f for f in files if f.stem in argv]
    worst = {}  # family -> {"fwd": x, "fd64": [norm, elem], "mp": [norm, elem]}
    failed = []
    for path in files:
        c = json.loads(path.read_text())
        fam = family(c["name"])
        w = worst.setdefault(fam, {"fwd": 0.0, "fd64": [0.0, 0.0], "mp": [0.0, 0.0]})
        fwd = max(check_forward(c).values())
        w["fwd"] = max(w["fwd"], fwd)

        # float64 central differences of the JAX loss
        g_fd, h0_fd, dh_fd = fd_gradients(c)
        fd64 = dict(g_fd, dl_dh0=h0_fd, dl_dh=dh_fd, dl_dy_hat=fd_dl_dy_hat(c))
        r64 = {q: errs(fd64[q], expected_of(c, q)) for q in QUANTITIES}
        n64, e64 = max(v[0] for v in r64.values()), max(v[1] for v in r64.values())
        w["fd64"] = [max(w["fd64"][0], n64), max(w["fd64"][1], e64)]

        line = f"{c['name']:54s} fwd={fwd:.1e} fd64 norm={n64:.1e} elem={e64:.1e}"
        ok = fwd <= 1e-12
        if fam != "hard":
            ok = ok and n64 <= 1e-6
        if c["dims"]["steps"] <= 8:  # small shape: exact derivatives via mpmath
            mpg = mp_gradients(c)
            rmp = {q: errs(mpg[q], expected_of(c, q)) for q in QUANTITIES}
            nmp, emp = max(v[0] for v in rmp.values()), max(v[1] for v in rmp.values())
            w["mp"] = [max(w["mp"][0], nmp), max(w["mp"][1], emp)]
            ok = ok and nmp <= (1e-6 if fam == "hard" else 1e-12)
            line += f" | mp norm={nmp:.1e} elem={emp:.1e}"
            if fam == "hard":
                line += "\n      mp per quantity (norm/elem): " + " ".join(
                    f"{q}={v[0]:.0e}/{v[1]:.0e}" for q, v in rmp.items())
        if not ok:
            failed.append(c["name"])
        print(("ok   " if ok else "FAIL ") + line)
    print()
    print(f"checked {len(files)} fixtures (norm = ||fd-ad||_inf/||ad||_inf per quantity, "
          f"elem = max |fd-ad|/|ad| over entries >= 1e-3 of the max)")
    for fam, w in worst.items():
        mp_txt = f", mpmath exact FD norm={w['mp'][0]:.2e} elem={w['mp'][1]:.2e}" if w["mp"][0] else ""
        print(f"  {fam:12s} NumPy-forward rel mismatch={w['fwd']:.2e}, float64 FD norm={w['fd64'][0]:.2e} "
              f"elem={w['fd64'][1]:.2e}{mp_txt}")
    if failed:
        print(f"FAILED: {failed}", file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
