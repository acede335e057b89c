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
- ``touched``: everyone whose keys may have changed, in slot order;
- ``recode_groups``, ``count_group_flows``: the breakdowns by area, segment and age band
  (``simulation/breakdowns.py``): the changed slots' cross codes and counts, the month's flows.

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
def due(next_change, T, segments, buf):
    """``np.flatnonzero(next_change == T)`` (``buf``: scratch of at least the slots' length).

    ``segments`` (rows of first, end slot, in slot order) hold every slot anyone has arrived in:
    the census and the register, then each entry state's block as far as it is used; the rest
    are empty (dead cell, never due, never looked at), so the passes skip them."""
    j = 0
    for g in range(len(segments)):
        for i in range(segments[g, 0], segments[g, 1]):
            if next_change[i] == T:
                buf[j] = i
                j += 1
    return buf[:j].copy()


@njit(cache=True)
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
def look(u, cell, q_lo32, q_hi32, qslots, state, n_live, hc_wait, by_wait, segments, looked_at, buf):
    """Who is looked at one by one this month (slot order): a uniform outside its cell's quiet
    interval, a queued person present, and (``by_wait``) anyone waiting for home care."""
    looked_at[:] = False
    for k in range(len(qslots)):
        q = qslots[k]
        if state[q] < n_live:
            looked_at[q] = True
    for g in range(len(segments)):
        for i in range(segments[g, 0], segments[g, 1]):   # no branches: vectorised
            c = cell[i]
            x = u[i]
            looked_at[i] = looked_at[i] | (x < q_lo32[c]) | (x >= q_hi32[c])
        if by_wait:
            for i in range(segments[g, 0], segments[g, 1]):
                looked_at[i] = looked_at[i] | (hc_wait[i] > 0)
    j = 0
    for g in range(len(segments)):
        for i in range(segments[g, 0], segments[g, 1]):
            if looked_at[i]:
                buf[j] = i
                j += 1
    return buf[:j].copy()


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
    (final states, state changed, need changed, each one's within-month admission (0 none, 1
    hospital, 2 hospice: who they were, for the breakdowns), hospital and hospice counts)."""
    n_live, r_need, r_age, r_sexseg, r_mis = dims[0], dims[1], dims[2], dims[3], dims[4]
    n = len(A)
    fin = np.empty(n, dtype=np.int64)
    changed = np.zeros(n, dtype=np.bool_)
    nch = np.zeros(n, dtype=np.bool_)
    ev = np.zeros(n, dtype=np.int8)
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
                ev[k] = 1
            elif w < ph + p_hospice[cA[k]]:
                n_hs += 1
                ev[k] = 2
    return fin, changed, nch, ev, n_h, n_hs


@njit(cache=True)
def touched(looked_at, A, cand, new, segments, buf):
    """Everyone looked at, wanting a place or new this month, once each, in slot order
    (``looked_at`` is reused as the mark)."""
    looked_at[:] = False
    for k in range(len(A)):
        looked_at[A[k]] = True
    for k in range(len(cand)):
        looked_at[cand[k]] = True
    for k in range(len(new)):
        looked_at[new[k]] = True
    j = 0
    for g in range(len(segments)):
        for i in range(segments[g, 0], segments[g, 1]):
            if looked_at[i]:
                buf[j] = i
                j += 1
    return buf[:j].copy()


@njit(cache=True)
def destinations(A, s0, d, t, place, pool_state, key, discharge_salt, discharge_share, queue,
                 n_live, community, is_away, is_care):
    """Where each looked-at slot goes: leaving hospital or hospice for a home, a care-home
    resident goes back to their bed and others' draws of a care home become admissions only in
    the discharge share (``ForecastModel._discharge``); a queued person keeps wanting their place
    unless they die, leave or go to hospital or hospice. Returns (queue wanted, kept waiting,
    destination, moved)."""
    n = len(A)
    qA = np.empty(n, dtype=np.int64)
    override = np.zeros(n, dtype=np.bool_)
    dest = np.empty(n, dtype=np.int64)
    moved = np.zeros(n, dtype=np.bool_)
    salt = discharge_salt + np.uint64(t)
    for k in range(n):
        i = A[k]
        s = s0[k]
        dk = d[k]
        if is_away[s] and dk < n_live and not is_away[dk]:
            holds = place[i]
            home = pool_state[holds] if holds >= 0 else community
            resident = is_care[home]
            to_care = is_care[dk]
            z = salt + (key[i] + _ONE) * _G
            z = (z ^ (z >> _S30)) * _M1
            z = (z ^ (z >> _S27)) * _M2
            z = z ^ (z >> _S31)
            new_admission = np.float64(z >> _S11) / _TWO53 < discharge_share[dk]
            if resident and not to_care:
                dk = home
            elif not resident and to_care and not new_admission:
                dk = home
        q = queue[i]
        qA[k] = q
        keep = dk >= n_live or (is_away[dk] and dk != s) or (is_care[dk] and dk != s and dk != q)
        ov = q >= 0 and not keep
        override[k] = ov
        dk = s if ov else dk
        dest[k] = dk
        moved[k] = dk != s
    return qA, override, dest, moved


@njit(cache=True)
def _set_place(i, new, place, occ, moved_in, moved_off, area, pool_area):
    """``ForecastModel._set_place`` for one slot (counted); occupancy holds whole numbers."""
    old = place[i]
    if old >= 0:
        occ[old] -= 1.0
        moved_off[old] += 1.0
    if new >= 0:
        occ[new] += 1.0
        moved_in[new] += 1.0
        area[i] = pool_area[new]
    place[i] = new


@njit(cache=True)
def move_unrationed(A, dest, moved, T, state, place, queue, hours_dem, entered, occ, moved_in, moved_off,
                    area, pool_area, pool_state, pref, constrained, admissions, n_live, community,
                    is_away, is_place):
    """``ForecastModel._move_unrationed``: exits, hospital and hospice, the community, back to
    one's own place, unconstrained places; returns (the exits, who seeks a constrained place)."""
    n = len(A)
    seek_c = np.zeros(n, dtype=np.bool_)
    n_ex = 0
    for k in range(n):
        if moved[k] and dest[k] >= n_live:
            n_ex += 1
    exits = np.empty(n_ex, dtype=np.int64)
    j = 0
    # in the numpy path's order: every exit, then every move to the community, then the rest
    for k in range(n):
        if moved[k] and dest[k] >= n_live:
            i = A[k]
            exits[j] = i
            j += 1
            state[i] = dest[k]
            _set_place(i, -1, place, occ, moved_in, moved_off, area, pool_area)
            queue[i] = -1
            hours_dem[i] = 0.0
    for k in range(n):
        if moved[k] and dest[k] == community:
            _set_place(A[k], -1, place, occ, moved_in, moved_off, area, pool_area)
    for k in range(n):
        if not moved[k]:
            continue
        i = A[k]
        dk = dest[k]
        if is_away[dk] or dk == community:
            state[i] = dk
        elif is_place[dk]:
            holds = place[i]
            if holds >= 0 and pool_state[holds] == dk:
                state[i] = dk
            elif constrained[dk]:
                seek_c[k] = True
            else:
                state[i] = dk
                _set_place(i, pref[dk, area[i] + 1], place, occ, moved_in, moved_off, area, pool_area)
                admissions[dk] += 1.0
        if not seek_c[k]:
            entered[i] = T
    return exits, seek_c


