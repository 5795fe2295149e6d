/*
 * LeaseProtocol.pml: a Promela model of fsweep's lease protocol, checked exhaustively by spin
 * (Debian package `spin`). Tests/ClusterTests/LeaseProtocolModelTests.swift runs it; docs/lease-protocol.md
 * explains it.
 *
 * The Swift code is the truth. Each handler below names the function it mirrors (Coordinator*.swift,
 * SweepStore+Leases.swift, SweepStore+Results.swift, Worker.swift, Worker+Trial.swift); when the
 * protocol changes, change this model with it.
 *
 * WHAT IS MODELLED
 *   - The store (durable): per trial its state (pending/leased/done/failed), current lease id, owner and
 *     started flag; the leases table (trial and owner of every granted lease id, and whether the lease
 *     has ended: released, failed or completed); the fencing counter; the lease id of a done trial's
 *     result.
 *   - The coordinator (volatile): the worker table (registered, the in-memory lease and its started
 *     flag, the reserved next lease, `cancelling`) and the orphan table. A crash, or a graceful shutdown
 *     that first re-queues the leases and reservations of registered workers (`drain`), loses all of it;
 *     the restart loads the store's live leases as orphans (`onStart`). At most CCRASH of these.
 *   - The reservation ("prefetched lease"): after `assign` gives a worker a lease it may grant the worker
 *     one more pending trial in the store and keep it in memory unsent (the model reserves or not, so
 *     every behaviour without reservations stays reachable). `assign` for an idle worker promotes its
 *     reservation (sends its LEASE) before granting anything; with nothing pending it steals another
 *     worker's reservation (released, then granted afresh). Dropping the worker and `drain` release it;
 *     a stall or time-limit cancel, `forgetLease`, `refuseStale` and a refused result keep it.
 *   - The early send: a promotion while handling a RESULT or FAIL sends its LEASE before the batch with
 *     that RESULT or FAIL commits (the reservation was committed in an earlier batch). A crash or a failed
 *     commit may fall in between: the LEASE is out, the RESULT or FAIL had no effect, memory is lost
 *     (`earlySendCrash`, counted in CCRASH). The model allows it for every RESULT or FAIL whose handler
 *     promotes: the one ending the worker's lease, and a late one after a cancel. A RESULT or FAIL naming
 *     the lease the worker holds lets the LEASE leave before the store has judged it (`leaseAhead`), so
 *     there the send is allowed whatever the verdict, and a refused result promotes the reservation too.
 *   - After a restart, a READY takes back the orphan the worker runs, else one whose result is in its
 *     outbox, else its lowest (`reconcile`); its other orphans stay orphans until the adoption grace ends
 *     or their result is stored (which removes them from the orphan table).
 *   - NW workers (default 2). A worker runs at most one lease. Its outbox of unacknowledged results is on
 *     disk (written before the RESULT is sent), so a crash (at most WCRASH in all) loses the running
 *     trial and keeps the outbox; the restarted worker sends READY naming its outbox and sends every
 *     outbox result again. -DLOSE_OUTBOX also lets a crash lose the outbox (a failed disk write).
 *   - NT trials; at most MAXL lease grants (fencing ids 1..MAXL). When the ids are used up nothing more
 *     is granted: a bound of the search, not of the protocol.
 *   - The network: one bag of at most QC messages towards the coordinator (sender, authenticated) and
 *     one of at most QW towards the workers. Any message in a bag may be delivered next (reordering) or
 *     be lost; a message sent to a full bag is lost. Messages in flight survive crashes (the real network
 *     drops more; keeping them only adds behaviours).
 *   - Time is not modelled by clocks. Everything a timer triggers is an event that may happen at any
 *     moment: liveness expiry (`checkLiveness`, and `onPeerUnreachable`), stall or time-limit
 *     cancellation, the end of `cancelGrace`, the end of the adoption grace (`expireOrphans`), a tick's
 *     assignment, a trial finishing or failing, heartbeats, and a worker re-registering after coordinator
 *     silence (READY, then its outbox again).
 *
 * WHAT IS ABSTRACTED
 *   - CANCEL is not sent: it only makes a worker end its trial sooner, and a running trial may end at
 *     any moment anyway. The coordinator's `cancelling` mark is modelled.
 *   - ERROR not-registered is not sent: its only effect is a READY, and a worker may re-register at
 *     any moment anyway. Coordinator heartbeats (they only reset a worker's silence timer) and
 *     DISCONNECT (sweep done; a stopping worker's goodbye, which the coordinator treats like a liveness
 *     expiry) are not modelled.
 *   - An idle worker's heartbeat (it makes the coordinator re-send a lease that never started) is sent
 *     only with -DIDLE_HEARTBEAT: READY re-sends such a lease the same way. PROGRESS is modelled by the
 *     heartbeat naming the lease (both start the lease in the store or find it stale).
 *   - Results arrive whole (RESULT/PULL/CHUNK is one message); `judgeResult` before an upload is the
 *     judge `complete` applies again. A result over the size limit (`tooLarge`) is not modelled.
 *   - Attempts are not counted: a release re-queues; a FAIL is retryable or permanent by the worker's
 *     choice, so trials still reach `failed` (a failed trial is terminal: it can violate nothing).
 *   - Owners: a worker's owner (worker id + connection identity) is its index; a worker keeps its id
 *     across restarts (WorkerSettings.workerID) and the network authenticates the sender.
 *   - Store errors (a throwing transaction) are not modelled.
 *
 * PROPERTIES (asserted after every step; pan prints the name of the one violated)
 *   A worker HOLDS trial t's live lease when it is executing t under a lease L (wcur) that the store has
 *   not taken back (L has not ended: not released, failed or completed). In the store the one lease of a
 *   trial that has not ended is its current lease (store_one_live_lease), so this is "a lease the store
 *   still considers current". A worker still executing an ended lease (the coordinator believed it dead,
 *   or a stale LEASE arrived late) holds nothing: that is allowed, and its result counts only under (c).
 *   (a)  a_one_holder: no two workers hold the same trial's live lease.
 *        a_holder_owns: a holder is the store's owner of that lease.
 *   (a0) store_one_live_lease: every granted lease that has not ended is its trial's current lease.
 *        mem_agrees: every lease in the coordinator's memory (worker table, orphans) is live in the store
 *        and owned by that worker; a reservation is also not its worker's lease, not an orphan and never
 *        started; and every live lease is in memory (its owner's lease or reservation, or an orphan), so
 *        none is forgotten.
 *   (b)  b_stored_once: the store records at most one result per trial: a done trial is never completed
 *        again (a re-sent result is a duplicate).
 *   (c)  c_fenced: a result is stored only under a lease the store granted for that trial to the sender,
 *        and only while no other lease of the trial is live; a worker runs only leases granted to it.
 *   (d)  d_no_rerun: a worker never starts the same lease twice between crashes. The coordinator re-sends
 *        a lease it has not seen start (after a READY or an idle heartbeat that crossed the first copy in
 *        flight, or after a lost FAIL); the worker remembers the leases it ended (`Worker.ended`) and
 *        answers such a copy with its FAIL again, or not at all, instead of running it.
 *
 * BROKEN VARIANTS (each must make spin report a violation; LeaseProtocolModelTests checks that it does)
 *   -DBROKEN_FENCE  complete() stores a result of a leased or pending trial without checking the lease
 *                   id and owner                                           -> c_fenced
 *   -DBROKEN_DONE   complete() stores a result of a done trial again       -> b_stored_once
 *   -DBROKEN_FORGET the worker remembers only its running lease and outbox, not the leases it ended
 *                                                                          -> d_no_rerun
 *   -DBROKEN_RESET  opening the store puts leased trials back to pending (fsweep before leases were recorded)
 *                                                                          -> store_one_live_lease;
 *                   with -DNO_STORE_CHECK (skips a0 and a_holder_owns) pan -c0 also reports a_one_holder
 *   -DBROKEN_EARLY  the early send uses a lease granted in the same batch (the worker had no reservation),
 *                   and the crash rolls the grant back: the worker runs a lease the store never granted
 *                                                                          -> c_fenced
 *
 * WITNESSES (-DWITNESS=n asserts that step n never happens; the counterexample is a run to it; the test
 *   runs 2-6 in the two-trial configuration with pan -m bounding the depth)
 *   1 no_reservation  2 no_promotion  3 no_early_send  4 no_steal  5 no_orphan_result (a result stored
 *   under an orphan lease)  6 no_adopt_skipping (a READY takes an orphan while a lower one of its own stays)
 *
 * RUN BY HAND (in a scratch directory)
 *   spin -a LeaseProtocol.pml && cc -O2 -DSAFETY -o pan pan.c && ./pan -m100000
 *   "errors: 0" and the state count end the output. Bounds: -DNW=, -DNT=, -DMAXL=, -DQC=, -DQW=,
 *   -DCCRASH=, -DWCRASH= on the spin command line (docs/lease-protocol.md lists run times). After a violation,
 *   `spin -t -DBROKEN_FENCE LeaseProtocol.pml` (the same -D flags) replays the counterexample as readable
 *   lines; add -p for every statement.
 */

