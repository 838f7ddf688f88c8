/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The event loop, shaped like Redis ae: file events and timers, a
 * before-sleep hook, poll(2) underneath. sluiced watches a few dozen fds
 * at most, so a linear scan beats anything cleverer; a callback may add
 * or delete fds and timers (including its own) while events are being
 * dispatched.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sld.h"

struct sld_fdent {
	int fd;				/* -1: free slot */
	short events;
	uint32_t gen;			/* bumped on every add: no stale dispatch */
	sld_fd_cb cb;
	void *arg;
};

struct sld_timer {
	uint64_t id;			/* 0: free slot */
	int64_t when;
	sld_timer_cb cb;
	void *arg;
};

struct sld_loop {
	struct sld_fdent *fds;
	unsigned int nfds, capfds;
	struct sld_timer *timers;
	unsigned int ntimers, captimers;
	uint64_t next_id;
	uint32_t gen;
	sld_timer_cb before_sleep;
	void *before_arg;
	bool stop;
	struct pollfd *pfd;
	uint32_t *pgen;
	unsigned int *pslot;
};

void
sld_log(const char *fmt, ...)
{
	va_list ap;

	/* One line per event; journald adds the time. */
	fputs("sluiced: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int64_t
sld_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sld_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sld_loop *
sld_loop_new(void)
{
	return calloc(1, sizeof(struct sld_loop));
}

void
sld_loop_free(struct sld_loop *l)
{
	if (l == NULL)
		return;
	free(l->fds);
	free(l->timers);
	free(l->pfd);
	free(l->pgen);
	free(l->pslot);
	free(l);
}

static struct sld_fdent *
fd_find(struct sld_loop *l, int fd)
{
	for (unsigned int i = 0; i < l->nfds; i++)
		if (l->fds[i].fd == fd)
			return &l->fds[i];
	return NULL;
}

int
sld_loop_add_fd(struct sld_loop *l, int fd, short events, sld_fd_cb cb,
		void *arg)
{
	struct sld_fdent *e = NULL;

	for (unsigned int i = 0; i < l->nfds; i++)
		if (l->fds[i].fd < 0) {
			e = &l->fds[i];
			break;
		}
	if (e == NULL) {
		if (l->nfds == l->capfds) {
			unsigned int cap = l->capfds ? l->capfds * 2 : 32;
			struct sld_fdent *n = realloc(l->fds, cap * sizeof(*n));
			struct pollfd *p = realloc(l->pfd, cap * sizeof(*p));
			uint32_t *g;
			unsigned int *s;

			if (n != NULL)
				l->fds = n;
			if (p != NULL)
				l->pfd = p;
			g = realloc(l->pgen, cap * sizeof(*g));
			if (g != NULL)
				l->pgen = g;
			s = realloc(l->pslot, cap * sizeof(*s));
			if (s != NULL)
				l->pslot = s;
			if (n == NULL || p == NULL || g == NULL || s == NULL)
				return -ENOMEM;
			l->capfds = cap;
		}
		e = &l->fds[l->nfds++];
	}
	e->fd = fd;
	e->events = events;
	e->gen = ++l->gen;
	e->cb = cb;
	e->arg = arg;
	return 0;
}

int
sld_loop_mod_fd(struct sld_loop *l, int fd, short events)
{
	struct sld_fdent *e = fd_find(l, fd);

	if (e == NULL)
		return -ENOENT;
	e->events = events;
	return 0;
}

void
sld_loop_del_fd(struct sld_loop *l, int fd)
{
	struct sld_fdent *e = fd_find(l, fd);

	if (e != NULL)
		e->fd = -1;
}

uint64_t
sld_loop_add_timer(struct sld_loop *l, int64_t after_ms, sld_timer_cb cb,
		   void *arg)
{
	struct sld_timer *t = NULL;

	for (unsigned int i = 0; i < l->ntimers; i++)
		if (l->timers[i].id == 0) {
			t = &l->timers[i];
			break;
		}
	if (t == NULL) {
		if (l->ntimers == l->captimers) {
			unsigned int cap = l->captimers ? l->captimers * 2 : 32;
			struct sld_timer *n = realloc(l->timers, cap * sizeof(*n));

			if (n == NULL)
				return 0;
			l->timers = n;
			l->captimers = cap;
		}
		t = &l->timers[l->ntimers++];
	}
	t->id = ++l->next_id;
	t->when = sld_now_ms() + (after_ms > 0 ? after_ms : 0);
	t->cb = cb;
	t->arg = arg;
	return t->id;
}

void
sld_loop_del_timer(struct sld_loop *l, uint64_t id)
{
	if (id == 0)
		return;
	for (unsigned int i = 0; i < l->ntimers; i++)
		if (l->timers[i].id == id)
			l->timers[i].id = 0;
}

void
sld_loop_set_before_sleep(struct sld_loop *l, sld_timer_cb cb, void *arg)
{
	l->before_sleep = cb;
	l->before_arg = arg;
}

void
sld_loop_stop(struct sld_loop *l)
{
	l->stop = true;
}

static void
run_timers(struct sld_loop *l)
{
	int64_t now = sld_now_ms();

	/* A timer added by a callback waits for the next round. */
	for (unsigned int i = 0, n = l->ntimers; i < n; i++) {
		struct sld_timer *t = &l->timers[i];

		if (t->id != 0 && t->when <= now) {
			sld_timer_cb cb = t->cb;
			void *arg = t->arg;

			t->id = 0;
			cb(l, arg);
		}
	}
}

static int
next_timeout(const struct sld_loop *l)
{
	int64_t now = sld_now_ms(), best = -1;

	for (unsigned int i = 0; i < l->ntimers; i++) {
		const struct sld_timer *t = &l->timers[i];

		if (t->id == 0)
			continue;
		if (best < 0 || t->when - now < best)
			best = t->when - now < 0 ? 0 : t->when - now;
	}
	return best > 60000 ? 60000 : (int)best;
}

int
sld_loop_run(struct sld_loop *l)
{
	while (!l->stop) {
		unsigned int n = 0;
		int rc;

		if (l->before_sleep != NULL)
			l->before_sleep(l, l->before_arg);
		if (l->stop)
			break;
		for (unsigned int i = 0; i < l->nfds; i++) {
			if (l->fds[i].fd < 0)
				continue;
			l->pfd[n] = (struct pollfd){ .fd = l->fds[i].fd,
						     .events = l->fds[i].events };
			l->pgen[n] = l->fds[i].gen;
			l->pslot[n] = i;
			n++;
		}
		rc = poll(l->pfd, n, next_timeout(l));
		if (rc < 0 && errno != EINTR) {
			SLD_LOG("poll failed: %s; exiting", strerror(errno));
			return -errno;
		}
		for (unsigned int i = 0; rc > 0 && i < n; i++) {
			struct sld_fdent *e = &l->fds[l->pslot[i]];

			if (l->pfd[i].revents == 0)
				continue;
			/* Deleted or replaced by an earlier callback this round. */
			if (e->fd != l->pfd[i].fd || e->gen != l->pgen[i])
				continue;
			e->cb(l, e->fd, l->pfd[i].revents, e->arg);
		}
		run_timers(l);
	}
	return 0;
}
