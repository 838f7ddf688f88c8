/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SL_CKPT_H
#define SL_CKPT_H

/**
 * @file
 * Checkpoint storage: snapshot files, their manifest, and an io_uring
 * writer that makes them durable without blocking the caller. EAL-free.
 *
 * On disk (docs/checkpoints.md; ckpt_format.h is the source of truth):
 *
 *   ROOT/chk-<id>/<task>        one snapshot file per task ("worker-2",
 *                               "source-0", "sink-0"), crc32c per section
 *   ROOT/chk-<id>/_manifest     written last, by the coordinator; a
 *                               checkpoint without one never completed
 *
 * Intended call sequence (design.md "State and checkpoints", style.md 3.3):
 *
 *   dataplane main lcore, per checkpoint id:
 *     sl_ckpt_dir_create(root, id, &dirfd)                  once, cold
 *     per task: sl_ckpt_builder_init(), _begin/_append/_end per key group
 *               (in slices, from the snapshot iterator), _finish()
 *               sl_ckpt_writer_submit(w, dirfd, name, buf, len, tag, flags)
 *     every main-loop pass: sl_ckpt_writer_poll(w, done, n)
 *               -> on done[i].res == 0 ack the task to sluiced with
 *                  size and crc (struct sl_ckpt_mfile)
 *   sluiced, when every task has acknowledged:
 *     sl_ckpt_manifest_submit(w, dirfd, &manifest, tag) then poll;
 *     on success the checkpoint is complete: sl_ckpt_retain(root, n)
 *   recovery (sluiced or sluice-dp at start):
 *     sl_ckpt_latest(root, &latest) -> manifest + directory, with the
 *     reasons every newer checkpoint was rejected; then per task file
 *     sl_ckpt_file_load() + sl_ckpt_reader_open() + sl_ckpt_reader_kg()
 *     to pick the key groups the new worker owns (N -> M rescaling).
 *
 * Errors are 0 or -errno. Functions that can fail for a reason a person
 * must read fill a caller buffer (err, errlen) and never print.
 * Nothing here touches a dataplane worker's hot path.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* crc32c (Castagnoli, reflected polynomial 0x82F63B78)                */

/**
 * crc32c of len bytes, continuing from crc (0 to start; the previous
 * return value to continue: crc(a||b) == crc32c(crc32c(0, a), b)).
 * Uses SSE4.2 when the CPU has it, a table otherwise. Any thread.
 * crc32c(0, "123456789", 9) == 0xE3069283.
 */
uint32_t sl_ckpt_crc32c(uint32_t crc, const void *buf, size_t len);

/**
 * crc32c of a||b from crc1 = crc32c(0, a) (or any running value),
 * crc2 = crc32c(0, b) and b's length, without b's bytes: O(log len2).
 */
uint32_t sl_ckpt_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);

/** The table version of sl_ckpt_crc32c(), for tests and comparison. */
uint32_t sl_ckpt_crc32c_sw(uint32_t crc, const void *buf, size_t len);

/** True when sl_ckpt_crc32c() uses the SSE4.2 instruction. */
bool sl_ckpt_crc32c_hw(void);

/* ------------------------------------------------------------------ */
/* Fault injection (style.md item 18). Site numbers are stable: never   */
/* renumber or reuse one. The sl_fault_ prefix is shared with future    */
/* sites outside checkpoints; they live here until a second module     */
/* needs them.                                                         */

enum sl_fault_site {
	SL_FAULT_NONE = 0,
	/** First write returns half its bytes; the writer must resubmit
	 * the rest and the file must end up complete (not a failure). */
	SL_FAULT_CKPT_WRITE_SHORT = 1,
	/** A write fails with -ENOSPC: the file's op fails, tmp removed. */
	SL_FAULT_CKPT_WRITE_ENOSPC = 2,
	/** The file's fsync fails with -EIO: op fails, tmp removed. */
	SL_FAULT_CKPT_FSYNC_EIO = 3,
	/** The rename into place fails with -EIO (never submitted): op
	 * fails, tmp removed, the final name never appears. */
	SL_FAULT_CKPT_RENAME = 4,
	/** Storage "loses" the second half: only half the bytes are
	 * written, yet the file is renamed into place and the op reports
	 * success, as after a crash on storage that lied about fsync. Only
	 * the reader's crc checks catch it (recovery must fall back). */
	SL_FAULT_CKPT_TORN = 5,
	/** The directory fsync after the rename fails with -EIO: the op
	 * fails; the file is in place but its name may not be durable. */
	SL_FAULT_CKPT_DIRSYNC_EIO = 6,
	/** Opening NAME.tmp fails with -EACCES. */
	SL_FAULT_CKPT_OPEN = 7,
	SL_FAULT__MAX
};

