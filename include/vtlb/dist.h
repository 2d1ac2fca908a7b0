/*
 * The explorer over many processes: one exhaustive search spread over the
 * ranks of a message-passing job, and swarm mode.
 *
 * Distributed search (after Stern & Dill's parallel Murphi): every state has
 * an owner rank, picked by the hash of its canonical bytes; the owner alone
 * stores it (exactly, in the explorer's tree-compressed store, never only a
 * hash) and expands it.  The search is breadth-first in layers: a rank expands the states of
 * depth d it owns and sends each successor, batched per destination, to its
 * owner, which keeps the new ones for layer d + 1.  A layer ends when every
 * rank has received an end marker from every other (messages between two
 * ranks arrive in order, so the marker follows the last batch), after which
 * the ranks agree, by one reduction, on whether to go on.  States are thus
 * first stored at their smallest depth, so the depth bound is exact and no
 * state is expanded twice; the preemption and migration counters are part
 * of the state.  The stored states are the same whatever the number of
 * ranks, and the same as the depth-first search's (tests/09-mpi.t checks it).
 * Each stored state keeps a reference to the stored state it was first
 * reached from (rank, index, choice); a violation is traced back through
 * them, replayed from the initial state, shrunk and reported as vt_explore()
 * reports it.  Sleep sets are not used here: they save transitions into
 * states already seen, never states, and a breadth-first layer already
 * expands each state once.
 *
 * Swarm mode (after Holzmann, Joshi & Groce's swarm verification): many
 * independent depth-first searches, each with its own seed (derived from
 * one base seed, so a swarm is reproducible whatever the number of ranks),
 * its own random choice order and its own budget of states, all within the
 * search's bounds.  The ranks share only the count of distinct states seen
 * by the whole swarm (each state counted once, at its owner).  A swarm is
 * never exhaustive: it always ends VIOLATION or INCOMPLETE.
 *
 * The transport is abstract (struct vt_net), so the library itself needs no
 * MPI: tools/net_mpi.c implements it over MPI for build/vtlb-mpi, and
 * vt_net_local() is the one-rank transport.
 */
#ifndef VTLB_DIST_H
#define VTLB_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "vtlb/explore.h"

enum vt_net_op { VT_NET_SUM, VT_NET_MAX, VT_NET_MIN };

/*
 * A transport between 'size' ranks; this process is 'rank'.  Messages
 * between one pair of ranks arrive in the order they were sent.  No rank
 * ever sends to itself.
 */
struct vt_net {
	int rank, size;
	void *ctx;
	/* Send buf[0..len) to rank 'to'; the transport takes buf (malloc'd) and frees it.  Never waits for the receiver. */
	int (*send)(void *ctx, int to, void *buf, size_t len);
	/*
	 * One received message: returns 1 with *buf (the caller frees it), *len
	 * and *from; 0 when none is waiting (block = 0); with block = 1 waits
	 * for one.  -1 on a transport error.
	 */
	int (*recv)(void *ctx, int block, int *from, void **buf, size_t *len);
	/* Bytes sent and not yet received. */
	size_t (*pending)(void *ctx);
	/* Wait until every message sent has been received (its receiver must be receiving). */
	int (*flush)(void *ctx);
	/* v[i] = op over all ranks of v[i], on every rank. */
	int (*allreduce)(void *ctx, uint64_t *v, int n, enum vt_net_op op);
	/* buf[0..len) of rank root, on every rank. */
	int (*bcast)(void *ctx, int root, void *buf, size_t len);
};

/* The transport of a single process: rank 0 of 1. */
const struct vt_net *vt_net_local(void);

struct vt_dist_opts {
	const struct vt_net *net;  /* NULL: vt_net_local() */
	uint64_t swarm;            /* > 0: swarm mode with this many searches, seeds from vt_explore_opts.seed */
	uint64_t swarm_states;     /* states each swarm search may store (0: 65536) */
	size_t batch;              /* bytes per message (0: 64 KiB) */
};

/*
 * Explore m over the ranks of d->net (collectively: every rank calls it with
 * the same model and options and gets the same result).  o's bounds,
 * max_memory (per rank), time_limit, symmetry, shrink, seed and progress
 * (rank 0 only) apply; jobs, por and random_walks do not.  Returns
 * r->status; r owns r->path (vt_explore_result_fini).
 */
enum vt_explore_status vt_explore_dist(const struct vt_model *m, const struct vt_explore_opts *o,
				       const struct vt_dist_opts *d, struct vt_explore_result *r);

#endif
