"""Fit of ActivationMath.GaussianTailRatio: R(a) = Phi(-a) * exp(a^2/2) ~ P4(a) / Q5(a) on [0, 20].

R falls smoothly from 1/2 at a = 0 to ~1/(a*sqrt(2*pi)), so a rational with numerator degree one below the
denominator's follows its 1/a tail. The fit minimises the largest *relative* error: linearised least squares
(P(a) - R(a)*Q(a) = 0, Q(0) = 1) weighted by 1/(R*Q_previous) (Loeb's iteration), with Lawson's reweighting
towards the worst points; the best iterate is kept. Reference values come from mpmath at 40 digits.

Run (Debian: apt-get install python3-numpy python3-mpmath):  python3 gaussian_tail_ratio.py
Printed on 2026-11-23: fit max relative error 1.01e-08; float32 evaluation (fused Horner, exact divide) 2.83e-07;
the coefficients in ActivationMath.cs (R0..R4, S1..S5) are these rounded to float.
"""
import mpmath
import numpy as np

mpmath.mp.dps = 40
M, N, B = 4, 5, 20.0


def ratio(a):
    return float(mpmath.ncdf(-a) * mpmath.exp(mpmath.mpf(a) ** 2 / 2))


a = np.unique(np.concatenate([np.linspace(0, 6, 4000), np.linspace(6, B, 2000)]))
f = np.array([ratio(x) for x in a])
w = np.ones_like(a)
q_prev = np.ones_like(a)
best = None
for _ in range(80):
    lhs = np.hstack([np.vander(a, M + 1, increasing=True), -f[:, None] * np.vander(a, N + 1, increasing=True)[:, 1:]])
    s = np.sqrt(w) / (f * q_prev)
    coef, *_ = np.linalg.lstsq(lhs * s[:, None], f * s, rcond=None)
    p, q = coef[: M + 1], np.concatenate([[1.0], coef[M + 1:]])
    P, Q = np.polyval(p[::-1], a), np.polyval(q[::-1], a)
    err = (P / Q - f) / f
    worst = np.abs(err).max()
    if best is None or worst < best[0]:
        best = (worst, p.copy(), q.copy())
    q_prev = Q
    w = w * (np.abs(err) / worst + 1e-2)
    w /= w.sum()

worst, p, q = best


def horner_f32(c, x):
    r = np.float32(c[-1])
    for cc in c[-2::-1]:
        r = (r.astype(np.float64) * x.astype(np.float64) + np.float64(np.float32(cc))).astype(np.float32)
    return r


af = np.linspace(0, B, 100001).astype(np.float32)
val = (horner_f32(p, af).astype(np.float64) / horner_f32(q, af).astype(np.float64)).astype(np.float32)
ref = np.array([ratio(float(x)) for x in af[::20]])
print(f"fit max relative error {worst:.2e}; float32 evaluation {np.max(np.abs(val[::20] - ref) / ref):.2e}")
print("R0..R4 =", ", ".join(f"{c:.10e}" for c in p))
print("S1..S5 =", ", ".join(f"{c:.10e}" for c in q[1:]))
