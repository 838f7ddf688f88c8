/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Description: libFuzzer target for the control protocol's request parser
 * and line buffer. The whole input is parsed as one request; an accepted
 * request must survive request -> line -> parse with its verb, id and args.
 * Then the input goes through a socketpair in chunks of 1..64 bytes (sizes
 * from a PRNG seeded by the input) into an sl_proto_lbuf with a 256-byte
 * line limit, as a server would read it: every line handed out must be
 * exactly the input's next line, a line over the limit must be refused
 * with -E2BIG, and each line is parsed and answered as sluiced would.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sl_proto.h"

#define FUZZ_LINE_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_parse(const char *line, size_t len)
{
	struct sl_proto_req req, again;
	char msg[256], *out, *copy;
	enum sl_proto_code code;
	size_t n;

	code = sl_proto_req_parse(line, len, &req, msg, sizeof(msg));
	if (code != SL_PROTO_OK) {
		/* A refusal owns nothing, names a real code and says why. */
		if (req.root != NULL || code >= SL_PROTO__CODE_COUNT || msg[0] == '\0')
			abort();
		out = sl_proto_reply(req.id, code, msg, NULL, &n);
		if (out == NULL || out[n - 1] != '\n')
			abort();
		free(out);
		return;
	}
	if (!json_is_object(req.args) || (unsigned int)req.verb >= SL_PROTO_VERB__COUNT)
		abort();
	(void)sl_proto_arg_str(&req, "job");
	copy = json_dumps(req.args, JSON_COMPACT | JSON_SORT_KEYS);
	out = sl_proto_request(req.id, req.verb, json_incref(req.args), &n);
	if (out == NULL || copy == NULL || out[n - 1] != '\n' || memchr(out, '\n', n - 1))
		abort();
	if (sl_proto_req_parse(out, n - 1, &again, msg, sizeof(msg)) != SL_PROTO_OK ||
	    again.id != req.id || again.verb != req.verb)
		abort();
	{
		char *copy2 = json_dumps(again.args, JSON_COMPACT | JSON_SORT_KEYS);

		if (copy2 == NULL || strcmp(copy, copy2) != 0)
			abort();
		free(copy2);
	}
	sl_proto_req_free(&again);
	free(out);
	free(copy);
	sl_proto_req_free(&req);
}

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Take every complete line; each must be the input's next line. */
static int
drain(struct sl_proto_lbuf *b, const uint8_t *data, size_t fed, size_t *pos)
{
	for (;;) {
		char *line;
		ssize_t l = sl_proto_lbuf_line(b, &line);
		const uint8_t *nl;
		size_t want;

		nl = memchr(data + *pos, '\n', fed - *pos);
		want = nl ? (size_t)(nl - data) - *pos : fed - *pos;
		if (l == -EAGAIN) {
			/* Only a pending line shorter than the limit waits. */
			if (nl != NULL || want >= FUZZ_LINE_MAX)
				abort();
			return 0;
		}
		if (l == -E2BIG) {
			if (want + 1 <= FUZZ_LINE_MAX && nl != NULL)
				abort();
			if (nl == NULL && want < FUZZ_LINE_MAX)
				abort();
			return -1;	/* a server answers bad_request and closes */
		}
		if (l < 0 || nl == NULL || (size_t)l != want ||
		    memcmp(line, data + *pos, want) != 0 || line[l] != '\0')
			abort();
		check_parse(line, (size_t)l);
		*pos += want + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_proto_lbuf b;
	uint32_t seed = 2166136261u;
	size_t off = 0, pos = 0;
	int sv[2];

	check_parse((const char *)data, size);

	if (size > 60000)	/* stay under the socket buffer: no blocking write */
		return 0;
	for (size_t i = 0; i < size && i < 16; i++)
		seed = (seed ^ data[i]) * 16777619u;
	if (seed == 0)
		seed = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (sl_proto_lbuf_init(&b, FUZZ_LINE_MAX) != 0)
		abort();
	while (off < size) {
		size_t chunk = 1 + xorshift(&seed) % 64;
		ssize_t n;

		if (chunk > size - off)
			chunk = size - off;
		if (write(sv[1], data + off, chunk) != (ssize_t)chunk)
			abort();
		off += chunk;
		while ((n = sl_proto_lbuf_read(&b, sv[0])) > 0)
			;
		if (n != -EAGAIN)
			abort();
		if (drain(&b, data, off, &pos) != 0)
			goto out;
	}
	close(sv[1]);
	sv[1] = -1;
	if (sl_proto_lbuf_read(&b, sv[0]) != 0)
		abort();
	(void)drain(&b, data, size, &pos);
out:
	sl_proto_lbuf_fini(&b);
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}