#ifndef NW
#define NW 2
#endif
#ifndef NT
#define NT 1
#endif
#ifndef MAXL
#define MAXL 2
#endif
#ifndef CCRASH
#define CCRASH 1
#endif
#ifndef WCRASH
#define WCRASH 1
#endif
#ifndef QC
#define QC 2
#endif
#ifndef QW
#define QW 2
#endif

#define NONE 255
#define PENDING 0
#define LEASED 1
#define DONE 2
#define FAILED 3
#define BIT(l) (1 << (l))

mtype = { READY, HB, RESULT, FAIL, LEASE, ACK, REFUSED };

/* Sorted sends keep a bag's contents canonical (a bag is a multiset). READY: lease = the running lease
   (0 = none), extra = the outbox as a mask of lease ids. FAIL: extra = 1 for a permanent failure. */
chan toC = [QC] of { mtype, byte, byte, byte, byte };   /* kind, sender, lease, trial, extra */
chan toW = [QW] of { mtype, byte, byte };               /* kind, destination, lease */

/* ---- the store (durable) ---- */
byte tstate[NT];          /* trials.state */
byte tlease[NT];          /* trials.lease_id (0 = none) */
byte towner[NT] = NONE;   /* trials.worker + trials.lease_owner */
bool tstarted[NT];        /* trials.lease_started */
byte resultLease[NT];     /* results.lease_id */
byte nextLease = 1;       /* the leases table's AUTOINCREMENT: fencing ids only grow */
byte leaseTrial[MAXL + 1];  /* leases.trial_id */
byte leaseOwner[MAXL + 1];  /* leases.worker + leases.owner */
bool leaseEnded[MAXL + 1];  /* leases.ended_at is set */