@njit(cache=True)
def home_care_demand(touched, A, changed, nch, new, a_slots, state, need, hours_by_need, max_package,
                     keys_changed, hours_dem, n_states, is_home):
    """Home-care demand of the touched slots whose keys changed (state, need, arrival or a new
    place): the hours their state and need carry, capped per package."""
    for k in range(len(A)):
        if changed[k] or nch[k]:
            keys_changed[A[k]] = True
    for k in range(len(new)):
        keys_changed[new[k]] = True
    for k in range(len(a_slots)):
        keys_changed[a_slots[k]] = True
    for k in range(len(touched)):
        i = touched[k]
        if keys_changed[i]:
            st = state[i]
            nd = need[i]
            h = 0.0
            if is_home[st] and nd > 0:
                h = hours_by_need[st if st < n_states - 1 else n_states - 1, nd]
            hours_dem[i] = h if h < max_package else max_package
            keys_changed[i] = False


@njit(cache=True)
def deliver(touched, hours_dem, hours_del):
    """No team capped: delivered = demanded for the touched slots; returns (hours before, after,
    change in people with hours) so the caller sums the hours as numpy does."""
    n = len(touched)
    old = np.empty(n)
    now = np.empty(n)
    people = 0
    for k in range(n):
        i = touched[k]
        old[k] = hours_del[i]
        now[k] = hours_dem[i]
        people += (now[k] != 0.0) - (old[k] != 0.0)
        hours_del[i] = now[k]
    return old, now, people