/** Non-zero while any site is armed; read by sl_fault_sim(). */
extern atomic_uint sl_fault_armed_;

/* Out of line so the unarmed branch stays small. */
bool sl_fault_hit_(enum sl_fault_site site);

/**
 * True when an armed fault fires at this site. Unarmed it is one load of
 * a global and a predicted branch. Call from the thread that runs the
 * faultable step (the writer's thread).
 */
static inline bool
sl_fault_sim(enum sl_fault_site site)
{
	/* Relaxed: arming happens before the faulted work starts. */
	if (__builtin_expect(atomic_load_explicit(&sl_fault_armed_,
						  memory_order_relaxed) == 0, 1))
		return false;
	return sl_fault_hit_(site);
}

/**
 * Arm site to fire once, after after_n hits have passed (0: the next
 * hit fires). Tests and chaos runs only; not thread-safe against
 * sl_fault_sim() on another thread.
 */
void sl_fault_arm(enum sl_fault_site site, unsigned int after_n);

/** Disarm every site and reset the hit counters. */
void sl_fault_disarm_all(void);

/** Number of times site fired since the last sl_fault_disarm_all(). */
unsigned int sl_fault_fired(enum sl_fault_site site);

/**
 * Arm from SLUICE_FAULT="site:n[,site:n...]" where site is a number or a
 * name ("ckpt_write_enospc"). Unset or empty: nothing armed, returns 0.
 * -EINVAL with a message in err on a bad value. sl_ckpt_writer_create()
 * calls it, so a chaos test can break a process it does not link.
 */
int sl_fault_arm_from_env(char *err, size_t errlen);

/** "ckpt_write_short" etc.; "?" for an unknown site. */
const char *sl_fault_name(enum sl_fault_site site);

/* ------------------------------------------------------------------ */
/* Snapshot files                                                      */

/** What a section holds (stable numbers; stored on disk). */
enum sl_ckpt_sec_kind {
	SL_CKPT_SEC_KEYED = 1,		/**< keyed state of one key group */
	SL_CKPT_SEC_OPERATOR = 2,	/**< operator (non-keyed) state */
	SL_CKPT_SEC_SOURCE = 3,		/**< source offsets / splits */
	SL_CKPT_SEC_SINK = 4,		/**< sink pending transactions */
	SL_CKPT_SEC_CHANNEL = 5,	/**< unaligned in-flight data */
};

/** Which task wrote a file (stable numbers; stored on disk). */
enum sl_ckpt_task {
	SL_CKPT_TASK_SOURCE = 1,
	SL_CKPT_TASK_WORKER = 2,
	SL_CKPT_TASK_SINK = 3,
	/** A file of a worker's native RocksDB checkpoint, e.g.
	 * "worker-0.db/000012.sst": not a task file (no header or
	 * sections); verified by size and whole-file crc32c only. */
	SL_CKPT_TASK_NATIVE = 4,
};

/** key_group of a section that is not keyed. */
#define SL_CKPT_NO_KG UINT32_MAX
#define SL_CKPT_JOB_MAX 48	/**< job name bytes kept in a file, with NUL */

/** A file's header fields; filled by the caller for the builder, by
 * the reader on open. */