/* ---- the coordinator (volatile) ---- */
bool reg[NW];             /* workers[peer] exists */
byte mlease[NW];          /* WorkerEntry.lease (0 = none) */
bool mstarted[NW];        /* WorkerEntry.lease.started */
byte cancelling[NW];      /* WorkerEntry.cancelling: trial + 1 (0 = none) */
byte mres[NW];            /* WorkerEntry.next: the reserved lease (0 = none), granted in the store, not sent */
byte orphans;             /* Coordinator.orphans: mask of lease ids */

/* ---- the workers ---- */
byte wcur[NW];            /* Worker.current (0 = none) */
byte outbox[NW];          /* Worker.outbox: mask of lease ids */
byte wran[NW];            /* Worker.ended + current: leases started since the last crash (mask) */
byte wfail[NW];           /* Worker.ended[].failure != nil (mask) */
byte wperm[NW];           /* ... and the failure was permanent (mask) */

/* ---- bounds and ghosts ---- */
byte ccrashes;
byte wcrashes;
byte stored[NT];          /* results committed per trial */
byte ran[NW];             /* ghost: leases each worker started since its last crash */
#define FORGET_RUNS(w) ran[w] = 0; wran[w] = 0; wfail[w] = 0; wperm[w] = 0

/* Temporaries of one atomic step: not part of the state. */
hidden byte k, src, a, b, x, k0, s0, a0, b0, x0, k1, s1, a1, b1, x1, t, l, i, j, verdict, ok;
hidden byte rsv;          /* this step's choice: whether `assign` reserves a next lease when it can */
hidden byte a_one_holder, a_holder_owns, store_one_live_lease, mem_agrees, b_stored_once, c_fenced, d_no_rerun;

/* -DWITNESS=n asserts that step n never happens, so that pan's counterexample is a run reaching it (the
   test checks each is reachable: a model whose new steps never fire would prove nothing). */
hidden byte no_reservation, no_promotion, no_early_send, no_steal, no_orphan_result, no_adopt_skipping;
#ifdef WITNESS
#define REACHED(n, name) name = (WITNESS != n); assert(name)
#else
#define REACHED(n, name) skip
#endif

/* ---------------------------------------------------------------- the network */

inline sendC(w, kind, lease, trial, extra) {
    if
    :: nfull(toC) -> toC!!kind, w, lease, trial, extra
    :: full(toC) -> printf("net: bag to the coordinator full, message lost\n")
    fi
}

inline sendW(w, kind, lease) {
    if
    :: nfull(toW) -> toW!!kind, w, lease
    :: full(toW) -> printf("net: bag to the workers full, message lost\n")
    fi
}

/* Removes the n-th message of a bag into k, src, a, b, x. */
inline takeC(n) {
    if
    :: n == 0 -> toC?k, src, a, b, x
    :: n == 1 -> toC?k0, s0, a0, b0, x0; toC?k, src, a, b, x; toC!!k0, s0, a0, b0, x0
    :: n == 2 -> toC?k0, s0, a0, b0, x0; toC?k1, s1, a1, b1, x1; toC?k, src, a, b, x;
                 toC!!k0, s0, a0, b0, x0; toC!!k1, s1, a1, b1, x1
    fi
}

inline takeW(n) {
    if
    :: n == 0 -> toW?k, src, a
    :: n == 1 -> toW?k0, s0, a0; toW?k, src, a; toW!!k0, s0, a0
    :: n == 2 -> toW?k0, s0, a0; toW?k1, s1, a1; toW?k, src, a; toW!!k0, s0, a0; toW!!k1, s1, a1
    fi
}

/* ---------------------------------------------------------------- properties */

inline check() {
    b_stored_once = 1;
    i = 0;
    do
    :: i < NT -> b_stored_once = b_stored_once && stored[i] <= 1; i++
    :: else -> break
    od;
    assert(b_stored_once);
#ifndef NO_STORE_CHECK
    store_one_live_lease = 1;
    l = 1;
    do
    :: l < nextLease ->
        store_one_live_lease = store_one_live_lease && (leaseEnded[l]
            || (tstate[leaseTrial[l]] == LEASED && tlease[leaseTrial[l]] == l && towner[leaseTrial[l]] == leaseOwner[l]));
        l++
    :: else -> break
    od;
    assert(store_one_live_lease);
    mem_agrees = 1;
    i = 0;
    do
    :: i < NW ->
        mem_agrees = mem_agrees && (mlease[i] == 0
            || (reg[i] && !leaseEnded[mlease[i]] && leaseOwner[mlease[i]] == i && (orphans & BIT(mlease[i])) == 0));
        /* a reservation: live, this worker's, not its lease, not an orphan, never started */
        mem_agrees = mem_agrees && (mres[i] == 0
            || (reg[i] && mres[i] < nextLease && !leaseEnded[mres[i]] && leaseOwner[mres[i]] == i && mres[i] != mlease[i]
                && (orphans & BIT(mres[i])) == 0 && !tstarted[leaseTrial[mres[i]]]));
        i++
    :: else -> break
    od;
    l = 1;
    do
    :: l <= MAXL ->
        mem_agrees = mem_agrees && ((orphans & BIT(l)) == 0 || (l < nextLease && !leaseEnded[l]));
        mem_agrees = mem_agrees && (l >= nextLease || leaseEnded[l] || (orphans & BIT(l)) != 0
                                    || (reg[leaseOwner[l]] && (mlease[leaseOwner[l]] == l || mres[leaseOwner[l]] == l)));
        l++
    :: else -> break
    od;
    assert(mem_agrees);
#endif
    a_one_holder = 1;
    a_holder_owns = 1;
    i = 0;
    do
    :: i < NW ->
        if
        :: wcur[i] != 0 && !leaseEnded[wcur[i]] ->
            a_holder_owns = a_holder_owns && towner[leaseTrial[wcur[i]]] == i && tlease[leaseTrial[wcur[i]]] == wcur[i];
            j = i + 1;
            do
            :: j < NW ->
                a_one_holder = a_one_holder && (wcur[j] == 0 || leaseEnded[wcur[j]] || leaseTrial[wcur[j]] != leaseTrial[wcur[i]]);
                j++
            :: else -> break
            od
        :: else -> skip
        fi;
        i++
    :: else -> break
    od;
#ifndef NO_STORE_CHECK
    assert(a_holder_owns);
#endif
    assert(a_one_holder)
}

