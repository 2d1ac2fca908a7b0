/*
 * build/vtlb-mpi: the vtlb command line run as one rank of an MPI job, with
 * the distributed explorer's transport (struct vt_net) over MPI.  Built
 * only where mpicc is present; the library itself has no MPI in it.
 *
 *   mpirun -np 4 build/vtlb-mpi explore FILE         one search over 4 ranks
 *   mpirun -np 4 build/vtlb-mpi explore --swarm 64 FILE
 *
 * Every rank parses the same arguments and loads the same scenario (so the
 * file must be readable at the same path on every host); only rank 0
 * prints and writes --emit files.
 *
 * Sends are nonblocking (MPI_Isend) and the buffers are freed as they
 * complete, so a rank never waits for a receiver that is itself sending;
 * the search bounds the bytes in flight through pending().
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vtlb/dist.h"

#define TAG 77

int vtlb_main(int argc, char **argv);
const struct vt_net *vtlb_mpi_net(void);

struct send {
	MPI_Request req;
	void *buf;
	size_t len;
};

struct mpinet {
	struct send *q;
	int nq, cap;
	size_t pending;
};

static struct vt_net net;
static struct mpinet mn;

/* Free the buffers of completed sends. */
static int reap(struct mpinet *t)
{
	for (int i = 0; i < t->nq;) {
		int done = 0;
		if (MPI_Test(&t->q[i].req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
			return -1;
		if (!done) {
			i++;
			continue;
		}
		free(t->q[i].buf);
		t->pending -= t->q[i].len;
		t->q[i] = t->q[--t->nq];
	}
	return 0;
}

static int mpi_send(void *ctx, int to, void *buf, size_t len)
{
	struct mpinet *t = ctx;
	if (t->nq == t->cap) {
		int cap = t->cap ? t->cap * 2 : 64;
		struct send *q = realloc(t->q, (size_t)cap * sizeof(*q));
		if (!q) {
			free(buf);
			return -1;
		}
		t->q = q;
		t->cap = cap;
	}
	struct send *s = &t->q[t->nq];
	if (len > (size_t)0x7fffffff ||
	    MPI_Isend(buf, (int)len, MPI_BYTE, to, TAG, MPI_COMM_WORLD, &s->req) != MPI_SUCCESS) {
		free(buf);
		return -1;
	}
	s->buf = buf;
	s->len = len;
	t->nq++;
	t->pending += len;
	return 0;
}

static int mpi_recv(void *ctx, int block, int *from, void **buf, size_t *len)
{
	struct mpinet *t = ctx;
	MPI_Status st;
	int flag = 1, n;
	if (reap(t) < 0)
		return -1;
	/*
	 * Waiting polls and sleeps rather than spinning in MPI_Probe: a rank
	 * that waits for the others at the end of a layer leaves the core to
	 * them (ranks may share cores).
	 */
	for (unsigned spins = 0;; spins++) {
		if (MPI_Iprobe(MPI_ANY_SOURCE, TAG, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS)
			return -1;
		if (flag || !block)
			break;
		if (spins >= 64) {
			struct timespec ts = {0, spins < 1024 ? 20000 : 200000};
			nanosleep(&ts, NULL);
		}
		if (reap(t) < 0)
			return -1;
	}
	if (!flag)
		return 0;
	if (MPI_Get_count(&st, MPI_BYTE, &n) != MPI_SUCCESS || n < 0)
		return -1;
	void *p = malloc(n ? (size_t)n : 1);
	if (!p)
		return -1;
	if (MPI_Recv(p, n, MPI_BYTE, st.MPI_SOURCE, TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
		free(p);
		return -1;
	}
	*buf = p;
	*len = (size_t)n;
	*from = st.MPI_SOURCE;
	return 1;
}

static size_t mpi_pending(void *ctx)
{
	struct mpinet *t = ctx;
	reap(t);
	return t->pending;
}

static int mpi_flush(void *ctx)
{
	struct mpinet *t = ctx;
	int rc = 0;
	for (int i = 0; i < t->nq; i++) {
		if (MPI_Wait(&t->q[i].req, MPI_STATUS_IGNORE) != MPI_SUCCESS)
			rc = -1;
		free(t->q[i].buf);
	}
	t->nq = 0;
	t->pending = 0;
	return rc;
}

static int mpi_allreduce(void *ctx, uint64_t *v, int n, enum vt_net_op op)
{
	MPI_Op o = op == VT_NET_SUM ? MPI_SUM : op == VT_NET_MAX ? MPI_MAX : MPI_MIN;
	return MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_UINT64_T, o, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

static int mpi_bcast(void *ctx, int root, void *buf, size_t len)
{
	if (len > (size_t)0x7fffffff)
		return -1;
	return MPI_Bcast(buf, (int)len, MPI_BYTE, root, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

const struct vt_net *vtlb_mpi_net(void)
{
	return &net;
}

int main(int argc, char **argv)
{
	if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
		fprintf(stderr, "vtlb-mpi: MPI_Init failed\n");
		return 2;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &net.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &net.size);
	net.ctx = &mn;
	net.send = mpi_send;
	net.recv = mpi_recv;
	net.pending = mpi_pending;
	net.flush = mpi_flush;
	net.allreduce = mpi_allreduce;
	net.bcast = mpi_bcast;
	/* one voice: the other ranks compute the same results silently */
	if (net.rank != 0 && (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))) {
		MPI_Abort(MPI_COMM_WORLD, 2);
		return 2;
	}
	int rc = vtlb_main(argc, argv);
	mpi_flush(&mn);
	free(mn.q);
	MPI_Finalize();
	return rc;
}