@njit(cache=True)
def month_counts(fin, s0, exit_states, died, moved_out, hospital, hospice):
    """Deaths, moves out, and entries to and exits from hospital and hospice this month."""
    n_died = 0
    n_out = 0
    for k in range(len(exit_states)):
        n_died += exit_states[k] == died
        n_out += exit_states[k] == moved_out
    eh = xh = ehs = xhs = 0
    for k in range(len(fin)):
        f, s = fin[k], s0[k]
        eh += f == hospital and s != hospital
        xh += s == hospital and f != hospital
        ehs += f == hospice and s != hospice
        xhs += s == hospice and f != hospice
    return n_died, n_out, eh, xh, ehs, xhs


@njit(cache=True)
def _splitmix(salt, k):
    """``units.hashed_uniform`` of one (salt, slot key)."""
    z = salt + (k + _ONE) * _G
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) / _TWO53


@njit(cache=True)
def _allocate_ordered(cand, want, prio, wait, pref, free, pool_state, unit_salt, pool_unit, key, n_states, out):
    """``units.allocate`` once everyone may get a place: each pool admits its own preferers in
    rationing order, then those left take any free place of the state they want."""
    n = len(cand)
    npool = len(free)
    demand = np.zeros(npool, dtype=np.int64)
    for k in range(n):
        demand[pref[k]] += 1
    fits = True
    for j in range(npool):
        if demand[j] > max(free[j], 0.0):
            fits = False
    if fits:
        for j in range(npool):
            free[j] -= demand[j]
        for k in range(n):
            out[k] = pref[k]
        return
    sort_key = np.empty(n)
    for k in range(n):
        tb = _splitmix(unit_salt[pool_unit[pref[k]]], key[cand[k]])
        w = wait[k] if wait[k] < 1023 else 1023
        sort_key[k] = tb - (np.float64(prio[k]) * 1024.0 + np.float64(w))
    order = np.argsort(sort_key, kind="mergesort")
    # pass 1: own pool, by rank within it
    seen = np.zeros(npool, dtype=np.int64)
    ok = np.zeros(n, dtype=np.bool_)
    for r in range(n):
        k = order[r]
        p = pref[k]
        ok[r] = np.float64(seen[p]) < max(free[p], 0.0)
        seen[p] += 1
    for r in range(n):
        if ok[r]:
            k = order[r]
            out[k] = pref[k]
            free[pref[k]] -= 1
    # pass 2: any pool of the wanted state, those with most places free first
    n_left = n - ok.sum()
    n_open = 0
    for j in range(npool):
        if free[j] >= 1:
            n_open += 1
    if n_left == 0 or n_open == 0:
        return
    pools = np.empty(n_open, dtype=np.int64)
    c = 0
    for j in range(npool):
        if free[j] >= 1:
            pools[c] = j
            c += 1
    # by state, then most free places first, ties in pool order (np.lexsort's stable order)
    for a in range(1, n_open):
        x = pools[a]
        b = a - 1
        while b >= 0 and (pool_state[pools[b]] > pool_state[x]
                          or (pool_state[pools[b]] == pool_state[x] and -free[pools[b]] > -free[x])):
            pools[b + 1] = pools[b]
            b -= 1
        pools[b + 1] = x
    reps = np.empty(n_open, dtype=np.int64)
    for a in range(n_open):
        reps[a] = np.int64(np.floor(free[pools[a]]))
    places = np.repeat(pools, reps)
    count = np.zeros(n_states, dtype=np.int64)
    for a in range(len(places)):
        count[pool_state[places[a]]] += 1
    offset = np.cumsum(count) - count
    taken = np.zeros(n_states, dtype=np.int64)
    for r in range(n):
        if ok[r]:
            continue
        k = order[r]
        s = want[k]
        if taken[s] < count[s]:
            g = places[offset[s] + taken[s]]
            out[k] = g
            free[g] -= 1
        taken[s] += 1


@njit(cache=True)
def allocate(cand, want, prio, wait, pref, free, pool_state, unit_salt, pool_unit, key, n_states):
    """``units.allocate`` (same arguments, the model's arrays spelled out): the pool each
    candidate gets or -1; ``free`` is changed in place."""
    n = len(cand)
    out = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return out
    npool = len(free)
    demand = np.zeros(npool, dtype=np.int64)
    for k in range(n):
        demand[pref[k]] += 1
    fits = True
    for j in range(npool):
        if demand[j] > max(free[j], 0.0):
            fits = False
    if fits:
        for j in range(npool):
            free[j] -= demand[j]
        for k in range(n):
            out[k] = pref[k]
        return out
    # who cannot get a place whatever the order is left out (changes nobody's outcome)
    whole = np.zeros(n_states, dtype=np.bool_)
    for j in range(npool):
        if free[j] >= 1:
            whole[pool_state[j]] = True
    keep = np.empty(n, dtype=np.int64)
    m = 0
    for k in range(n):
        if free[pref[k]] > 0 or whole[want[k]]:
            keep[m] = k
            m += 1
    if m == n:
        _allocate_ordered(cand, want, prio, wait, pref, free, pool_state, unit_salt, pool_unit, key, n_states, out)
        return out
    if m:
        keep = keep[:m]
        sub = np.full(m, -1, dtype=np.int64)
        _allocate_ordered(cand[keep], want[keep], prio[keep], wait[keep], pref[keep], free, pool_state, unit_salt,
                          pool_unit, key, n_states, sub)
        for a in range(m):
            out[keep[a]] = sub[a]
    return out