/* ---------------------------------------------------------------- the store (SweepStore+Leases, +Results) */

/* `SweepStore.start`: ok when `lease` is its trial's current lease held by `w`; marks it started. */
inline storeStart(lease, w) {
    ok = (lease > 0 && lease < nextLease && tstate[leaseTrial[lease]] == LEASED
          && tlease[leaseTrial[lease]] == lease && towner[leaseTrial[lease]] == w);
    if
    :: ok -> tstarted[leaseTrial[lease]] = true
    :: else -> skip
    fi
}

/* `SweepStore.release`: re-queues the trial when `lease` is its current lease; otherwise nothing. */
inline storeRelease(lease) {
    t = leaseTrial[lease];
    if
    :: tstate[t] == LEASED && tlease[t] == lease ->
        tstate[t] = PENDING; tlease[t] = 0; towner[t] = NONE; tstarted[t] = false; leaseEnded[lease] = true;
        printf("store: lease %d released, trial %d pending\n", lease, t)
    :: else -> skip
    fi
}

/* `SweepStore.judgeResult`: verdict 0 = stored, 1 = duplicate, 2 = refused. */
inline judge(trial, lease, w) {
    if
    :: trial >= NT -> verdict = 2
    :: trial < NT && tstate[trial] == DONE ->
#ifdef BROKEN_DONE
        verdict = 0
#else
        verdict = (resultLease[trial] == lease -> 1 : 2)
#endif
    :: trial < NT && tstate[trial] == LEASED ->
#ifdef BROKEN_FENCE
        verdict = 0
#else
        verdict = (tlease[trial] == lease && towner[trial] == w -> 0 : 2)
#endif
    :: trial < NT && tstate[trial] == PENDING ->
#ifdef BROKEN_FENCE
        verdict = 0
#else
        /* the leases row (lease, trial, owner) exists: a late result of a lease this worker held */
        verdict = (lease > 0 && lease < nextLease && leaseTrial[lease] == trial && leaseOwner[lease] == w -> 0 : 2)
#endif
    :: trial < NT && tstate[trial] == FAILED -> verdict = 2
    fi
}

/* `SweepStore.complete` after a `.stored` verdict, one transaction. (c) is checked on what it commits. */
inline storeComplete(trial, lease, w) {
    c_fenced = (lease > 0 && lease < nextLease && leaseTrial[lease] == trial && leaseOwner[lease] == w);
    l = 1;
    do
    :: l < nextLease -> c_fenced = c_fenced && (l == lease || leaseTrial[l] != trial || leaseEnded[l]); l++
    :: else -> break
    od;
    assert(c_fenced);
    storeStart(lease, w);
    stored[trial]++;
    resultLease[trial] = lease;
    tstate[trial] = DONE; tlease[trial] = 0; towner[trial] = NONE; tstarted[trial] = false;
    leaseEnded[lease] = true;
    printf("store: result of trial %d stored under lease %d from w%d\n", trial, lease, w)
}

/* `SweepStore.fail`: only the current lease's owner; a permanent failure fails the trial. */
inline storeFail(trial, lease, w, permanent) {
    storeStart(lease, w);
    if
    :: ok && leaseTrial[lease] == trial ->
        tstate[trial] = (permanent -> FAILED : PENDING);
        tlease[trial] = 0; towner[trial] = NONE; tstarted[trial] = false; leaseEnded[lease] = true;
        printf("store: lease %d failed (permanent: %d), trial %d pending or failed\n", lease, permanent, trial)
    :: else -> skip
    fi
}

/* ---------------------------------------------------------------- the coordinator */

/* t = the first pending trial in queue order (NT = none). */
inline firstPending() {
    t = 0;
    do
    :: t < NT && tstate[t] != PENDING -> t++
    :: else -> break
    od
}

/* `SweepStore.grantLease`: the first pending trial, leased to w (not started) under the next fencing id;
   l = that id, 0 when nothing is pending or the ids are used up. */
inline grantLease(w) {
    l = 0;
    firstPending();
    if
    :: t < NT && nextLease <= MAXL ->
        l = nextLease; nextLease++;
        tstate[t] = LEASED; tlease[t] = l; towner[t] = w; tstarted[t] = false;
        leaseTrial[l] = t; leaseOwner[l] = w; leaseEnded[l] = false
    :: else -> skip
    fi
}

/* `releaseReservation`: the reserved lease goes back to pending (the worker never saw it: no attempt). */
inline releaseReservation(w) {
    if
    :: mres[w] != 0 ->
        printf("coordinator: reservation %d of w%d released\n", mres[w], w);
        l = mres[w]; mres[w] = 0; storeRelease(l)
    :: else -> skip
    fi
}

