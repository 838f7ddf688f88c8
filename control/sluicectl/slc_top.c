/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `sluicectl top JOB`: one `metrics` request per interval, redrawn with a
 * plain ANSI clear-screen, like top. The frame is a pure function of the
 * reply's data (slc_top_frame), so its layout is checked byte for byte by
 * the unit tests from a canned reply. The terminal is put in
 * non-canonical mode only to read 'q' without Enter, and restored on
 * every exit path.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "slc.h"

static void
ring_cell(const json_t *lc, char *buf, size_t len)
{
	const json_t *rings = json_object_get(lc, "rings"), *r;
	json_int_t used = 0, cap = 0;
	size_t i;

	if (json_array_size(rings) == 0) {
		snprintf(buf, len, "-");
		return;
	}
	/* All input rings of a worker together: how full its inputs are. */
	json_array_foreach(rings, i, r) {
		used += json_integer_value(json_object_get(r, "used"));
		cap += json_integer_value(json_object_get(r, "capacity"));
	}
	snprintf(buf, len, "%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " %d%%",
		 used, cap, cap > 0 ? (int)(used * 100 / cap) : 0);
}

void
slc_top_frame(FILE *f, const json_t *data)
{
	static const char *const hdr[] = { "ROLE", "ID", "LCORE", "CPU", "IN/s",
		"OUT/s", "BUSY%", "BP%", "RING", "WATERMARK", "LAG" };
	static const bool right[] = { false, true, true, true, true, true, true,
		true, false, false, false };
	static const char *const ohdr[] = { "OPERATOR", "IN", "OUT", "LATE" };
	static const bool oright[] = { false, true, true, true };
	const json_t *dp = json_object_get(data, "dataplane"), *lcores, *ops, *lc;
	const char *job, *state;
	struct slc_table t;
	char up[32];
	size_t i;

	if (dp == NULL)
		dp = data;	/* a dataplane's own socket answers without the wrapper */
	job = json_string_value(json_object_get(data, "job"));
	if (job == NULL)
		job = json_string_value(json_object_get(dp, "job"));
	state = json_string_value(json_object_get(data, "state"));
	if (state == NULL)
		state = json_string_value(json_object_get(dp, "state"));
	slc_fmt_dur(up, sizeof(up), json_integer_value(json_object_get(dp, "uptimeMs")));
	fprintf(f, "sluice top - job %s  %s  pid %" JSON_INTEGER_FORMAT "  up %s",
		job ? job : "?", state ? state : "?",
		json_integer_value(json_object_get(dp, "pid")), up);
	if (json_is_integer(json_object_get(data, "numRestarts")))
		fprintf(f, "  restarts %" JSON_INTEGER_FORMAT,
			json_integer_value(json_object_get(data, "numRestarts")));
	fputs("\n\n", f);
	if (!json_is_object(dp)) {
		fputs("no running dataplane: sluicectl metrics shows a finished job's final stats\n", f);
		return;
	}

	lcores = json_object_get(dp, "lcores");
	slc_table_init(&t, 11);
	slc_table_row(&t, hdr);
	json_array_foreach(lcores, i, lc) {
		char c[11][48];
		const char *row[11];
		const json_t *wm = json_object_get(lc, "currentInputWatermark");
		const json_t *lag = json_object_get(lc, "watermarkLagMs");

		if (wm == NULL)
			wm = json_object_get(lc, "currentOutputWatermark");
		slc_fmt_scalar(c[0], 48, json_object_get(lc, "role"));
		slc_fmt_scalar(c[1], 48, json_object_get(lc, "id"));
		slc_fmt_scalar(c[2], 48, json_object_get(lc, "lcore"));
		slc_fmt_scalar(c[3], 48, json_object_get(lc, "cpu"));
		slc_fmt_rate(c[4], 48, json_number_value(json_object_get(lc, "numRecordsInPerSecond")));
		slc_fmt_rate(c[5], 48, json_number_value(json_object_get(lc, "numRecordsOutPerSecond")));
		snprintf(c[6], 48, "%.1f",
			 json_number_value(json_object_get(lc, "busyTimeMsPerSecond")) / 10);
		snprintf(c[7], 48, "%.1f",
			 json_number_value(json_object_get(lc, "backPressuredTimeMsPerSecond")) / 10);
		ring_cell(lc, c[8], 48);
		if (json_is_integer(wm))
			slc_fmt_ts(c[9], 48, json_integer_value(wm));
		else
			snprintf(c[9], 48, "-");
		if (json_is_integer(lag))
			slc_fmt_dur(c[10], 48, json_integer_value(lag));
		else
			snprintf(c[10], 48, "-");
		for (int k = 0; k < 11; k++)
			row[k] = c[k];
		slc_table_row(&t, row);
	}
	slc_table_print(f, &t, "", right);
	slc_table_fini(&t);

	ops = json_object_get(dp, "operators");
	if (json_array_size(ops) > 0) {
		fputc('\n', f);
		slc_table_init(&t, 4);
		slc_table_row(&t, ohdr);
		json_array_foreach(ops, i, lc) {
			char c[4][64];
			const char *row[4] = { c[0], c[1], c[2], c[3] };

			slc_fmt_scalar(c[0], 64, json_object_get(lc, "name"));
			slc_fmt_scalar(c[1], 64, json_object_get(lc, "numRecordsIn"));
			slc_fmt_scalar(c[2], 64, json_object_get(lc, "numRecordsOut"));
			slc_fmt_scalar(c[3], 64, json_object_get(lc, "numLateRecordsDropped"));
			slc_table_row(&t, row);
		}
		slc_table_print(f, &t, "", oright);
		slc_table_fini(&t);
	}
}

static volatile sig_atomic_t top_quit;

static void
on_signal(int sig)
{
	(void)sig;
	top_quit = 1;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to ms for 'q' on the terminal or a signal. @return true to quit. */
static bool
wait_key(bool tty, int64_t ms)
{
	int64_t end = mono_ms() + ms;

	while (!top_quit) {
		int64_t left = end - mono_ms();
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		char c;

		if (left <= 0)
			return false;
		if (!tty) {
			/* Not a terminal: sleep, woken early only by a signal. */
			poll(NULL, 0, (int)left);
			continue;
		}
		if (poll(&p, 1, (int)left) > 0) {
			if (read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
				return true;
			if (p.revents & (POLLHUP | POLLERR))
				tty = false;
		}
	}
	return true;
}

int
slc_cmd_top(const struct slc_opts *o)
{
	bool tty = !o->once && isatty(STDIN_FILENO);
	struct termios saved, raw;
	struct sigaction sa;
	int ec = SLC_EXIT_OK;

	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		tty = false;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	do {
		int64_t t0 = mono_ms();
		json_t *args = json_pack("{s:s}", "job", o->pos[0]), *reply;

		ec = slc_call(o, SL_PROTO_VERB_METRICS, args, false, &reply);
		if (ec != SLC_EXIT_OK)
			break;
		if (o->json) {
			slc_print_json(stdout, json_object_get(reply, "data"));
		} else {
			if (!o->once)
				fputs("\033[H\033[2J", stdout);
			slc_top_frame(stdout, json_object_get(reply, "data"));
			if (!o->once)
				fputs("\nq or Ctrl-C quits\n", stdout);
		}
		fflush(stdout);
		json_decref(reply);
		if (o->once)
			break;
		if (wait_key(tty, (int64_t)o->interval_ms - (mono_ms() - t0)))
			break;
	} while (!top_quit);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return ec;
}
