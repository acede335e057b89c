"""The month's per-slot work as compiled loops (numba, nopython): the numpy path's arithmetic,
one slot at a time, so the engine's arrays come out the same bit for bit.

Only ``simulation.kernel`` imports this module (it sets numba's cache folder first); the engine
calls it through ``ForecastModel.kernel`` where the numpy path makes whole-array passes:

- ``due``: the slots whose lattice cell changes this month (``next_change == T``);
- ``refresh``: their cell, state x need code (and its counts) and next band change;
- ``hash_uniforms``: the arrivals' month uniforms (splitmix64 of month salt and key, as
  ``units.hashed_uniform``, rounded to float32 as the numpy path rounds them);
- ``look``: the quiet-interval test over every slot, and who else is looked at;
- ``inverse_cdf``: the drawn state and the residual of the uniform inside it;
- ``need_and_events``: the need level from the residual, then the within-month admissions;
- ``touched``: everyone whose keys may have changed, in slot order.

The random streams are not drawn here: the transitions stream's float32 uniforms come from
numpy's generator as before and are handed in, so both paths see the same numbers and make
the same comparisons against the same cumulative probabilities. No fastmath: every float
operation is the numpy path's, in its order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_G = np.uint64(0x9E3779B97F4A7C15)
_ONE = np.uint64(1)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO53 = float(1 << 53)
_U_MAX = np.float32(0.99999994)   # float32 rounding of a hashed uniform must not reach 1


@njit(cache=True)
def due(next_change, T):
    """``np.flatnonzero(next_change == T)``."""
    n = 0
    for i in range(len(next_change)):
        if next_change[i] == T:
            n += 1
    out = np.empty(n, dtype=np.int64)
    j = 0
    for i in range(len(next_change)):
        if next_change[i] == T:
            out[j] = i
            j += 1
    return out


@njit(cache=True, inline="always")
def _cell(state, need, age_m, mis, sexseg, lut, n_live, r_need, r_age, r_sexseg, r_mis):
    """``ForecastModel._cell_of`` for one slot (lut: the age and months-in-state look-ups)."""
    age_lut, mis_lut = lut[0], lut[1]
    ia = age_m + 1
    if ia < 0:
        ia = 0
    elif ia > len(age_lut) - 1:
        ia = len(age_lut) - 1
    im = mis if mis < len(mis_lut) - 1 else len(mis_lut) - 1
    s = state if state < n_live - 1 else n_live - 1
    return (((s * r_need + need) * r_age + age_lut[ia]) * r_sexseg + sexseg) * r_mis + mis_lut[im]


@njit(cache=True)
def refresh(idx, T, state, need, birth, entered, sexseg, cell, code, code_counts, next_change,
            lut, age_next, mis_next, dims, never):
    """``ForecastModel._refresh``: cell, code and next band change of the (unique) slots ``idx``;
    ``dims`` = (n_live, r_need, r_age, r_sex * r_seg, r_mis, dead_cell)."""
    n_live, r_need, r_age, r_sexseg, r_mis, dead = dims[0], dims[1], dims[2], dims[3], dims[4], dims[5]
    dead_code = n_live * 4
    for k in range(len(idx)):
        i = idx[k]
        st = state[i]
        mis = T - entered[i]
        age_m = T - birth[i]
        if st < n_live:
            cell[i] = _cell(st, need[i], age_m, mis, sexseg[i], lut, n_live, r_need, r_age, r_sexseg, r_mis)
            c = st * 4 + need[i]
            ia = 0 if (age_m < 0 or age_m >= len(age_next) - 1) else age_m + 1
            im = mis if mis < len(mis_next) - 1 else len(mis_next) - 1
            a_next = age_next[ia]
            m_next = mis_next[im]
            next_change[i] = T + (a_next if a_next < m_next else m_next)
        else:
            cell[i] = dead
            c = dead_code
            next_change[i] = never
        code_counts[code[i]] -= 1
        code_counts[c] += 1
        code[i] = c


@njit(cache=True)
def hash_uniforms(u, slots, key, salt):
    """u[slots] = the float32 of ``hashed_uniform(salt, key[slots])``, below 1."""
    for k in range(len(slots)):
        i = slots[k]
        z = salt + (key[i] + _ONE) * _G
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        z = z ^ (z >> _S31)
        h = np.float32(np.float64(z >> _S11) / _TWO53)
        u[i] = h if h < _U_MAX else _U_MAX


@njit(cache=True)
def look(u, cell, q_lo32, q_hi32, qslots, state, n_live, hc_wait, by_wait, looked_at):
    """Who is looked at one by one this month (slot order): a uniform outside its cell's quiet
    interval, a queued person present, and (``by_wait``) anyone waiting for home care."""
    for i in range(len(u)):
        c = cell[i]
        looked_at[i] = (u[i] < q_lo32[c]) or (u[i] >= q_hi32[c]) or (by_wait and hc_wait[i] > 0)
    for k in range(len(qslots)):
        q = qslots[k]
        if state[q] < n_live:
            looked_at[q] = True
    n = 0
    for i in range(len(u)):
        if looked_at[i]:
            n += 1
    A = np.empty(n, dtype=np.int64)
    j = 0
    for i in range(len(u)):
        if looked_at[i]:
            A[j] = i
            j += 1
    return A


@njit(cache=True)
def inverse_cdf(A, u, cell, state, cum0, n_states):
    """Start state, cell, drawn state (inverse CDF over the cell's row) and the residual of u
    inside the drawn state's interval, for the slots ``A``."""
    n = len(A)
    s0 = np.empty(n, dtype=np.int64)
    cA = np.empty(n, dtype=np.int64)
    d = np.empty(n, dtype=np.int64)
    v = np.empty(n, dtype=np.float64)
    m = cum0.shape[1]
    for k in range(n):
        i = A[k]
        c = cell[i]
        s0[k] = state[i]
        cA[k] = c
        x = np.float64(u[i])
        j = 0
        for col in range(1, m):
            if cum0[c, col] <= x:
                j += 1
        if j > n_states - 1:
            j = n_states - 1
        d[k] = j
        lo = cum0[c, j]
        w = cum0[c, j + 1] - lo
        v[k] = (x - lo) / (w if w > 1e-300 else 1e-300)
    return s0, cA, d, v


@njit(cache=True)
def need_and_events(A, cA, v, s0, state, need, T, birth, entered, sexseg, lut, dims,
                    need_lo, need_hi, need_cum0, p_hosp, p_hospice, hc_wait, wait_mult, is_away):
    """``ForecastModel._need_and_events`` for the slots ``A``: writes their need level and returns
    (final states, state changed, need changed, within-month hospital, hospice admissions)."""
    n_live, r_need, r_age, r_sexseg, r_mis = dims[0], dims[1], dims[2], dims[3], dims[4]
    n = len(A)
    fin = np.empty(n, dtype=np.int64)
    changed = np.zeros(n, dtype=np.bool_)
    nch = np.zeros(n, dtype=np.bool_)
    n_h = 0
    n_hs = 0
    levels = need_cum0.shape[1] - 1
    for k in range(n):
        i = A[k]
        f = state[i]
        fin[k] = f
        vk = v[k]
        w = vk
        if f < n_live:
            cn = cA[k]
            if f != s0[k]:
                changed[k] = True
                cn = _cell(f, need[i], T - birth[i], 0, sexseg[i], lut, n_live, r_need, r_age, r_sexseg, r_mis)
            nlo = need_lo[cn]
            nhi = need_hi[cn]
            wd = nhi - nlo
            w = (vk - nlo) / (wd if wd > 1e-300 else 1e-300)
            if vk < nlo or vk >= nhi:
                nch[k] = True
                nn = 0
                for col in range(1, levels + 1):
                    if need_cum0[cn, col] <= vk:
                        nn += 1
                if nn > 3:
                    nn = 3
                lo = need_cum0[cn, nn]
                wd = need_cum0[cn, nn + 1] - lo
                w = (vk - lo) / (wd if wd > 1e-300 else 1e-300)
                need[i] = nn
        ph = p_hosp[cA[k]]
        if wait_mult != 1.0 and hc_wait[i] > 0:
            ph = ph * wait_mult
            if ph > 0.95:
                ph = 0.95
        if not is_away[f]:
            if w < ph:
                n_h += 1
            elif w < ph + p_hospice[cA[k]]:
                n_hs += 1
    return fin, changed, nch, n_h, n_hs


@njit(cache=True)
def touched(looked_at, A, cand, new):
    """Everyone looked at, wanting a place or new this month, once each, in slot order
    (``looked_at`` is reused as the mark)."""
    looked_at[:] = False
    for k in range(len(A)):
        looked_at[A[k]] = True
    for k in range(len(cand)):
        looked_at[cand[k]] = True
    for k in range(len(new)):
        looked_at[new[k]] = True
    n = 0
    for i in range(len(looked_at)):
        if looked_at[i]:
            n += 1
    out = np.empty(n, dtype=np.int64)
    j = 0
    for i in range(len(looked_at)):
        if looked_at[i]:
            out[j] = i
            j += 1
    return out
