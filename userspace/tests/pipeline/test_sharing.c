// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host test of what the pipeline is for: 20 recordings of 20 processes of
 * the same program, in one swctl process, share one reader thread and one
 * symbolizer, so memory does not grow with the number of recordings the
 * way 20 separate sessions (each its own reader, caches and copy of every
 * symbol table) would.
 *
 * The 20 processes are forks of this program, alive while their samples
 * are symbolized (the addresses are this program's own functions and
 * libc's).  Their rings are laid out in memory and adopted by the pipeline;
 * the device is a fake (this program's ioctl() answers the handshake).
 * Each measurement runs in a fresh child of the test, which reports its
 * VmRSS, its thread count and the symbolizer's counters.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"
#include "swprof_internal.h"
#include "fake_memfd.h"
#include "pipeline_priv.h"
#include "record.h"

#define NPROC 20
#define RING 8192
#define SAMPLES 72

int ioctl(int fd, unsigned long cmd, ...)
{
	struct swprof_version v = {
		.size = sizeof(v),
		.major = SWPROF_API_MAJOR,
		.minor = SWPROF_API_MINOR,
		.features = SWPROF_FEAT_MODE_CPU | SWPROF_FEAT_USTACK_FP | SWPROF_FEAT_PROCESS,
		.ring_version = SWPROF_RING_VERSION,
		.max_depth = SWPROF_MAX_DEPTH,
	};
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fake_version_ioctl(fd, cmd, arg, &v);
}

/* The program's functions the samples name. */
static volatile int sh_sink;
#define FN(name) __attribute__((noinline, used)) void name(void) { for (int i = 0; i < 8; i++) sh_sink += i; }
FN(sh_main_loop) FN(sh_handle) FN(sh_parse) FN(sh_lookup) FN(sh_compress) FN(sh_write_out)
FN(sh_hash) FN(sh_sort_keys)

#define IP(fn) ((__u64)(uintptr_t)(fn) + 4)

struct result {
	long rss_kb;
	int threads;		/* of the measuring process, the caller's included */
	unsigned int pipelines;
	uint64_t files_loaded;	/* symbol tables built, summed over the symbolizers */
	uint64_t samples;	/* aggregated, summed over the recordings */
	char stack[256];	/* one folded stack of recording 0, as a check */
};

static long vm_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int nr_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

struct mem_ring {
	struct swprof_ring_header hdr;
	struct swprof_ring_consumer cons;
	unsigned char *data;
	int pfd[2];
};

/* A ring of thread @pid of process @pid, holding SAMPLES samples. */
static void ring_fill(struct mem_ring *m, pid_t pid)
{
	const __u64 user[][4] = {
		{ IP(sh_lookup), IP(sh_parse), IP(sh_handle), IP(sh_main_loop) },
		{ IP(sh_hash), IP(sh_lookup), IP(sh_handle), IP(sh_main_loop) },
		{ IP(sh_compress), IP(sh_write_out), IP(sh_handle), IP(sh_main_loop) },
		{ IP(qsort), IP(sh_sort_keys), IP(sh_handle), IP(sh_main_loop) },
		{ IP(strtol), IP(sh_parse), IP(sh_handle), IP(sh_main_loop) },
		{ IP(getenv), IP(sh_main_loop), 0, 0 },
	};
	unsigned char buf[256] __attribute__((aligned(8)));
	struct swprof_sample *s = (void *)buf;
	__u64 pos = 0;
	int i;

	memset(m, 0, sizeof(*m));
	m->hdr.version = SWPROF_RING_VERSION;
	m->hdr.header_size = sizeof(m->hdr);
	m->hdr.data_size = RING;
	m->hdr.tid = m->hdr.pid = pid;
	m->data = aligned_alloc(4096, 2 * RING);
	memset(m->data, 0, 2 * RING);
	if (pipe2(m->pfd, O_CLOEXEC | O_NONBLOCK))
		abort();
	for (i = 0; i < SAMPLES; i++) {
		unsigned int k = i % 6, n = k == 5 ? 2 : 4;
		size_t size = sizeof(*s) + 8 * n;

		memset(buf, 0, size);
		s->hdr = (struct swprof_rec){ .size = size, .type = SWPROF_REC_SAMPLE, .seq = i };
		s->pid = s->tid = pid;
		s->nr_user = n;
		s->period_ns = 1000000;
		memcpy(s->data, user[k], 8 * n);
		if (pos + size > RING)
			abort();
		memcpy(m->data + pos, buf, size);
		pos += size;
	}
	m->hdr.producer_pos = pos;
}

static int first_stack(const struct prof_sample *s, void *ctx)
{
	const struct prof *p = ((void **)ctx)[0];
	char *out = ((void **)ctx)[1];
	size_t len = 0;
	int i;

	for (i = s->n - 1; i >= 0; i--) {
		struct prof_location_info li;
		struct prof_function_info fi;

		if (prof_get_location(p, s->locs[i], &li) ||
		    prof_get_function(p, li.lines[li.nr_lines - 1].function, &fi))
			return -1;
		len += snprintf(out + len, 256 - len, "%s%s", prof_str(p, fi.name), i ? ";" : "");
	}
	return 1;
}

/*
 * In a child: @n recordings of the first @n processes, on one pipeline
 * (@separate false) or each on its own (the shape before the pipeline).
 */
static void measure(const pid_t *procs, int n, bool separate, struct result *res)
{
	static struct mem_ring rings[NPROC];
	struct pl *pls[NPROC] = { NULL };
	struct rec_session *recs[NPROC] = { NULL };
	char dev[64];
	int memfd = memfd_create(FAKE_DEV, MFD_CLOEXEC), i, np = separate ? n : 1;

	memset(res, 0, sizeof(*res));
	snprintf(dev, sizeof(dev), "/proc/self/fd/%d", memfd);
	for (i = 0; i < np; i++) {
		PL_OPTS(po, .device = dev);

		if (pl_new(&po, &pls[i]))
			_exit(3);
	}
	for (i = 0; i < n; i++) {
		struct pl *pl = pls[separate ? i : 0];
		REC_OPTS(ro, .mode = SWPROF_MODE_CPU, .period_ns = 1000000);
		struct swprof_target *t;

		ring_fill(&rings[i], procs[i]);
		if (rec_new(pl, &ro, &recs[i]) ||
		    swprof_target_from_mem(&rings[i].hdr, &rings[i].cons, rings[i].data,
					   rings[i].pfd[0], &t) ||
		    pl_adopt_target(pl, rec_sink(recs[i]), t, procs[i], procs[i]))
			_exit(4);
	}
	for (i = 0; i < np; i++)
		pl_drain(pls[i]);
	res->rss_kb = vm_rss_kb();
	res->threads = nr_threads();
	res->pipelines = np;
	for (i = 0; i < np; i++) {
		struct sym_stats ss = { .sz = sizeof(ss) };

		sym_session_stats(pl_symbolizer(pls[i]), &ss);
		res->files_loaded += ss.files_loaded;
	}
	for (i = 0; i < n; i++) {
		struct rec_stats st;

		rec_get_stats(recs[i], &st);
		res->samples += st.samples;
	}
	{
		void *ctx[2] = { rec_profile(recs[0]), res->stack };

		prof_for_each_sample(rec_profile(recs[0]), first_stack, ctx);
	}
}

/* measure() in a fresh child, so that each starts from the same memory. */
static int measured(const pid_t *procs, int n, bool separate, struct result *res)
{
	struct result *shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int status;
	pid_t pid;

	if (shared == MAP_FAILED)
		return -1;
	pid = fork();
	if (pid == 0) {
		measure(procs, n, separate, shared);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	*res = *shared;
	munmap(shared, sizeof(*shared));
	return 0;
}

TEST(twenty_recordings_share_one_reader_and_one_symbolizer)
{
	pid_t procs[NPROC];
	int go[2], i;
	struct result one, twenty, apart;
	char c;

	/* 20 processes of this program: forks that wait until the test ends */
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));
	for (i = 0; i < NPROC; i++) {
		procs[i] = fork();
		ASSERT_LE(0, procs[i]);
		if (procs[i] == 0) {
			close(go[1]);
			if (read(go[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
	}
	close(go[0]);

	ASSERT_EQ(0, measured(procs, 1, false, &one));
	ASSERT_EQ(0, measured(procs, NPROC, false, &twenty));
	ASSERT_EQ(0, measured(procs, NPROC, true, &apart));
	close(go[1]);
	for (i = 0; i < NPROC; i++)
		waitpid(procs[i], NULL, 0);

	printf("# one pipeline,  1 recording:  RSS %ld kB, %d threads, %llu symbol tables built\n",
	       one.rss_kb, one.threads, (unsigned long long)one.files_loaded);
	printf("# one pipeline, %d recordings: RSS %ld kB, %d threads, %llu symbol tables built\n",
	       NPROC, twenty.rss_kb, twenty.threads, (unsigned long long)twenty.files_loaded);
	printf("# %d pipelines (the old shape): RSS %ld kB, %d threads, %llu symbol tables built\n",
	       NPROC, apart.rss_kb, apart.threads, (unsigned long long)apart.files_loaded);
	printf("# RSS 20 / RSS 1 = %.2f (limit 1.5)\n", (double)twenty.rss_kb / one.rss_kb);
	fflush(stdout);

	/* every sample was symbolized: the program's own names, root first */
	EXPECT_EQ(SAMPLES, one.samples);
	EXPECT_EQ(NPROC * SAMPLES, twenty.samples);
	EXPECT_STREQ("sh_main_loop;sh_handle;sh_parse;sh_lookup", one.stack);
	EXPECT_STREQ("sh_main_loop;sh_handle;sh_parse;sh_lookup", twenty.stack);
	/* one reader thread besides the caller's, whatever the number of recordings */
	EXPECT_EQ(2, one.threads);
	EXPECT_EQ(2, twenty.threads);
	EXPECT_EQ(1, twenty.pipelines);
	/* one symbolizer: the program and libc are read once, not once per process */
	EXPECT_LE(1, one.files_loaded);
	EXPECT_EQ(one.files_loaded, twenty.files_loaded);
	EXPECT_EQ(NPROC * one.files_loaded, apart.files_loaded);
	EXPECT_EQ(1 + NPROC, apart.threads);
	EXPECT_LT(0, one.rss_kb);
	EXPECT_LE(twenty.rss_kb * 2, one.rss_kb * 3)
		TH_LOG("RSS %ld kB with %d recordings, %ld kB with 1", twenty.rss_kb, NPROC, one.rss_kb);
}

TEST_HARNESS_MAIN
