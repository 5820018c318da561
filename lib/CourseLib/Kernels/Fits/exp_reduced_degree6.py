"""Fit of ActivationMath.ExpOfReducedEstrin: e^r ~ 1 + r + r^2 (E2 + E3 r + E4 r^2 + E5 r^3 + E6 r^4) on |r| <= ln2/2.

The exponential inside Phi and phi (exact GELU) reduces its argument to r = x - n*ln2, |r| <= ln2/2 (plus at most ~1e-5
from the tail that joins after the reduction), and evaluates a polynomial there. The Taylor polynomial to r^7 needs
r^8/8! <= 5e-9 to be exact to float; a degree-6 polynomial fitted for the smallest largest *relative* error gets there
with one coefficient fewer. The constant and linear coefficients are kept at exactly 1, so e^r keeps all its digits
near r = 0. The fit is linearised least squares weighted by 1/e^r, with Lawson's reweighting towards the worst points;
the best iterate is kept.

Evaluated in float32 the way the kernel does it (r2 = r*r; p23 = fma(E3, r, E2); p45 = fma(E5, r, E4);
t = fma(E6, r2, p45); t = fma(t, r2, p23); e = fma(t, r2, r) + 1: six instructions on the FMA pipes, against eight for
the Taylor polynomial in Estrin's form).

Run (Debian: apt-get install python3-numpy):  python3 exp_reduced_degree6.py
Printed on 2026-12-08: fit max relative error 3.06e-09; float32 evaluation 6.79e-08 (the Taylor form to r^7 in
Estrin's form: 8.42e-08); the coefficients in ActivationMath.cs (E2..E6) are these rounded to float.
"""
import math

import numpy as np

L = float(np.log(2) / 2) + 2e-5
r = np.linspace(-L, L, 20001)
r = r[np.abs(r) > 1e-6]
f = np.exp(r)

V = np.vander(r, 5, increasing=True) * (r ** 2)[:, None]
target = f - 1 - r
w = np.ones_like(r)
best = None
for _ in range(200):
    s = np.sqrt(w) / f
    c, *_ = np.linalg.lstsq(V * s[:, None], target * s, rcond=None)
    err = (1 + r + V @ c - f) / f
    worst = np.abs(err).max()
    if best is None or worst < best[0]:
        best = (worst, c.copy())
    w = w * (np.abs(err) / worst + 1e-3)
    w /= w.sum()

worst, c = best
c32 = c.astype(np.float32)


def fma(a, b, d):
    return (np.float64(a) * np.float64(b) + np.float64(d)).astype(np.float32)


rf = r.astype(np.float32)
ref = np.exp(rf.astype(np.float64))
r2 = (rf * rf).astype(np.float32)
t = fma(c32[4], r2, fma(c32[3], rf, c32[2]))
t = fma(t, r2, fma(c32[1], rf, c32[0]))
e = (fma(t, r2, rf) + np.float32(1)).astype(np.float32)

C = [np.float32(1 / math.factorial(k)) for k in range(2, 8)]
p47 = fma(fma(C[5], rf, C[4]), r2, fma(C[3], rf, C[2]))
p13 = fma(fma(C[1], rf, C[0]), r2, rf)
taylor = (fma(p47, (r2 * r2).astype(np.float32), p13) + np.float32(1)).astype(np.float32)

print(f"fit max relative error {worst:.2e}; float32 evaluation {np.max(np.abs(e - ref) / ref):.2e} "
      f"(Taylor to r^7, Estrin: {np.max(np.abs(taylor - ref) / ref):.2e})")
print("E2..E6 =", ", ".join(f"{v:.9e}" for v in c32))