/* The reservation after a grant (`reserveNext`): one more pending trial granted to w in the store and
   kept in memory, not sent. The model reserves or not (rsv), so every behaviour without it stays. */
inline reserve(w) {
    if
    :: rsv && mres[w] == 0 ->
        grantLease(w);
        if
        :: l != 0 -> mres[w] = l; printf("coordinator: lease %d of trial %d reserved for w%d\n", l, t, w);
                     REACHED(1, no_reservation)
        :: else -> skip
        fi
    :: else -> skip
    fi
}

/* `assign`: an idle registered worker gets its reservation (promotion), else the first pending trial
   (`grantLease`), else, when nothing is pending, another worker's reservation (steal: released, then
   granted afresh); then a new reservation. */
inline assign(w) {
    if
    :: reg[w] && mlease[w] == 0 && cancelling[w] == 0 ->
        if
        :: mres[w] != 0 ->
            l = mres[w]; mres[w] = 0;
            printf("coordinator: reservation %d promoted for w%d\n", l, w);
            REACHED(2, no_promotion)
        :: else ->
            grantLease(w);
            if
            :: l == 0 && t == NT && nextLease <= MAXL ->
                j = 0;
                do
                :: j < NW && (j == w || mres[j] == 0) -> j++
                :: else -> break
                od;
                if
                :: j < NW ->
                    printf("coordinator: w%d steals the reservation of w%d\n", w, j);
                    REACHED(4, no_steal);
                    releaseReservation(j);
                    grantLease(w)
                :: else -> skip
                fi
            :: else -> skip
            fi
        fi;
        if
        :: l != 0 ->
            mlease[w] = l; mstarted[w] = false;
            printf("coordinator: lease %d of trial %d to w%d\n", l, leaseTrial[l], w);
            sendW(w, LEASE, l);
            reserve(w)
        :: else -> skip
        fi
    :: else -> skip
    fi
}

/* `releaseLease(of:)` */
inline releaseLease(w) {
    if
    :: mlease[w] != 0 -> l = mlease[w]; mlease[w] = 0; mstarted[w] = false; storeRelease(l)
    :: else -> skip
    fi
}

/* `dropWorker`: liveness expiry or an unreachable peer. */
inline dropWorker(w) {
    printf("coordinator: w%d silent too long, dropped\n", w);
    releaseLease(w);
    releaseReservation(w);
    reg[w] = false; cancelling[w] = 0
}

/* `cancel`: stall or time limit; no new lease for the worker until it reports back. */
inline stallCancel(w) {
    printf("coordinator: w%d stalled or over its time limit, lease %d cancelled\n", w, mlease[w]);
    t = leaseTrial[mlease[w]];
    releaseLease(w);
    cancelling[w] = t + 1
}

/* v = w's lowest orphan among the lease ids set in mask m (MAXL + 1 when none). */
#define ALL_LEASES 255
inline lowestOrphan(v, w, m) {
    v = 1;
    do
    :: v <= MAXL && !((orphans & BIT(v)) != 0 && leaseOwner[v] == w && (m & BIT(v)) != 0) -> v++
    :: else -> break
    od
}

/* `onReady` + `reconcile` + `reconcileRunning` + `assignOrDismiss`. `running`, `rtrial`: the lease the
   worker runs (0 = none); `mask`: its outbox (WorkerEntry.finished, read only by this reconcile). */
inline onReady(w, running, rtrial, mask) {
    printf("coordinator: READY from w%d running lease %d, outbox %d\n", w, running, mask);
    if
    :: !reg[w] -> reg[w] = true; mlease[w] = 0; mstarted[w] = false; cancelling[w] = 0; mres[w] = 0
    :: else -> skip
    fi;
    if
    :: mlease[w] == 0 ->
        /* an orphan this owner held comes back to it (`started` as recorded: nobody can start an
           orphan, since its owner is unregistered until this READY): the one it runs, else one whose
           result is in its outbox, else its lowest; its other orphans stay orphans */
        if
        :: running != 0 && (orphans & BIT(running)) != 0 && leaseOwner[running] == w -> l = running
        :: else ->
            lowestOrphan(l, w, mask);
            if
            :: l > MAXL -> lowestOrphan(l, w, ALL_LEASES)
            :: else -> skip
            fi
        fi;
        if
        :: l <= MAXL ->
            mlease[w] = l; mstarted[w] = tstarted[leaseTrial[l]]; orphans = orphans & ~BIT(l);
            printf("coordinator: orphan lease %d back to w%d\n", l, w);
#ifdef WITNESS
            lowestOrphan(j, w, ALL_LEASES);   /* witness 6: a lower orphan of w stays (the pick is not the lowest) */
            if
            :: j < l -> REACHED(6, no_adopt_skipping)
            :: else -> skip
            fi
#endif
        :: else -> skip
        fi
    :: else -> skip
    fi;
    if
    :: running != 0 ->
        ok = (mlease[w] == running && leaseTrial[running] == rtrial);   /* holds(entry, running) */
        if
        :: ok -> storeStart(running, w)                                  /* store.adopt */
        :: else -> skip
        fi;
        if
        :: ok -> mstarted[w] = true; printf("coordinator: w%d re-adopted lease %d\n", w, running)
        :: else ->
            printf("coordinator: w%d runs lease %d, not its lease: cancelled\n", w, running);
            releaseLease(w);
            cancelling[w] = rtrial + 1
        fi
    :: running == 0 && mlease[w] == 0 -> assign(w)
    :: running == 0 && mlease[w] != 0 && (mask & BIT(mlease[w])) != 0 -> skip   /* its result is on the way */
    :: running == 0 && mlease[w] != 0 && (mask & BIT(mlease[w])) == 0 && !mstarted[w] ->
        printf("coordinator: lease %d not started: sent to w%d again\n", mlease[w], w);
        sendW(w, LEASE, mlease[w])                                               /* the LEASE was lost */
    :: running == 0 && mlease[w] != 0 && (mask & BIT(mlease[w])) == 0 && mstarted[w] ->
        printf("coordinator: w%d restarted without lease %d\n", w, mlease[w]);
        releaseLease(w);
        assign(w)
    fi
}