@njit(cache=True)
def admit(cand, want, got, ext, T, state, place, occ, moved_in, moved_off, area, pool_area, entered, queue, band,
          wait, admissions, waiting, hospital, residential, nursing):
    """Who got a place (or a placement outside) moves in; the rest queue for what they want.
    Returns (admitted slots, arrivals from outside among them, care-home admissions from
    hospital, the newly queued)."""
    n = len(cand)
    n_adm = 0
    for k in range(n):
        n_adm += ext[k] or got[k] >= 0
    a_slots = np.empty(n_adm, dtype=np.int64)
    newly = np.empty(n - n_adm, dtype=np.int64)
    n_arrived = 0
    from_hospital = 0
    a = 0
    b = 0
    for k in range(n):
        i = cand[k]
        w = want[k]
        if ext[k] or got[k] >= 0:
            a_slots[a] = i
            a += 1
            n_arrived += state[i] == waiting
            from_hospital += state[i] == hospital and (w == residential or w == nursing)
            _set_place(i, got[k], place, occ, moved_in, moved_off, area, pool_area)
            state[i] = w
            entered[i] = T
            queue[i] = -1
            band[i] = -1
            wait[i] = 0
            admissions[w] += 1.0
        else:
            if queue[i] < 0:
                newly[b] = i
                b += 1
            queue[i] = w
    return a_slots, n_arrived, from_hospital, newly[:b].copy()


@njit(cache=True)
def arrive(slots, pick, T, tmpl, tmpl_hours, tmpl_age_m, r_seg, never, max_package, constrained, state, need, birth,
           sexseg, area, team, entered, hours_dem, queue, wait, place, occ, moved_in, moved_off, pool_area, pref,
           admissions, n_live, waiting, is_home, is_place):
    """``ForecastModel._arrive`` and the counts ``_arrivals`` takes of it: newcomers copy the
    recent arrivals ``pick`` (``tmpl``: their state, need, sex, segment, area, team, pool);
    those entering a constrained kind of place wait outside. Returns (arrived into a live
    state, the slots now waiting)."""
    n = len(slots)
    w_slots = np.empty(n, dtype=np.int64)
    n_w = 0
    n_live_in = 0
    for k in range(n):
        i = slots[k]
        p = pick[k]
        s = tmpl[0][p]
        need[i] = tmpl[1][p]
        age = tmpl_age_m[p]
        birth[i] = T - age if age >= 0 else never
        sexseg[i] = tmpl[2][p] * r_seg + tmpl[3][p] + 1
        area[i] = tmpl[4][p]
        team[i] = tmpl[5][p]
        entered[i] = T
        h = tmpl_hours[p] if is_home[s] else 0.0
        hours_dem[i] = h if h < max_package else max_package
        if constrained[s]:
            state[i] = waiting
            queue[i] = s
            wait[i] = 0
            w_slots[n_w] = i
            n_w += 1
        else:
            state[i] = s
            if is_place[s]:
                pl = tmpl[6][p]
                _set_place(i, pl if pl >= 0 else pref[s, area[i] + 1], place, occ, moved_in, moved_off, area,
                           pool_area)
                admissions[s] += 1.0
        if state[i] < n_live:
            n_live_in += 1
    return n_live_in, w_slots[:n_w].copy()


@njit(cache=True)
def candidates(A, seek_c, override, dest, qA, qslots, state, queue, waiting):
    """Who wants a constrained place this month and which: new seekers, queued people whose
    draw kept them waiting, then those waiting outside (in that order, as the numpy path)."""
    n = 0
    for k in range(len(A)):
        n += seek_c[k] + override[k]
    for k in range(len(qslots)):
        n += state[qslots[k]] == waiting
    cand = np.empty(n, dtype=np.int64)
    want = np.empty(n, dtype=np.int64)
    j = 0
    for k in range(len(A)):
        if seek_c[k]:
            cand[j] = A[k]
            want[j] = dest[k]
            j += 1
    for k in range(len(A)):
        if override[k]:
            cand[j] = A[k]
            want[j] = qA[k]
            j += 1
    for k in range(len(qslots)):
        q = qslots[k]
        if state[q] == waiting:
            cand[j] = q
            want[j] = queue[q]
            j += 1
    return cand, want