struct sl_ckpt_file_info {
	uint64_t ckpt_id;
	uint64_t created_ns;		/**< CLOCK_REALTIME; 0 = now */
	uint64_t job_hash;		/**< out: FNV-1a 64 of the full job name */
	char job[SL_CKPT_JOB_MAX];	/**< truncated copy of the job name */
	/** Builder input, optional: the full job name (any length). When
	 * set, it is hashed and its first 47 bytes stored, and job[] is
	 * ignored, so callers need not truncate. The reader sets it NULL. */
	const char *job_name;
	uint16_t task_kind;		/**< enum sl_ckpt_task */
	uint16_t task_index;
	uint32_t max_parallelism;	/**< number of key groups */
	uint32_t parallelism;		/**< tasks of this kind at snapshot */
	/* Filled by the reader (and by sl_ckpt_builder_finish()). */
	uint32_t n_sections;
	uint64_t size;			/**< whole file, bytes */
	uint32_t crc;			/**< crc32c of the whole file */
};

/**
 * Appends sections into memory. Owned by one thread (the main lcore or a
 * snapshot slice); never used on a worker's hot path. With a caller
 * buffer it never allocates and fails -ENOBUFS when full; with buf NULL
 * (or _init_grow) it grows by doubling into SL_CKPT_ALIGN-aligned memory.
 */
#define SL_CKPT_ALIGN 4096u
struct sl_ckpt_builder {
	uint8_t *buf;
	size_t len;
	size_t cap;
	bool owned;		/* buf is ours (growing mode) */
	bool in_section;	/* between _begin and _end */
	int err;		/* sticky: first failure, reported by _finish */
	uint32_t n_sections;
	uint32_t meta_crc;	/* over header + section headers so far */
	uint32_t file_crc;	/* over every byte so far */
	uint32_t sec_crc;	/* open section's payload */
	size_t sec_off;		/* open section's header offset (in buf) */
	uint64_t base;		/* file offset of buf[0]: bytes handed out
				 * by _swap (streaming) */
};

/**
 * Start a file. info: ckpt_id, job, task_kind, task_index,
 * max_parallelism, parallelism, created_ns (0: now). buf/cap: caller
 * memory (not freed by the builder) or NULL/0 to grow. -EINVAL on a bad
 * info, -ENOBUFS if cap cannot hold the header, -ENOMEM.
 */
int sl_ckpt_builder_init(struct sl_ckpt_builder *b, void *buf, size_t cap,
			 const struct sl_ckpt_file_info *info);

/**
 * Like _init in growing mode, but starting over buf[0..cap), a buffer an
 * earlier _release handed out (or NULL): the builder owns it from here
 * and grows it as needed. Keeping a large file's buffer from one
 * checkpoint to the next saves the first touch of every page (faults,
 * zeroing) and the unmap each time. On failure buf is freed.
 */
int sl_ckpt_builder_init_grow(struct sl_ckpt_builder *b, void *buf, size_t cap,
			      const struct sl_ckpt_file_info *info);

/**
 * Streaming: the file leaves in pieces while it is built, so it never
 * needs a buffer of its size (a worker's is hundreds of MB). Between
 * sections, _flushable() is how many bytes at the front of the buffer
 * may go (a multiple of SL_CKPT_ALIGN, so they can be written O_DIRECT
 * at their file offset); _swap() hands the buffer out (*out, *out_len:
 * those bytes, at file offset *out_off) and goes on in nbuf (a caller
 * buffer of ncap bytes, SL_CKPT_ALIGN-aligned), to which it moves the
 * rest. _finish then gives the last piece; info->size is the whole
 * file's. -EINVAL inside a section or when nothing can go, -ENOBUFS when
 * the rest does not fit in nbuf.
 */
size_t sl_ckpt_builder_flushable(const struct sl_ckpt_builder *b);
int sl_ckpt_builder_swap(struct sl_ckpt_builder *b, void *nbuf, size_t ncap,
			 void **out, size_t *out_len, uint64_t *out_off);

/** Open a section; then _append its payload in as many pieces as
 * wanted, then _end. kg is SL_CKPT_NO_KG unless kind is KEYED. */
int sl_ckpt_builder_begin(struct sl_ckpt_builder *b, enum sl_ckpt_sec_kind kind,
			  uint32_t op_id, uint32_t kg);
int sl_ckpt_builder_append(struct sl_ckpt_builder *b, const void *p, size_t len);
int sl_ckpt_builder_end(struct sl_ckpt_builder *b);