/* `onHeartbeat` (+ `markStarted`, `refuseStale`, `forgetLease`); also stands for `onProgress`. */
inline onHeartbeat(w, lease, trial) {
    if
    :: lease == 0 ->
        if
        :: mlease[w] != 0 && !mstarted[w] -> sendW(w, LEASE, mlease[w])         /* re-send a lost LEASE */
        :: else -> skip
        fi
    :: lease != 0 && !(mlease[w] == lease && leaseTrial[lease] == trial) ->
        printf("coordinator: w%d reports lease %d, not its lease: cancelled\n", w, lease);
        cancelling[w] = trial + 1                                                /* refuseStale */
    :: lease != 0 && mlease[w] == lease && leaseTrial[lease] == trial ->
        if
        :: !mstarted[w] ->
            storeStart(lease, w);
            if
            :: ok -> mstarted[w] = true
            :: else -> mlease[w] = 0; mstarted[w] = false; cancelling[w] = trial + 1   /* forgetLease */
            fi
        :: else -> skip
        fi;
        assign(w)
    fi
}

/* `onResult` + `commit` + `acknowledge` / `refuseResult`. */
inline onResult(w, lease, trial) {
    judge(trial, lease, w);
    if
    :: verdict == 0 ->
        storeComplete(trial, lease, w);
        if
        :: (orphans & BIT(lease)) != 0 ->
            orphans = orphans & ~BIT(lease);   /* its worker delivered it */
            REACHED(5, no_orphan_result)
        :: else -> skip
        fi
    :: verdict == 1 -> printf("coordinator: duplicate result of lease %d from w%d acknowledged\n", lease, w)
    :: verdict == 2 -> printf("coordinator: result of lease %d from w%d refused\n", lease, w)
    fi;
    if
    :: verdict == 2 ->
        if
        :: mlease[w] == lease ->                 /* its reservation left ahead (`settleSentAhead`) */
            mlease[w] = 0; mstarted[w] = false;
            sendW(w, REFUSED, lease);
            if
            :: mres[w] != 0 && cancelling[w] == 0 -> assign(w)
            :: else -> skip
            fi
        :: else -> sendW(w, REFUSED, lease)
        fi
    :: verdict != 2 ->
        sendW(w, ACK, lease);
        if
        :: mlease[w] == lease -> mlease[w] = 0; mstarted[w] = false
        :: else -> skip
        fi;
        if
        :: cancelling[w] == trial + 1 -> cancelling[w] = 0
        :: else -> skip
        fi;
        assign(w)
    fi
}

/* `onFail` */
inline onFail(w, lease, trial, permanent) {
    if
    :: cancelling[w] == trial + 1 -> cancelling[w] = 0; assign(w)
    :: cancelling[w] != trial + 1 && !(mlease[w] == lease && leaseTrial[lease] == trial) -> sendW(w, REFUSED, lease)
    :: cancelling[w] != trial + 1 && mlease[w] == lease && leaseTrial[lease] == trial ->
        mlease[w] = 0; mstarted[w] = false;
        storeFail(trial, lease, w, permanent);
        assign(w)
    fi
}

/* `onMessage`: only READY is accepted from a peer that is not registered. */
inline coordinatorReceives(w) {
    if
    :: k == READY -> onReady(w, a, b, x)
    :: k != READY && !reg[w] -> skip     /* ERROR not-registered */
    :: k == HB && reg[w] -> onHeartbeat(w, a, b)
    :: k == RESULT && reg[w] -> onResult(w, a, b)
    :: k == FAIL && reg[w] -> printf("coordinator: FAIL of lease %d from w%d\n", a, w); onFail(w, a, b, x)
    fi
}

/* The coordinator process ends (crash, or `drain` after a shutdown request) and a new one starts:
   memory is lost; `onStart` loads the store's live leases as orphans. */
inline coordinatorRestarts() {
    ccrashes++;
    orphans = 0;
    i = 0;
    do
    :: i < NW -> reg[i] = false; mlease[i] = 0; mstarted[i] = false; cancelling[i] = 0; mres[i] = 0; i++
    :: else -> break
    od;
    t = 0;
    do
    :: t < NT ->
        if
        :: tstate[t] == LEASED ->
#ifdef BROKEN_RESET
            tstate[t] = PENDING; tlease[t] = 0; towner[t] = NONE; tstarted[t] = false
#else
            orphans = orphans | BIT(tlease[t])
#endif
        :: else -> skip
        fi;
        t++
    :: else -> break
    od;
    printf("coordinator: restarted, orphans %d\n", orphans)
}

/* `drain`: a shutdown re-queues the leases and reservations of registered workers (orphans stay recorded). */
inline drain() {
    printf("coordinator: shutting down\n");
    i = 0;
    do
    :: i < NW -> releaseLease(i); releaseReservation(i); i++
    :: else -> break
    od
}

