/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's keyed state, set up and torn down on the worker's own lcore:
 * the heap backend's mimalloc heap belongs to the thread that creates it,
 * so opening the state, loading a checkpoint into it and closing it all
 * run there (launched by the main lcore before and after the poll loops).
 *
 * heap: the arena is a DPDK memzone (hugepages when the EAL has them) of
 * state.backend.heap.memory plus the 32 MiB mimalloc aligns its arena to;
 * when no memzone that large fits, an anonymous mapping, with a warning.
 * rocksdb: one instance per worker under state.backend.rocksdb.localdir
 * (default: the temporary directory), removed at exit: the durable copy of
 * state is the checkpoint.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memzone.h>

#include "dp.h"
#include "sl_kg.h"
#include "sl_state.h"

#define ARENA_ALIGN (32ull << 20)

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23	/* Linux 5.14; older glibc headers lack it */
#endif

/*
 * Fault an arena of our own mapping in now, on the worker's own CPU (its
 * NUMA node); a hugepage memzone the EAL has faulted in already. Else
 * every page the heap first touches is a page fault and a clear_page on
 * the worker, and copy-on-write during a checkpoint touches new pages
 * all the time: measured at 10M keys, 19% of the worker's cycles.
 */
static void
heap_prefault(struct dp_worker *w, void *p, size_t len)
{
	if (madvise(p, len, MADV_POPULATE_WRITE) != 0)
		DP_LOG(WARNING, "worker %u: could not fault in the %zu MiB heap state arena (%s): its first writes will page-fault on the worker",
		       w->id, len >> 20, strerror(errno));
}

static int
heap_memory(struct dp_worker *w, struct sl_state_conf *c)
{
	const struct sl_plan_state *ps = &w->dp->plan->state;
	size_t len = ps->heap_memory + ARENA_ALIGN;
	char name[RTE_MEMZONE_NAMESIZE];
	void *p;

	/*
	 * Without hugepages the EAL's memory is a memfd in 4 KiB pages
	 * (shmem, which Debian keeps out of transparent huge pages): every
	 * random probe of a large table would miss the TLB and walk page
	 * tables that a checkpoint's streaming read evicts from the cache.
	 * Anonymous memory gets 2 MiB pages.
	 */
	if (rte_eal_has_hugepages() == 0)
		goto anon;
	snprintf(name, sizeof(name), "sl_state_%u", w->id);
	w->mz = rte_memzone_reserve_aligned(name, len, (int)rte_socket_id(), 0,
					    RTE_CACHE_LINE_SIZE);
	if (w->mz != NULL) {
		c->mem = w->mz->addr;
		c->mem_len = w->mz->len;
		c->mem_limit = ps->heap_memory;
		return 0;
	}
	DP_LOG(WARNING, "worker %u: no memzone of %zu MiB for the heap state backend (%s): using ordinary memory; reserve more hugepages for state.backend.heap.memory",
	       w->id, len >> 20, rte_strerror(rte_errno));
anon:
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	w->mem_map = p;
	w->mem_map_len = len;
	c->mem = p;
	c->mem_len = len;
	c->mem_limit = ps->heap_memory;
	/* Transparent huge pages where the kernel has them (its "madvise"
	 * mode, Debian's default): 2 MiB pages fault in 512 times faster
	 * (an 8 GiB arena took 16 s of 4 KiB faults) and cost the hash
	 * tables' random probes fewer TLB misses. */
	(void)madvise(p, len, MADV_HUGEPAGE);
	heap_prefault(w, p, len);
	return 0;
}

/*
 * A dataplane killed with SIGKILL leaves its instances behind; with
 * native checkpoints they hold links to checkpoint files too. Remove the
 * ones of this job whose process is gone (worker 0, once per start).
 */