/** _begin + _append + _end in one call. */
int sl_ckpt_builder_add(struct sl_ckpt_builder *b, enum sl_ckpt_sec_kind kind,
			uint32_t op_id, uint32_t kg, const void *p, size_t len);

/**
 * Append the trailer. On success *data and *len are the whole file (still
 * owned by the builder in growing mode: take it with _release or free it
 * with _fini) and info (if not NULL) gets size, crc and n_sections.
 * Returns the first error any earlier call hit (-ENOBUFS, -ENOMEM,
 * -EINVAL for a section left open).
 */
int sl_ckpt_builder_finish(struct sl_ckpt_builder *b, const void **data, size_t *len,
			   struct sl_ckpt_file_info *info);

/** Hand the grown buffer (SL_CKPT_ALIGN-aligned; free() it later) to the
 * caller, its capacity into *cap if cap is not NULL; NULL for a caller
 * buffer. The builder is then empty. */
void *sl_ckpt_builder_release(struct sl_ckpt_builder *b, size_t *cap);

/** Free a grown buffer. Safe to call twice. */
void sl_ckpt_builder_fini(struct sl_ckpt_builder *b);

/** One section, as iterated by the reader. data points into the file. */
struct sl_ckpt_section {
	uint32_t index;		/**< 0-based position in the file */
	uint16_t kind;		/**< enum sl_ckpt_sec_kind */
	uint32_t op_id;
	uint32_t key_group;	/**< SL_CKPT_NO_KG if not keyed */
	uint64_t offset;	/**< payload offset in the file */
	uint64_t len;
	const void *data;
};

/** Iterates a validated file. Plain data: copy freely. */
struct sl_ckpt_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	uint32_t next;
	uint32_t n;
	uint32_t kg_first, kg_last;
	bool kg_filter;
};

/**
 * Validate the whole file in buf (magic, version, every section header
 * and payload crc, trailer, torn tails) before anything is iterated.
 * -EBADMSG with a precise message in err for a corrupt or torn file,
 * e.g. "section 3 (keyed-state, kg 17): crc mismatch at offset 4096:
 * file is corrupt"; -EPROTONOSUPPORT for a newer format version.
 * info may be NULL. Any thread; cold.
 */
int sl_ckpt_reader_open(struct sl_ckpt_reader *r, const void *buf, size_t len,
			struct sl_ckpt_file_info *info, char *err, size_t errlen);

/** Only return keyed sections with first <= kg <= last (non-keyed
 * sections are still returned). Call before the first _next. */
void sl_ckpt_reader_kg(struct sl_ckpt_reader *r, uint32_t first, uint32_t last);

/** Next section: 1 and *s filled, or 0 at the end. */
int sl_ckpt_reader_next(struct sl_ckpt_reader *r, struct sl_ckpt_section *s);

/** "keyed-state", "operator-state", "source-offsets", "sink-state",
 * "channel-state", or "unknown-kind". */
const char *sl_ckpt_sec_kind_name(unsigned int kind);

/** "source", "worker", "sink", "native", or "task" for an unknown kind. */
const char *sl_ckpt_task_name(unsigned int kind);

/** File name of a task's snapshot: "worker-2". -ENAMETOOLONG if n too small. */
int sl_ckpt_task_file(char *buf, size_t n, enum sl_ckpt_task kind, uint16_t index);

/**
 * Read a whole file (blocking pread; recovery and verification are
 * cold). *buf is malloc'd: free() it. -errno with a message.
 */
