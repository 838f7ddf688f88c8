/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * File sources map their input once at open, on the main lcore, so the RX
 * lcore reads memory and never calls read(2). MAP_POPULATE pre-faults the
 * pages so the first pass over the data does not stall on page faults.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_private.h"

static const uint8_t empty_file;

const uint8_t *
io_map_file(const char *path, size_t *len)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return NULL;
	}
	*len = (size_t)st.st_size;
	if (*len == 0) {
		close(fd);
		return &empty_file;
	}
	p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

void
io_unmap_file(const uint8_t *p, size_t len)
{
	if (p != NULL && p != &empty_file)
		munmap((void *)(uintptr_t)p, len);
}