static void
rocks_reap(const char *base, const char *job)
{
	char prefix[300];
	struct dirent *e;
	size_t pl;
	DIR *d;

	pl = (size_t)snprintf(prefix, sizeof(prefix), "sluice-rocksdb-%s-", job);
	d = opendir(base);
	while (d != NULL && pl < sizeof(prefix) && (e = readdir(d)) != NULL) {
		char path[4096], *end;
		long pid;

		if (strncmp(e->d_name, prefix, pl) != 0)
			continue;
		pid = strtol(e->d_name + pl, &end, 10);
		if (*end != '\0' || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", base, e->d_name);
		if (dp_rm_tree(path) == 0)
			DP_LOG(INFO, "removed %s, left by a dataplane that died", path);
	}
	if (d != NULL)
		closedir(d);
}

static int
rocks_dir(struct dp_worker *w, struct sl_state_conf *c)
{
	const struct sl_plan *p = w->dp->plan;
	const char *base = p->state.rocksdb_dir;
	char parent[sizeof(w->rocks_dir)];

	if (base[0] == '\0')
		base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	/* Like Flink, create the configured directory when it is missing. */
	snprintf(parent, sizeof(parent), "%s", base);
	for (char *q = parent + 1; *q != '\0'; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		(void)mkdir(parent, 0700);
		*q = '/';
	}
	(void)mkdir(parent, 0700);
	if (w->id == 0)
		rocks_reap(base, p->name);
	if ((size_t)snprintf(parent, sizeof(parent), "%s/sluice-rocksdb-%s-%d", base,
			     p->name, (int)getpid()) >= sizeof(parent) - 16) {
		DP_LOG(ERR, "worker %u: state.backend.rocksdb.localdir is too long", w->id);
		return -ENAMETOOLONG;
	}
	if (mkdir(parent, 0700) < 0 && errno != EEXIST) {
		int rc = -errno;

		DP_LOG(ERR, "worker %u: cannot create %s for the rocksdb state backend (%s); set state.backend.rocksdb.localdir to a writable directory",
		       w->id, parent, strerror(errno));
		return rc;
	}
	memcpy(w->rocks_dir, parent, sizeof(parent));
	snprintf(w->rocks_dir + strlen(parent), sizeof(w->rocks_dir) - strlen(parent),
		 "/worker-%u", (unsigned int)w->id % 100000);
	c->dir = w->rocks_dir;
	c->block_cache_bytes = p->state.rocksdb_block_cache;
	c->write_buffer_bytes = p->state.rocksdb_write_buffer;
	return 0;
}

static int restore_state(struct dp_worker *w, uint32_t lo, uint32_t hi);

/*
 * An unaligned checkpoint's in-flight rows were read after the snapshot:
 * run the ones of this worker's key groups through the window now, before
 * any new input, as if they had just arrived (Flink replays recovered
 * channel state ahead of new data). The watermark starts over (R1.11), so
 * none of them is late here.
 */
static int
replay_channel(struct dp_worker *w, const struct dp_restore_sec *s,
	       uint32_t lo, uint32_t hi, struct sl_vec *v)
{
	const struct dp *dp = w->dp;
	uint16_t rs = dp->plan->schema.row_size;
	const uint8_t *rows = s->data;
	size_t n = s->len / rs;

	if (s->len % rs != 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *row = rows + i * rs;
		uint32_t h = dp_row_hash(dp, row);
		uint32_t kg = sl_kg_of(h, dp->plan->max_parallelism);

		if (kg < lo || kg > hi)
			continue;
		memcpy(sl_vec_row(v, v->n_rows), row, rs);
		v->hash[v->n_rows++] = h;
		if (v->n_rows == SL_VEC_MAX) {
			sl_vec_select_all(v);
			sl_win_process(&w->win, v);
			sl_vec_reset(v, rs);
		}
		w->chan_rows++;
	}
	return 0;
}

/* Load this worker's key groups from every worker file of the checkpoint. */
static int
restore(struct dp_worker *w, uint32_t lo, uint32_t hi)
{
	const struct dp_restore *rs = w->dp->rs;
	uint16_t row_size = w->dp->plan->schema.row_size;
	struct sl_vec *v = NULL;
	int rc = restore_state(w, lo, hi);

	/* Channel state goes in after all the keyed state is loaded. */
	for (uint32_t i = 0; i < rs->n_secs && rc == 0; i++) {
		if (rs->secs[i].op != CKPT_OP_CHANNEL)
			continue;
		/* Only unaligned checkpoints have them, which a dedup or
		 * process job (the plan) and a join (join.c) refuse: not its
		 * checkpoint. */
		if (dp_keyed_rows(w->dp->plan) || dp_join(w->dp->plan)) {
			rc = -EINVAL;
			break;
		}
		if (v == NULL) {
			v = aligned_alloc(64, RTE_ALIGN_CEIL(sl_vec_size(row_size), 64));
			if (v == NULL)
				return -ENOMEM;
			sl_vec_reset(v, row_size);
		}
		rc = replay_channel(w, &rs->secs[i], lo, hi, v);
	}
	if (rc == 0 && v != NULL && v->n_rows > 0) {
		sl_vec_select_all(v);
		sl_win_process(&w->win, v);
	}
	if (rc < 0 && v != NULL)
		DP_LOG(ERR, "worker %u: restore: the in-flight rows of an unaligned checkpoint do not fit this job's schema",
		       w->id);
	else if (v != NULL)
		DP_LOG(INFO, "worker %u: replayed %" PRIu64 " in-flight rows of the unaligned checkpoint",
		       w->id, w->chan_rows);
	free(v);
	w->chan_rows = 0;
	return rc;
}

static uint32_t
overlap(const struct dp_native_sec *ns, uint32_t lo, uint32_t hi)
{
	uint32_t a = ns->first_kg > lo ? ns->first_kg : lo;
	uint32_t b = ns->last_kg < hi ? ns->last_kg : hi;

	return b >= a ? b - a + 1 : 0;
}

/*
 * Native checkpoints: the one that overlaps [lo, hi] most first, which a
 * rocksdb worker adopts (its files become the instance), then every other
 * one that overlaps, read (Flink's restore of incremental checkpoints).
 */
static int
restore_native(struct dp_worker *w, uint32_t lo, uint32_t hi)
{
	const struct dp_restore *rs = w->dp->rs;
	uint32_t best = UINT32_MAX, best_ov = 0, n_adopted = 0;
	uint64_t loaded = 0;

	for (uint32_t i = 0; i < rs->n_secs; i++) {
		const struct dp_restore_sec *s = &rs->secs[i];
		struct dp_native_sec ns;

		if (s->op != CKPT_OP_NATIVE)
			continue;
		memcpy(&ns, s->data, sizeof(ns));
		if (overlap(&ns, lo, hi) > best_ov) {
			best_ov = overlap(&ns, lo, hi);
			best = i;
		}
	}
	for (uint32_t pass = 0; pass < 2 && best != UINT32_MAX; pass++) {
		for (uint32_t i = 0; i < rs->n_secs; i++) {
			const struct dp_restore_sec *s = &rs->secs[i];
			const struct dp_restore_file *f = &rs->files[s->file];
			struct dp_native_sec ns;
			char dir[sizeof(rs->dir) + 40];
			bool adopted;
			int rc;

			if (s->op != CKPT_OP_NATIVE || (pass == 0) != (i == best))
				continue;
			memcpy(&ns, s->data, sizeof(ns));
			ns.dir[sizeof(ns.dir) - 1] = '\0';
			if (overlap(&ns, lo, hi) == 0)
				continue;
			snprintf(dir, sizeof(dir), "%s/%s", rs->dir, ns.dir);
			rc = f->meta == NULL ? -EINVAL :
			     sl_state_restore_native(w->st, f->meta, f->meta_len, dir,
						     SL_STATE_NATIVE_ADOPT, &adopted);
			if (rc == -EPROTO) {
				DP_LOG(ERR, "worker %u: restore: the native checkpoint in %s does not load: its state is in an older build's value layout, which RocksDB's files cannot be converted from; restore it with the build that took it and take a savepoint there",
				       w->id, dir);
				return rc;
			}
			if (rc < 0) {
				DP_LOG(ERR, "worker %u: restore: the native checkpoint in %s does not load (%s)",
				       w->id, dir, strerror(-rc));
				return rc;
			}
			n_adopted += adopted;
			loaded += (uint64_t)rc;
		}
	}
	if (best != UINT32_MAX)
		DP_LOG(INFO, "worker %u: restored key groups %u-%u from native checkpoints: %u adopted, %" PRIu64 " entries read",
		       w->id, lo, hi, n_adopted, loaded);
	return 0;
}

static int
restore_state(struct dp_worker *w, uint32_t lo, uint32_t hi)
{
	const struct dp_restore *rs = w->dp->rs;
	int rc0 = restore_native(w, lo, hi);

	if (rc0 < 0)
		return rc0;
	for (uint32_t i = 0; i < rs->n_secs; i++) {
		const struct dp_restore_sec *s = &rs->secs[i];
		int rc = 0;

		if (s->op == CKPT_OP_WINDOW) {
			/* A window's list in a dedup, process or join job:
			 * another job's checkpoint. */
			rc = dp_keyed_rows(w->dp->plan) || dp_join(w->dp->plan) ? -EINVAL :
			     sl_win_restore_windows(&w->win, s->data, s->len);
		} else if (s->op == CKPT_OP_WINDOW2 && !w->dp->plan->stage2.on) {
			rc = -EINVAL;	/* a job with a second keyed stage's */
		} else if (s->op == CKPT_OP_STATE && s->kg >= lo && s->kg <= hi) {
			const struct dp_restore_file *f = &rs->files[s->file];

			rc = f->meta == NULL ? -EINVAL :
			     sl_state_restore(w->st, f->meta, f->meta_len, s->data, s->len);
		}
		if (rc < 0) {
			DP_LOG(ERR, "worker %u: restore: window state does not load (%s): the checkpoint does not fit this job",
			       w->id, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

struct sl_map *
dp_map_create(const struct sl_plan *p, struct sl_schema *out)
{
	const char *names[SL_PLAN_MAX_MAP], *texts[SL_PLAN_MAX_MAP];
	struct sl_map *m;
	char msg[160];

	for (uint16_t c = 0; c < p->n_map; c++) {
		names[c] = p->map_name[c];
		texts[c] = p->map_text[c];
	}
	m = sl_map_create(&p->schema, p->n_map, names, texts, out, msg,
			  sizeof(msg));
	if (m == NULL)
		DP_LOG(ERR, "%s: map: %s", p->file, msg);
	return m;
}

/* A worker's user function (stateless, or a window's aggregate): its own
 * instance (set up here, on its lcore, as a function's instance is used). */
static int
worker_udf_init(struct dp_worker *w)
{
	const struct sl_plan *p = w->dp->plan;
	struct sl_udf_conf c;
	char msg[SL_PLAN_ERR_MAX];
	int rc;

	w->udf = calloc(1, sizeof(*w->udf));
	if (w->udf == NULL)
		return -ENOMEM;
	memset(&c, 0, sizeof(c));
	c.fn = w->dp->udf_fn;
	c.in = &p->schema;
	c.ts_field = p->source.ts_field;
	if (p->udf_kind == SLUICE_FN_AGGREGATE) {
		c.n_keys = p->n_keys;
		c.key_field = p->key_field;
	}
	c.n_params = p->udf_n_params;
	c.params = p->udf_param;
	rc = sl_udf_inst_setup(w->udf, &c, msg, sizeof(msg));
	if (rc < 0) {
		DP_LOG(ERR, "worker %u: %s", w->id, msg);
		free(w->udf);
		w->udf = NULL;
	}
	return rc;
}

/* A stateless worker: its own compiled map (expressions keep scratch). */
static int
worker_map_init(struct dp_worker *w)
{
	struct sl_schema out;

	if (w->dp->plan->udf_kind != 0)
		return worker_udf_init(w);
	if (w->dp->plan->n_map == 0)
		return 0;
	w->map = dp_map_create(w->dp->plan, &out);
	return w->map != NULL ? 0 : -EINVAL;
}

/*
 * A dedup pipeline's worker: the operator over the state just opened
 * (its descriptors registered before a restore loads their sections),
 * then the checkpoint's key groups and the timer queues rebuilt.
 */
static int
worker_dedup_init(struct dp_worker *w, uint32_t lo, uint32_t hi)
{
	struct sl_dedup_conf dc;
	int rc;

	dp_dedup_conf(w->dp, &dc);
	dc.first_kg = lo;
	dc.last_kg = hi;
	rc = sl_dedup_init(&w->dedup, &dc, w->st);
	if (rc < 0) {
		DP_LOG(ERR, "worker %u: dedup state: %s", w->id, strerror(-rc));
		return rc;
	}
	if (w->dp->rs == NULL)
		return 0;
	rc = restore(w, lo, hi);
	if (rc == 0) {
		rc = sl_dedup_restore_done(&w->dedup);
		if (rc < 0)
			DP_LOG(ERR, "worker %u: restore: the dedup's timers do not rebuild (%s)",
			       w->id, strerror(-rc));
	}
	return rc;
}

/*
 * A process pipeline's worker: the function's instance and its state
 * over the state just opened (its descriptors registered before a
 * restore loads their sections), then the checkpoint's key groups and
 * the timer queues rebuilt; the clock starts before (processing-time
 * timers a restore brings back that are due fire at the first tick,
 * R4.7).
 */
static int
worker_process_init(struct dp_worker *w, uint32_t lo, uint32_t hi)
{
	struct sl_process_conf pc;
	char msg[SL_PLAN_ERR_MAX];
	int rc;

	dp_process_conf(w->dp, &pc);
	pc.first_kg = lo;
	pc.last_kg = hi;
	rc = sl_process_init(&w->proc, &pc, w->st, dp_worker_res_row,
			     dp_worker_side_row, w, msg, sizeof(msg));
	if (rc < 0) {
		DP_LOG(ERR, "worker %u: process: %s", w->id, msg);
		return rc;
	}
	w->ptime = true;
	dp_worker_ptime_tick(w, rte_rdtsc());
	if (w->dp->rs == NULL)
		return 0;
	rc = restore(w, lo, hi);
	if (rc == 0) {
		rc = sl_process_restore_done(&w->proc);
		if (rc < 0)
			DP_LOG(ERR, "worker %u: restore: the process function's timers do not rebuild (%s)",
			       w->id, strerror(-rc));
	}
	return rc;
}

/* Filters after the keyed stage: this lcore's copies (expressions keep
 * scratch registers), over the stage's result rows. */
static int
worker_post_init(struct dp_worker *w)
{
	const struct sl_plan *p = w->dp->plan;

	for (uint16_t f = 0; f < p->n_post_filters; f++) {
		struct sl_expr_err err;

		w->post[f] = sl_expr_compile(p->post_filter_text[f], &w->dp->out, &err);
		if (w->post[f] == NULL) {
			DP_LOG(ERR, "%s: filter '%s' after the keyed stage: %s",
			       p->file, p->post_filter_text[f], err.msg);
			return -EINVAL;
		}
		w->n_post = (uint16_t)(f + 1);
	}
	return 0;
}

int
dp_worker_init(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *dp = w->dp;
	const struct sl_plan *p = dp->plan;
	struct sl_win_conf wc = dp->win_conf;
	struct sl_state_conf c;
	int rc;

	rc = worker_post_init(w);
	if (rc < 0)
		goto out;
	if (p->stateless) {
		rc = worker_map_init(w);
		if (rc == 0 && dp->eth_sink) {
			rc = sl_eth_sink_open(&w->esink, &p->sink, &dp->out, w->id);
			w->tx = rc == 0;
		}
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.max_parallelism = p->max_parallelism;
	sl_kg_range(w->id, p->max_parallelism, dp->n_workers, &c.first_kg, &c.last_kg);
	if (p->state.backend == SL_PLAN_BACKEND_ROCKSDB) {
		c.backend = SL_STATE_BACKEND_ROCKSDB;
		w->native = p->state.incremental && dp->ck != NULL;
		c.wal = w->native;	/* checkpoints copy the log, not flush */
		/* Flushes and compactions beside the main lcore, not here. */
		{
			/* The main lcore's CPU (its cpuset: with --lcores
			 * 0@N, rte_lcore_to_cpu_id() does not say N). */
			rte_cpuset_t cs = rte_lcore_cpuset(rte_get_main_lcore());

			for (int i = 0; i < CPU_SETSIZE && !c.bg_pin; i++)
				if (CPU_ISSET(i, &cs)) {
					c.bg_pin = true;
					c.bg_cpu = i;
				}
		}
		rc = rocks_dir(w, &c);
	} else {
		c.backend = SL_STATE_BACKEND_HEAP;
		rc = heap_memory(w, &c);
	}
	if (rc < 0)
		goto out;
	w->st = sl_state_open(&c);
	if (w->st == NULL) {
		rc = -errno;
		DP_LOG(ERR, "worker %u: the %s state backend does not open (%s)", w->id,
		       c.backend == SL_STATE_BACKEND_ROCKSDB ? "rocksdb" : "heap",
		       strerror(errno));
		goto out;
	}
	if (dp_dedup(p)) {
		rc = worker_dedup_init(w, c.first_kg, c.last_kg);
		goto out;
	}
	if (dp_join(p)) {
		rc = dp_worker_join_init(w, c.first_kg, c.last_kg);
		if (rc == 0 && dp->rs != NULL) {
			rc = restore(w, c.first_kg, c.last_kg);
			if (rc == 0)
				rc = dp_worker_join_opstate(w);
			if (rc == 0)
				rc = sl_join_restore_done(&w->join);
			if (rc < 0)
				DP_LOG(ERR, "worker %u: restore: the join's state does not load (%s)",
				       w->id, strerror(-rc));
		}
		goto out;
	}
	if (dp_process(p)) {
		rc = worker_process_init(w, c.first_kg, c.last_kg);
		goto out;
	}
	wc.first_kg = c.first_kg;
	wc.last_kg = c.last_kg;
	if (p->udf_kind == SLUICE_FN_AGGREGATE) {
		rc = worker_udf_init(w);
		if (rc < 0)
			goto out;
		for (uint16_t a = 0; a < wc.n_aggs; a++)
			if (wc.agg[a].fn == SL_WIN_UDF)
				wc.agg[a].uself = w->udf->self;
	}
	rc = sl_win_init(&w->win, &wc, w->st);
	if (rc < 0) {
		DP_LOG(ERR, "worker %u: window state: %s", w->id, strerror(-rc));
		goto out;
	}
	if (p->stage2.on) {
		rc = dp_worker_stage2_init(w);
		if (rc < 0)
			goto out;
	}
	/* Late firings (allowed lateness) go out with the results. */
	sl_win_set_output(&w->win, dp_worker_res_row, w);
	if (dp->plan->has_late_sink)
		sl_win_set_late_rows(&w->win, dp_worker_late_row, w);
	/* Processing time: the clock is set before a restore's in-flight
	 * rows go in (nothing is open yet, so nothing fires here); restored
	 * windows whose end it passed fire at the loop's first tick (R4.7). */
	w->ptime = wc.processing_time;
	if (w->ptime)
		dp_worker_ptime_tick(w, rte_rdtsc());
	if (dp->rs != NULL)
		rc = restore(w, c.first_kg, c.last_kg);
	if (rc == 0 && dp->rs != NULL) {
		rc = sl_win_restore_done(&w->win);
		if (rc < 0)
			DP_LOG(ERR, "worker %u: restore: the window's timers do not rebuild (%s)",
			       w->id, strerror(-rc));
	}
out:
	w->init_rc = rc;
	return rc;
}

int
dp_worker_fini(void *arg)
{
	struct dp_worker *w = arg;

	sl_map_free(w->map);
	w->map = NULL;
	for (uint16_t f = 0; f < w->n_post; f++)
		sl_expr_free(w->post[f]);
	w->n_post = 0;
	if (w->udf != NULL) {
		sl_udf_inst_fini(w->udf);
		free(w->udf);
		w->udf = NULL;
	}
	/* The main lcore is done with any snapshot by now. */
	if (dp_dedup(w->dp->plan))
		sl_dedup_fini(&w->dedup);
	if (dp_join(w->dp->plan))
		sl_join_fini(&w->join);
	if (dp_process(w->dp->plan))
		sl_process_fini(&w->proc);
	sl_win_snapshot_end(&w->win);
	dp_worker_chan_release(w);
	free(w->chan);
	w->chan = NULL;
	if (w->dp->plan->stage2.on)
		dp_worker_stage2_fini(w);
	sl_win_fini(&w->win);
	if (w->st != NULL)
		sl_state_close(w->st);
	w->st = NULL;
	if (w->rocks_dir[0] != '\0') {
		char *slash;

		(void)dp_rm_tree(w->rocks_dir);
		slash = strrchr(w->rocks_dir, '/');
		if (slash != NULL) {
			*slash = '\0';
			rmdir(w->rocks_dir);	/* the last worker out removes it */
		}
	}
	/* The arena's memory stays mapped: mimalloc cannot forget an arena,
	 * and the process is about to exit anyway. */
	return 0;
}