/* The early send of a promotion: handling a RESULT or FAIL (in k, a, b, x) that ends w's lease promotes
   w's reservation, and its LEASE leaves before the batch with the RESULT or FAIL commits. A crash (or a
   failed commit, which reloads like a restart) in between: the LEASE is out, the RESULT or FAIL had no
   effect, memory is lost. ok: this message's handler would reach `assign` with w idle (onResult/onFail
   below); otherwise the step is the loss of the message, another step already.
   -DBROKEN_EARLY: the promoted lease is granted in the same batch (w had no reservation), so the crash
   rolls its grant back: the LEASE names id nextLease, which the store never granted. */
inline earlySendCrash(w) {
    ok = 0;
    if
    :: k == RESULT && reg[w] ->
        judge(b, a, w);
        ok = ((verdict != 2 && (mlease[w] == 0 || mlease[w] == a) && (cancelling[w] == 0 || cancelling[w] == b + 1))
              || (mlease[w] == a && leaseTrial[a] == b && cancelling[w] == 0))          /* `leaseAhead` */
    :: k == FAIL && reg[w] ->
        ok = ((cancelling[w] == b + 1 && mlease[w] == 0) || (cancelling[w] == 0 && mlease[w] == a && leaseTrial[a] == b))
    :: else -> skip
    fi;
    l = mres[w];
#ifdef BROKEN_EARLY
    firstPending();
    if
    :: l == 0 && t < NT && nextLease <= MAXL -> l = nextLease
    :: else -> skip
    fi;
#endif
    if
    :: ok && l != 0 ->
        printf("coordinator: w%d's lease %d promoted and sent before the %e of lease %d commits; crash\n", w, l, k, a);
        sendW(w, LEASE, l);
        coordinatorRestarts();
        REACHED(3, no_early_send)
    :: else -> skip
    fi
}

/* `expireOrphans`: the adoption grace is over. */
inline expireOrphans() {
    printf("coordinator: adoption grace over\n");
    l = 1;
    do
    :: l <= MAXL ->
        if
        :: (orphans & BIT(l)) != 0 -> storeRelease(l)
        :: else -> skip
        fi;
        l++
    :: else -> break
    od;
    orphans = 0
}

/* ---------------------------------------------------------------- the worker (Worker, Worker+Trial) */

/* `register`: READY naming the running lease and the outbox, then every outbox result again. */
inline register(w) {
    printf("w%d: READY running lease %d, outbox %d (+ its results)\n", w, wcur[w], outbox[w]);
    sendC(w, READY, wcur[w], (wcur[w] == 0 -> 0 : leaseTrial[wcur[w]]), outbox[w]);
    l = 1;
    do
    :: l <= MAXL ->
        if
        :: (outbox[w] & BIT(l)) != 0 -> sendC(w, RESULT, l, leaseTrial[l], 0)
        :: else -> skip
        fi;
        l++
    :: else -> break
    od
}

/* `onMessage`: `onLease`, ACK, ERROR refused. */
inline workerReceives(w) {
    if
    :: k == LEASE && wcur[w] == a -> skip                                    /* a copy of the running lease */
    :: k == LEASE && wcur[w] != a && (outbox[w] & BIT(a)) != 0 ->
        sendC(w, RESULT, a, leaseTrial[a], 0)                                  /* already finished */
#ifndef BROKEN_FORGET
    :: k == LEASE && wcur[w] != a && (outbox[w] & BIT(a)) == 0 && (wran[w] & BIT(a)) != 0 ->
        if                                                                     /* a copy of an ended lease */
        :: (wfail[w] & BIT(a)) != 0 -> sendC(w, FAIL, a, leaseTrial[a], ((wperm[w] & BIT(a)) != 0 -> 1 : 0))
        :: else -> skip
        fi
#define FRESH(w, a) && (wran[w] & BIT(a)) == 0
#else
#define FRESH(w, a)
#endif
    :: k == LEASE && wcur[w] != a && wcur[w] != 0 && (outbox[w] & BIT(a)) == 0 FRESH(w, a) -> skip   /* busy */
    :: k == LEASE && wcur[w] == 0 && (outbox[w] & BIT(a)) == 0 FRESH(w, a) ->
        wcur[w] = a;
        printf("w%d: runs lease %d (trial %d)\n", w, a, leaseTrial[a]);
        c_fenced = (a < nextLease && leaseOwner[a] == w);
        assert(c_fenced);
        d_no_rerun = ((ran[w] & BIT(a)) == 0);
        assert(d_no_rerun);
        ran[w] = ran[w] | BIT(a);
        wran[w] = wran[w] | BIT(a)
    :: k == ACK || k == REFUSED -> outbox[w] = outbox[w] & ~BIT(a)
    fi
}

/* ---------------------------------------------------------------- the system */

/* A coordinator step that may call `assign`, once for each choice of rsv (reserve or not). rsv = 1 is
   tried only when a reservation can follow: a trial is pending, or the step may make one pending first
   (`released`: a FAIL, or a READY that releases a lease; `assign` itself leaves none pending). Otherwise
   its successor is rsv = 0's, and so it is with one trial: a reservation needs a second pending trial. */
#if NT == 2
#define ANY_PENDING (tstate[0] == PENDING || tstate[1] == PENDING)
#elif NT == 3
#define ANY_PENDING (tstate[0] == PENDING || tstate[1] == PENDING || tstate[2] == PENDING)
#else
#define ANY_PENDING true
#endif
#if NT > 1
#define RESERVING(guard, released, body) \
    :: d_step { guard -> rsv = 0; body } :: d_step { guard && (ANY_PENDING || released) -> rsv = 1; body }