@njit(cache=True)
def still_queued(qslots, newly, queue):
    """The queue's slots after this month's rationing: the old ones still waiting, then the new."""
    n = 0
    for k in range(len(qslots)):
        n += queue[qslots[k]] >= 0
    for k in range(len(newly)):
        n += queue[newly[k]] >= 0
    out = np.empty(n, dtype=np.int64)
    j = 0
    for k in range(len(qslots)):
        if queue[qslots[k]] >= 0:
            out[j] = qslots[k]
            j += 1
    for k in range(len(newly)):
        if queue[newly[k]] >= 0:
            out[j] = newly[k]
            j += 1
    return out


@njit(cache=True)
def recode_groups(idx, T, state, code, area, sexseg, birth, hours_del, area_part, seg_part, age_lut, xc, stock,
                  stock_counts, hours, hours_cross, carers_cross, n_live, n_codes):
    """``breakdowns.GroupCounter.recode`` for the (unique) slots ``idx``: their cross codes
    afresh, the people counts and the delivered hours moved with them. The hours are added in
    slot order, then the old ones taken off in slot order, as the numpy path's ``np.add.at``
    and ``np.subtract.at`` do, so the floats are the same bit for bit."""
    n = len(idx)
    last = len(age_lut) - 1
    old_xc = np.empty(n, dtype=np.int64)
    for k in range(n):
        i = idx[k]
        old_xc[k] = xc[i]
        m = T + 1 - birth[i]
        if m < 0:
            m = 0
        elif m > last:
            m = last
        x = area_part[area[i] + 1] + seg_part[sexseg[i]] + age_lut[m]
        xc[i] = x
        key = x * n_codes + code[i] if state[i] < n_live else -1
        old = stock[i]
        if key >= 0:
            stock_counts[key] += 1.0
        if old >= 0:
            stock_counts[old] -= 1.0
        stock[i] = key
    for k in range(n):
        i = idx[k]
        if hours_del[i] != 0.0:
            hours_cross[xc[i]] += hours_del[i]
    for k in range(n):
        i = idx[k]
        if hours[i] != 0.0:
            hours_cross[old_xc[k]] -= hours[i]
    for k in range(n):
        i = idx[k]
        if hours_del[i] != 0.0:
            carers_cross[xc[i]] += 1.0
        if hours[i] != 0.0:
            carers_cross[old_xc[k]] -= 1.0
        hours[i] = hours_del[i]


@njit(cache=True)
def count_group_flows(row, nraw, xc, state, exits, died, moved_out, r_deaths, r_moved, adm, adm0, place_of_state, A,
                      s0, fin, ev, move_h, move_hs, event, qslots, queue, hospital, r_delayed, wait0, unmet,
                      r_waiting, r_unmet):
    """``breakdowns.GroupCounter.count``'s flows for the month into ``row`` (cross code x raw
    counter): deaths and leavers, admissions by place, hospital and hospice entries, exits and
    within-month admissions, delayed discharges and waiting lists, and (``unmet`` not empty)
    unmet home-care hours in slot order, as the numpy path adds them."""
    for k in range(len(exits)):
        i = exits[k]
        if state[i] == died:
            row[xc[i] * nraw + r_deaths] += 1.0
        elif state[i] == moved_out:
            row[xc[i] * nraw + r_moved] += 1.0
    for k in range(len(adm)):
        i = adm[k]
        row[xc[i] * nraw + adm0 + place_of_state[state[i]]] += 1.0
    for k in range(len(A)):
        b = xc[A[k]] * nraw
        r = move_h[s0[k], fin[k]]
        if r >= 0:
            row[b + r] += 1.0
        r = move_hs[s0[k], fin[k]]
        if r >= 0:
            row[b + r] += 1.0
        r = event[ev[k]]
        if r >= 0:
            row[b + r] += 1.0
    for k in range(len(qslots)):
        i = qslots[k]
        b = xc[i] * nraw
        if state[i] == hospital:
            row[b + r_delayed] += 1.0
        row[b + wait0 + place_of_state[queue[i]]] += 1.0
    for i in range(len(unmet)):
        if unmet[i] > 1e-9:
            row[xc[i] * nraw + r_waiting] += 1.0
    for i in range(len(unmet)):
        if unmet[i] > 1e-9:
            row[xc[i] * nraw + r_unmet] += unmet[i]