int sl_ckpt_file_load(int dirfd, const char *name, void **buf, size_t *len,
		      char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* io_uring writer                                                     */

/**
 * One io_uring, owned by one thread (the dataplane main lcore, or
 * sluiced's loop). Each submitted file goes: openat NAME.tmp -> write(s)
 * linked to fsync -> close + renameat NAME.tmp NAME linked to fsync of
 * the directory. Every step is submitted from a completion, so no call
 * blocks for I/O. A short write is resubmitted for the rest. On failure
 * NAME.tmp is unlinked (through the ring) before the failure is reported,
 * and NAME never appears.
 */
struct sl_ckpt_writer;

/** Submit flags. */
#define SL_CKPT_W_FREE 0x1u	/**< free(buf) when the op is reported */
/**
 * Write buf around the page cache (O_DIRECT): no copy into the cache and
 * no writeback by kernel threads that may run on a polling lcore's CPU.
 * Taken only when buf is SL_CKPT_ALIGN-aligned; the unaligned tail is
 * written through the cache, and a file system that refuses O_DIRECT
 * (tmpfs) gets an ordinary write. For large files (a worker's state).
 */
#define SL_CKPT_W_DIRECT 0x2u

/** Which step an op is in, or failed in. */
enum sl_ckpt_step {
	SL_CKPT_STEP_OPEN = 1,
	SL_CKPT_STEP_WRITE,
	SL_CKPT_STEP_FSYNC,
	SL_CKPT_STEP_RENAME,
	SL_CKPT_STEP_DIRSYNC,
	SL_CKPT_STEP_DONE,
};

/** A finished op, as reported by sl_ckpt_writer_poll(). */
struct sl_ckpt_done {
	uint64_t tag;		/**< as given to submit */
	int res;		/**< 0, or -errno of the first failure */
	uint16_t step;		/**< enum sl_ckpt_step that failed (DONE on success) */
	uint64_t bytes;		/**< bytes written */
	uint64_t fsync_ns;	/**< write-submit -> fsync completion */
	uint64_t total_ns;	/**< submit -> reported */
	char name[64];		/**< final file name (truncated) */
};

/**
 * Create a writer with room for max_ops files in flight (1..1024; 0 picks
 * 16). The kernel's io_uring worker threads are kept on the CPUs the
 * calling thread may run on (call it on the main lcore, so they never
 * take a polling lcore's CPU). Also arms faults from SLUICE_FAULT.
 * -ENOSYS or -EPERM when
 * io_uring is not available (seccomp, kernel.io_uring_disabled): say so
 * and run without checkpoints. Cold.
 */
int sl_ckpt_writer_create(unsigned int max_ops, struct sl_ckpt_writer **out);

/**
 * Wait for every op in flight to end (this one blocks; use it at stop),
 * discard their reports, and free the writer. NULL is a no-op.
 */
void sl_ckpt_writer_destroy(struct sl_ckpt_writer *w);

/**
 * Queue a file: buf[0..len) becomes dirfd/name, durably, or fails. buf
 * must stay valid and unchanged until the op is reported by _poll (or
 * pass SL_CKPT_W_FREE to hand it over). dirfd stays open until then.
 * -EAGAIN when max_ops are in flight (poll, then retry),
 * -ENAMETOOLONG, -EINVAL. Never blocks.
 */
int sl_ckpt_writer_submit(struct sl_ckpt_writer *w, int dirfd, const char *name,
			  const void *buf, size_t len, uint64_t tag, unsigned int flags);

/**
 * Open dirfd/name as a stream: its bytes follow in pieces
 * (_append), then _close_stream makes it durable under its name (fsync,
 * rename, fsync of the directory) and it is reported by _poll like a
 * submitted file, whose bytes are all the pieces'. *sid names it for
 * those calls until then. Flags as _submit (SL_CKPT_W_FREE is ignored).
 * -EAGAIN when max_ops are in flight. Never blocks.
 */
int sl_ckpt_writer_open_stream(struct sl_ckpt_writer *w, int dirfd, const char *name,
			       uint64_t tag, unsigned int flags, unsigned int *sid);

/**
 * Queue buf[0..len) for the stream's file offset off. Pieces are written
 * in the order given, one at a time; buf stays the caller's, unchanged,
 * until _released gives its cookie back. With SL_CKPT_W_DIRECT, pieces
 * whose buf, len and off are SL_CKPT_ALIGN-aligned go around the page
 * cache; from the first that is not, the rest goes through it. -EAGAIN
 * when 64 pieces wait already (poll, then retry); -EINVAL after close.
 * A stream that failed takes pieces and hands them straight back; it
 * is reported (with its failure) only after _close_stream, and from
 * then on its sid is no more.
 */
int sl_ckpt_writer_append(struct sl_ckpt_writer *w, unsigned int sid, const void *buf,
			  size_t len, uint64_t off, uint64_t cookie);

/** No more pieces: the stream ends once they are written. */
int sl_ckpt_writer_close_stream(struct sl_ckpt_writer *w, unsigned int sid);

/**
 * Give the stream up: it fails with -ECANCELED, its tmp is removed and
 * its pieces come back; reported by _poll like any failed file.
 */
int sl_ckpt_writer_abort_stream(struct sl_ckpt_writer *w, unsigned int sid);

/**
 * Cookies of stream pieces the writer is done with (written, or dropped
 * when their stream failed), up to n, oldest first. Call after _poll.
 */
unsigned int sl_ckpt_writer_released(struct sl_ckpt_writer *w, uint64_t *cookies,
				     unsigned int n);

/**
 * Reap completions (in batches), submit the next step of every op they
 * advance, and report up to n finished ops into done. Returns the number
 * reported. Never waits.
 */
unsigned int sl_ckpt_writer_poll(struct sl_ckpt_writer *w, struct sl_ckpt_done *done,
				 unsigned int n);

/**
 * Like _poll, but waits until at least one op is reported or timeout_ms
 * passes (-1: forever). For tests, tools and shutdown; never on a
 * polling lcore.
 */
unsigned int sl_ckpt_writer_wait(struct sl_ckpt_writer *w, struct sl_ckpt_done *done,
				 unsigned int n, int timeout_ms);

/** Ops submitted and not yet reported. */
unsigned int sl_ckpt_writer_pending(const struct sl_ckpt_writer *w);

/**
 * An eventfd that becomes readable when completions arrive, for an
 * epoll/poll loop (sluiced). Created on first call; -errno on failure.
 * The caller reads it to clear it; the writer owns and closes it.
 */
int sl_ckpt_writer_eventfd(struct sl_ckpt_writer *w);

/**
 * mkdir ROOT (if missing) and ROOT/chk-<id> (or reuse it), open it and
 * return the O_DIRECTORY fd in *dirfd (caller closes it after every op on
 * it was reported). Blocking metadata syscalls: call at trigger time on
 * the main lcore or in sluiced, once per checkpoint.
 */
int sl_ckpt_dir_create(const char *root, uint64_t ckpt_id, int *dirfd,
		       char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Manifest, completed checkpoints                                     */

#define SL_CKPT_MANIFEST "_manifest"
#define SL_CKPT_MAX_FILES 512
#define SL_CKPT_MAX_OFFSETS 256
#define SL_CKPT_NAME_MAX 32

enum sl_ckpt_kind {
	SL_CKPT_CHECKPOINT = 1,
	SL_CKPT_SAVEPOINT = 2,
};

/** One task file as listed in a manifest (from the writer's ack). */
struct sl_ckpt_mfile {
	char name[SL_CKPT_NAME_MAX];	/**< "worker-2", "worker-2.db/000009.sst" */
	uint16_t task_kind;		/**< enum sl_ckpt_task */
	uint16_t task_index;
	uint64_t size;
	uint32_t crc;			/**< crc32c of the whole file */
	/** native: the same file (a hard link) was in the previous
	 * checkpoint, so this one did not write it */
	uint8_t shared;
};

/** A source partition's next offset, for display (the authoritative
 * offsets are in the source files' sections). */
struct sl_ckpt_offset {
	uint16_t source;
	uint32_t partition;
	uint64_t offset;
};

/** Content of chk-<id>/_manifest. About 40 KiB: do not put it on a
 * small stack. */
struct sl_ckpt_manifest {
	char job[128];
	uint64_t ckpt_id;
	uint16_t kind;			/**< enum sl_ckpt_kind */
	uint64_t trigger_ns;		/**< CLOCK_REALTIME */
	uint64_t complete_ns;		/**< when the coordinator committed */
	uint32_t max_parallelism;
	uint32_t n_workers;		/**< worker count at snapshot (N of N->M) */
	uint32_t n_sources;
	uint32_t n_files;
	struct sl_ckpt_mfile files[SL_CKPT_MAX_FILES];
	uint32_t n_offsets;
	struct sl_ckpt_offset offsets[SL_CKPT_MAX_OFFSETS];
};

/**
 * Encode m (JSON, one line, ending in its own crc32c; see
 * docs/checkpoints.md) into a malloc'd buffer. -EINVAL, -ENOMEM.
 */
int sl_ckpt_manifest_encode(const struct sl_ckpt_manifest *m, char **out, size_t *len);

/** Parse and crc-check a manifest. -EBADMSG with the reason. Fuzzed. */
int sl_ckpt_manifest_decode(const void *buf, size_t len, struct sl_ckpt_manifest *m,
			    char *err, size_t errlen);

/**
 * Commit: encode m and submit it as dirfd/_manifest through w (write
 * tmp, fsync, renameat, fsync dir). The checkpoint is complete when the
 * op with this tag is reported with res 0. Never blocks.
 */
int sl_ckpt_manifest_submit(struct sl_ckpt_writer *w, int dirfd,
			    const struct sl_ckpt_manifest *m, uint64_t tag);

/**
 * Verify ROOT/chk-<id>: the manifest's crc and fields, and every listed
 * file's size, whole-file crc32c and full validation. m may be NULL.
 * If full is false, files are only checked for presence and size (cheap).
 * -EBADMSG / -ENOENT with "chk-7: worker-1: section 3 (...)".
 */
int sl_ckpt_verify(const char *root, uint64_t id, bool full, struct sl_ckpt_manifest *m,
		   char *err, size_t errlen);

/** Result of sl_ckpt_latest(). Large: allocate it. */
struct sl_ckpt_latest {
	uint64_t id;
	char dir[4096];			/**< ROOT/chk-<id> */
	struct sl_ckpt_manifest m;
	unsigned int n_rejected;	/**< newer checkpoints passed over */
	char rejected[2048];		/**< one line per rejection, why */
};

/**
 * Newest checkpoint under root whose manifest and every file verify
 * (full crc). Newer ones that fail are listed in out->rejected, newest
 * first, e.g. "chk-9: worker-0: torn: ...". Directories without a
 * manifest are skipped silently (never completed). -ENOENT when none
 * verifies (out->rejected still says why). Cold; reads every file.
 */
int sl_ckpt_latest(const char *root, struct sl_ckpt_latest *out);

enum sl_ckpt_status {
	SL_CKPT_ST_COMPLETE = 0,	/**< manifest verifies (and files, if checked) */
	SL_CKPT_ST_INCOMPLETE = 1,	/**< no manifest: never completed */
	SL_CKPT_ST_CORRUPT = 2,		/**< see reason */
};

/** One row of `sluicectl checkpoints`. */
struct sl_ckpt_entry {
	uint64_t id;
	uint16_t kind;			/**< enum sl_ckpt_kind (0 if unknown) */
	uint16_t status;		/**< enum sl_ckpt_status */
	uint64_t bytes;			/**< sum of listed file sizes */
	uint64_t new_bytes;		/**< bytes minus shared native files */
	uint64_t duration_ns;		/**< complete - trigger */
	uint64_t complete_ns;
	uint32_t n_files;
	char reason[200];
};

/**
 * List chk-* under root, newest first, at most max rows into out, total
 * found in *n_found. full: crc-check every file (slow) instead of size.
 * Missing root: 0 rows, returns 0.
 */
int sl_ckpt_list(const char *root, bool full, struct sl_ckpt_entry *out,
		 unsigned int max, unsigned int *n_found, char *err, size_t errlen);

/**
 * Keep the newest keep (>= 1) complete checkpoints (manifest verifies,
 * files present with their sizes); delete older complete ones and every
 * chk-* without a valid manifest whose id is below the newest complete
 * one. Savepoints (kind savepoint) are never deleted. *n_deleted may be
 * NULL. Blocking unlinks: sluiced, after a commit.
 */
int sl_ckpt_retain(const char *root, unsigned int keep, unsigned int *n_deleted,
		   char *err, size_t errlen);

#endif /* SL_CKPT_H */