#else
#define RESERVING(guard, released, body) :: d_step { guard -> rsv = 0; body }
#endif
/* whether a message of this kind is in the bag to the coordinator (the other fields match anything) */
#define IN_TOC(kind) toC??[kind, s0, a0, b0, x0]

/* earlySendCrash needs a RESULT or FAIL and a reservation (-DBROKEN_EARLY: or none) */
#ifdef BROKEN_EARLY
#define ANY_RESERVATION true
#elif NW == 2
#define ANY_RESERVATION (mres[0] != 0 || mres[1] != 0)
#elif NW == 3
#define ANY_RESERVATION (mres[0] != 0 || mres[1] != 0 || mres[2] != 0)
#else
#define ANY_RESERVATION true
#endif
#define MAY_PROMOTE (ANY_RESERVATION && (IN_TOC(RESULT) || IN_TOC(FAIL)))

/* The network delivers the n-th message of a bag (any order) or loses it; the coordinator may crash
   right after the early send the message causes (earlySendCrash). */
#define DELIVER(N) \
    RESERVING(len(toC) > N, IN_TOC(FAIL) || IN_TOC(READY), takeC(N); coordinatorReceives(src); check()) \
    :: d_step { len(toC) > N -> takeC(N); printf("net: message to the coordinator lost\n") } \
    :: d_step { len(toC) > N && ccrashes < CCRASH && MAY_PROMOTE -> takeC(N); earlySendCrash(src); check() } \
    :: d_step { len(toW) > N -> takeW(N); workerReceives(src); check() } \
    :: d_step { len(toW) > N -> takeW(N); printf("net: message to w%d lost\n", src) }

/* Worker w's events and the coordinator's timers about w are the transitions of process peer number w;
   deliveries, the end of the adoption grace and coordinator restarts those of process world. Each
   transition is one d_step, so the behaviours are exactly the interleavings of these steps. */
active [NW] proctype peer() {
    do
    /* the coordinator's timers about w (`checkLiveness`, `onTick`) */
    :: d_step { reg[_pid] -> dropWorker(_pid); check() }
    :: d_step { reg[_pid] && mlease[_pid] != 0 -> stallCancel(_pid); check() }
    :: d_step { cancelling[_pid] != 0 -> cancelling[_pid] = 0 }
    RESERVING(reg[_pid] && mlease[_pid] == 0 && cancelling[_pid] == 0, false, assign(_pid); check())
    /* the trial ends: finished (`onTrialFinished`: outbox first, then RESULT) or failed (`onTrialFailed`) */
    :: d_step { wcur[_pid] != 0 ->
                printf("w%d: lease %d finished\n", _pid, wcur[_pid]);
                outbox[_pid] = outbox[_pid] | BIT(wcur[_pid]);
                sendC(_pid, RESULT, wcur[_pid], leaseTrial[wcur[_pid]], 0);
                wcur[_pid] = 0; check() }
    :: d_step { wcur[_pid] != 0 ->
                printf("w%d: lease %d failed (retryable)\n", _pid, wcur[_pid]);
                wfail[_pid] = wfail[_pid] | BIT(wcur[_pid]);
                sendC(_pid, FAIL, wcur[_pid], leaseTrial[wcur[_pid]], 0); wcur[_pid] = 0; check() }
    :: d_step { wcur[_pid] != 0 ->
                printf("w%d: lease %d failed (permanent)\n", _pid, wcur[_pid]);
                wfail[_pid] = wfail[_pid] | BIT(wcur[_pid]); wperm[_pid] = wperm[_pid] | BIT(wcur[_pid]);
                sendC(_pid, FAIL, wcur[_pid], leaseTrial[wcur[_pid]], 1); wcur[_pid] = 0; check() }
    /* `onTick`: a heartbeat naming the running lease; re-registration after coordinator silence */
    :: d_step { nfull(toC) && wcur[_pid] != 0 ->
                printf("w%d: heartbeat lease %d\n", _pid, wcur[_pid]);
                sendC(_pid, HB, wcur[_pid], leaseTrial[wcur[_pid]], 0) }
#ifdef IDLE_HEARTBEAT
    :: d_step { nfull(toC) && wcur[_pid] == 0 -> sendC(_pid, HB, 0, 0, 0) }
#endif
    :: d_step { nfull(toC) -> register(_pid); skip }
    /* a crash and restart: the running trial is lost, the outbox on disk is kept */
    :: d_step { wcrashes < WCRASH ->
                printf("w%d: crashed and restarted\n", _pid);
                wcrashes++; wcur[_pid] = 0; FORGET_RUNS(_pid); register(_pid); check() }
#ifdef LOSE_OUTBOX
    :: d_step { wcrashes < WCRASH ->
                printf("w%d: crashed, outbox lost\n", _pid);
                wcrashes++; wcur[_pid] = 0; outbox[_pid] = 0; FORGET_RUNS(_pid); register(_pid); check() }
#endif
    od
}

active proctype world() {
    do
    DELIVER(0)
#if QC > 1 || QW > 1
    DELIVER(1)
#endif
#if QC > 2 || QW > 2
    DELIVER(2)
#endif
    :: d_step { orphans != 0 -> expireOrphans(); check() }
    :: d_step { ccrashes < CCRASH -> coordinatorRestarts(); check() }
    :: d_step { ccrashes < CCRASH -> drain(); coordinatorRestarts(); check() }
    od
}
