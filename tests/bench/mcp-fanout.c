/* mcp-fanout — holds many TCP clients of a fan-out server (tcpsplitsink) in
 * one process and checks the numbered test stream of mcp-send (see
 * ../tools/mcp-testpattern.h) on every one of them.
 *
 *   mcp-fanout --tcp HOST:PORT --clients N [--framing raw|rfc4571]
 *              [--count 1000] [--sizes 1316] [--stream-id 1] [--timeout 10]
 *              [--connect-rate R] [--ready-file FILE] [--quiet]
 *
 * Opens N non-blocking connections (at most R new ones per second, default
 * unlimited; refused or failed attempts are retried every 100 ms), creates
 * FILE once all N are connected, and reads them all from one epoll loop.
 * The clients never send anything, so a framing=auto server treats them as
 * raw after its detect-timeout. A connect burst larger than the server's
 * listen backlog can leave clients that think they are connected but were
 * never accepted (SYN cookies): they get no byte; use --connect-rate.
 *
 * Each client cuts its byte stream into datagrams, by the test pattern
 * header (raw, the default) or by the 2-byte length (rfc4571), and is
 * tracked on its own: a client may join mid-stream, so its first stream
 * datagram may be any seq and only gaps after it count as lost. Warm-up
 * datagrams are only counted. Duplicates are told from late arrivals over
 * the last 65536 seqs; an older seq counts as a duplicate. Latency (receive
 * time of the read minus send time, both CLOCK_REALTIME) of every datagram
 * counted goes into a per-client log-linear histogram: 1 us buckets below
 * 1.024 ms, 128 per octave above (< 0.8 %), up to 16.8 s (about 11 KiB).
 *
 * The run ends when every client has seen seq C-1, after --timeout seconds
 * without progress (no connection made while connecting, no data while
 * reading), or on SIGINT/SIGTERM. Then one line goes to stdout:
 *   mcp-fanout: clients=N connected=K complete=M received=TOTAL lost=L
 *               duplicates=D reordered=R corrupt=X warmup=W min_received=A
 *               max_received=B p50_us=.. p99_us=.. max_us=.. worst_p99_us=..
 *               worst_max_us=.. cpu_user_ms=.. cpu_sys_ms=..
 * (totals over all clients; worst_* are the p99 and max of the client with
 * the highest p99; -1 when nothing arrived; cpu from getrusage of this
 * process). Without --quiet, stderr also gets progress, how many bytes
 * each read got, and why the first 5 failed clients failed.
 * Exit status: 0 every client saw every datagram from its first one up to
 * C-1 exactly once, in order and intact; 1 otherwise; 2 usage or socket
 * error, or not all N connected.
 */
#include <glib.h>
#include <gio/gio.h>

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mcp-testpattern.h"

#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

#define MAX_REASONS 5
#define READ_SIZE (256 * 1024)
#define MAX_EVENTS 1024
#define RETRY_NS (100 * G_GUINT64_CONSTANT (1000000))
#define NS_PER_S 1e9
/* descriptors kept free for stdio, epoll, the ready file, GLib */
#define SPARE_FDS 32

/* Sequence numbers remembered behind the newest one, to tell a duplicate
 * from a late arrival; older ones count as duplicates. */
#define MAX_WINDOW_BITS 65536

/* Latency histogram: bucket i < LINEAR_BUCKETS holds i us; above, each
 * octave [2^e, 2^(e+1)) us has SUB_BUCKETS buckets, up to 2^MAX_OCTAVE us
 * (16.8 s); longer ones go to the last bucket. */
#define LINEAR_BITS 10
#define LINEAR_BUCKETS (1 << LINEAR_BITS)
#define SUB_BITS 7
#define SUB_BUCKETS (1 << SUB_BITS)
#define MAX_OCTAVE 24
#define HIST_BUCKETS (LINEAR_BUCKETS + (MAX_OCTAVE - LINEAR_BITS) * SUB_BUCKETS)

static gchar *opt_tcp = NULL;
static gint opt_clients = 1;
static gchar *opt_framing = NULL;
static gint64 opt_count = 1000;
static gchar *opt_sizes = NULL;
static gint64 opt_stream_id = 1;
static gdouble opt_timeout = 10.0;
static gdouble opt_connect_rate = 0.0;
static gchar *opt_ready_file = NULL;
static gboolean opt_quiet = FALSE;

static GOptionEntry entries[] = {
  {"tcp", 'T', 0, G_OPTION_ARG_STRING, &opt_tcp,
      "Connect to HOST:PORT ([V6ADDR]:PORT) (required)", "HOST:PORT"},
  {"clients", 'n', 0, G_OPTION_ARG_INT, &opt_clients,
      "Number of TCP connections (default 1)", "N"},
  {"framing", 'f', 0, G_OPTION_ARG_STRING, &opt_framing,
      "TCP framing: raw (datagrams back to back, cut apart by --sizes, the "
        "default) or rfc4571 (2-byte length + datagram)", "raw|rfc4571"},
  {"count", 'c', 0, G_OPTION_ARG_INT64, &opt_count,
      "Number of stream datagrams sent, seq 0..N-1 (default 1000)", "N"},
  {"sizes", 's', 0, G_OPTION_ARG_STRING, &opt_sizes,
        "Comma-separated datagram sizes the sender used (default 1316)",
      "LIST"},
  {"stream-id", 'I', 0, G_OPTION_ARG_INT64, &opt_stream_id,
      "Stream id expected, 0..4294967295 (default 1)", "N"},
  {"timeout", 't', 0, G_OPTION_ARG_DOUBLE, &opt_timeout,
      "Give up after SEC without progress (default 10)", "SEC"},
  {"connect-rate", 'R', 0, G_OPTION_ARG_DOUBLE, &opt_connect_rate,
      "New connections per second, 0 for no limit (default 0)", "R"},
  {"ready-file", 'r', 0, G_OPTION_ARG_FILENAME, &opt_ready_file,
      "Create FILE when all clients are connected", "FILE"},
  {"quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
      "Only the summary line (and fatal errors)", NULL},
  {NULL}
};

typedef enum
{
  CLIENT_IDLE = 0,              /* not started yet (connect pacing) */
  CLIENT_CONNECTING,            /* connect() in progress, waiting for OUT */
  CLIENT_RETRY,                 /* an attempt failed, next at retry_at */
  CLIENT_CONNECTED,
  CLIENT_CLOSED                 /* by the peer or an error, after connecting */
} ClientState;

typedef struct
{
  guint index;
  ClientState state;
  gint fd;
  guint addr_index;             /* next address of the host to try */
  guint64 retry_at;             /* CLOCK_MONOTONIC ns */
  gboolean ever_connected;

  /* reassembly: the incomplete tail of the last read */
  guint8 *carry;
  gsize carry_len;
  gsize skip;                   /* rfc4571: rest of an oversized frame */
  gboolean in_sync;             /* raw: at a datagram boundary */
  guint64 offset;               /* stream bytes consumed, for messages */

  guint64 received;
  guint64 lost;
  guint64 duplicates;
  guint64 reordered;
  guint64 corrupt;
  guint64 warmup;
  gint64 first_seq;
  gint64 last_seq;
  guint64 expected;             /* next seq expected */
  guint8 *window;               /* bitmap of the seqs below expected */
  gboolean complete;            /* seq C-1 arrived */

  guint32 *hist;
  guint64 n_lat;
  gint64 max_lat_ns;

  gchar *problem;               /* the first thing that went wrong */
} Client;

typedef struct
{
  guint n;
  Client *clients;
  guint64 count;
  guint32 stream_id;
  gboolean raw;
  McptSizes sizes;
  gsize carry_size;
  guint64 window_bits;

  /* fast pattern check: ref + pos[v] is the pattern that starts with v */
  guint8 *ref;
  guint8 pos[256];
  gboolean fast_check;

  struct addrinfo *addrs;
  guint n_addrs;
  gchar *host;
  gchar *port;

  gint epfd;
  guint8 *rbuf;                 /* carry_size + READ_SIZE */
  guint n_started;
  guint n_connecting;           /* CONNECTING or RETRY */
  guint n_connected;            /* connected at some point */
  guint n_complete;
  gboolean all_connected;
  guint64 t_start;
  guint64 last_progress;        /* CLOCK_MONOTONIC ns */
  gboolean fatal;

  /* how well reads are batched, for the stderr report */
  guint64 n_wakeups;
  guint64 n_reads;
  guint64 n_bytes;
} Fanout;

static volatile sig_atomic_t stop_requested = 0;

static void
on_signal (int sig)
{
  stop_requested = 1;
}

static guint64
mono_ns (void)
{
  return mcpt_now_ns (CLOCK_MONOTONIC);
}

/* *INDENT-OFF* */
static void client_problem (Client * c, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);
/* *INDENT-ON* */

/* Remembers the first thing that went wrong with @c. Only on failures, so
 * the allocation is not per datagram. */
static void
client_problem (Client * c, const gchar * format, ...)
{
  va_list args;

  if (c->problem)
    return;
  va_start (args, format);
  c->problem = g_strdup_vprintf (format, args);
  va_end (args);
}

/* ---- latency histogram ------------------------------------------------- */

static guint
hist_bucket (gint64 ns)
{
  guint64 us;
  guint e;

  if (ns <= 0)
    return 0;
  us = (guint64) ns / 1000;
  if (us < LINEAR_BUCKETS)
    return (guint) us;
  e = 63 - (guint) __builtin_clzll (us);
  if (e >= MAX_OCTAVE)
    return HIST_BUCKETS - 1;
  return LINEAR_BUCKETS + (e - LINEAR_BITS) * SUB_BUCKETS +
      (guint) ((us >> (e - SUB_BITS)) - SUB_BUCKETS);
}

/* The value a bucket stands for, in us: exact in the linear part, the
 * middle of the bucket above. */
static gint64
hist_value_us (guint b)
{
  guint e, sub;

  if (b < LINEAR_BUCKETS)
    return b;
  e = LINEAR_BITS + (b - LINEAR_BUCKETS) / SUB_BUCKETS;
  sub = (b - LINEAR_BUCKETS) % SUB_BUCKETS;
  return ((gint64) (SUB_BUCKETS + sub) << (e - SUB_BITS)) +
      ((gint64) 1 << (e - SUB_BITS)) / 2;
}

/* Nearest-rank percentile in us, never above @max_ns; -1 when empty. */
static gint64
hist_percentile_us (const guint32 * hist, guint64 total, guint pct,
    gint64 max_ns)
{
  guint64 rank, sum = 0;
  guint b;

  if (total == 0)
    return -1;
  rank = (total * pct + 99) / 100;
  if (rank == 0)
    rank = 1;
  for (b = 0; b < HIST_BUCKETS; b++) {
    sum += hist[b];
    if (sum >= rank)
      return MIN (hist_value_us (b), MAX (max_ns, 0) / 1000);
  }
  return MAX (max_ns, 0) / 1000;
}

/* ---- datagrams --------------------------------------------------------- */

/* Sets up the fast pattern check: one copy of the pattern of seq 0 made by
 * mcpt_fill_pattern(); since the pattern advances by a fixed step per byte,
 * every datagram's pattern is a piece of it, found by its first byte. The
 * result is checked against mcpt_fill_pattern() for 256 seqs; if the
 * pattern ever changes shape, every datagram goes through mcpt_verify(). */
static void
setup_fast_check (Fanout * f)
{
  gsize ref_len = MCPT_HEADER_SIZE + 256 + f->sizes.max;
  guint8 *full = g_malloc (ref_len);
  guint8 *tmp = g_malloc (f->sizes.max);
  gboolean seen[256];
  guint v, s;

  mcpt_fill_pattern (full, ref_len, f->stream_id, 0);
  f->ref = full;
  memset (seen, 0, sizeof (seen));
  f->fast_check = TRUE;
  for (v = 0; v < 256; v++) {
    guint8 b = full[MCPT_HEADER_SIZE + v];

    if (seen[b])
      f->fast_check = FALSE;
    seen[b] = TRUE;
    f->pos[b] = (guint8) v;
  }
  for (s = 0; s < 256 && f->fast_check; s++) {
    guint64 seq = s * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15) + s;
    guint8 first = mcpt_pattern_byte (f->stream_id, seq, MCPT_HEADER_SIZE);

    mcpt_fill_pattern (tmp, f->sizes.max, f->stream_id, seq);
    if (memcmp (tmp + MCPT_HEADER_SIZE,
            full + MCPT_HEADER_SIZE + f->pos[first],
            f->sizes.max - MCPT_HEADER_SIZE) != 0)
      f->fast_check = FALSE;
  }
  g_free (tmp);
}

/* TRUE when the datagram is certainly a good one of our stream; FALSE
 * means mcpt_verify() has to decide. */
static inline gboolean
fast_verify (Fanout * f, const guint8 * p, gsize len, guint64 seq)
{
  guint8 first;

  if (!f->fast_check || mcpt_header_stream_id (p) != f->stream_id
      || len != mcpt_size_for_seq (&f->sizes, seq))
    return FALSE;
  first = mcpt_pattern_byte (f->stream_id, seq, MCPT_HEADER_SIZE);
  return memcmp (p + MCPT_HEADER_SIZE,
      f->ref + MCPT_HEADER_SIZE + f->pos[first], len - MCPT_HEADER_SIZE) == 0;
}

static void
client_corrupt (Client * c, const gchar * reason)
{
  c->corrupt++;
  client_problem (c, "corrupt datagram: %s", reason);
}

static inline void
window_set (Fanout * f, Client * c, guint64 seq)
{
  guint64 i = seq & (f->window_bits - 1);

  c->window[i / 8] |= (guint8) (1u << (i % 8));
}

static inline gboolean
window_get (Fanout * f, Client * c, guint64 seq)
{
  guint64 i = seq & (f->window_bits - 1);

  return (c->window[i / 8] >> (i % 8)) & 1;
}

/* One datagram of @len bytes, read at @now_rt (CLOCK_REALTIME ns). */
static void
handle_datagram (Fanout * f, Client * c, const guint8 * p, gsize len,
    guint64 now_rt)
{
  gchar reason[160];
  guint64 seq;
  gint64 lat;

  if (len >= MCPT_HEADER_SIZE) {
    McptKind kind = mcpt_kind (p, len);

    if (kind == MCPT_KIND_WARMUP) {
      c->warmup++;
      return;
    }
    if (kind == MCPT_KIND_STREAM
        && fast_verify (f, p, len, mcpt_header_seq (p)))
      goto good;
  }
  if (mcpt_verify (p, len, f->stream_id, &f->sizes, reason, sizeof (reason))) {
    client_corrupt (c, reason);
    return;
  }
  if (mcpt_kind (p, len) == MCPT_KIND_WARMUP) {
    c->warmup++;
    return;
  }

good:
  seq = mcpt_header_seq (p);
  if (seq >= f->count) {
    g_snprintf (reason, sizeof (reason), "seq %" G_GUINT64_FORMAT
        " is beyond the %" G_GUINT64_FORMAT " datagrams expected", seq,
        f->count);
    client_corrupt (c, reason);
    return;
  }

  if (c->first_seq < 0) {
    c->first_seq = (gint64) seq;
    c->expected = seq;
  }
  if (seq >= c->expected) {
    guint64 gap = seq - c->expected;

    if (gap == 1)
      client_problem (c, "lost seq %" G_GUINT64_FORMAT, c->expected);
    else if (gap > 1)
      client_problem (c, "lost seq %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT,
          c->expected, seq - 1);
    /* the bits of the seqs skipped now stand for them: not seen */
    if (gap >= f->window_bits)
      memset (c->window, 0, f->window_bits / 8);
    else {
      guint64 s;

      for (s = c->expected; s < seq; s++) {
        guint64 i = s & (f->window_bits - 1);

        c->window[i / 8] &= (guint8) ~ (1u << (i % 8));
      }
    }
    c->lost += gap;
    c->expected = seq + 1;
    c->last_seq = (gint64) seq;
  } else if (c->expected - seq > f->window_bits || window_get (f, c, seq)) {
    c->duplicates++;
    client_problem (c, "duplicate seq %" G_GUINT64_FORMAT " (after seq %"
        G_GUINT64_FORMAT ")", seq, c->expected - 1);
    return;
  } else {
    /* counted as lost when the gap opened, unless before the first */
    c->reordered++;
    if (seq > (guint64) c->first_seq)
      c->lost--;
    client_problem (c, "seq %" G_GUINT64_FORMAT " arrived after seq %"
        G_GUINT64_FORMAT, seq, c->expected - 1);
  }
  window_set (f, c, seq);
  c->received++;

  lat = (gint64) (now_rt - mcpt_header_send_ns (p));
  c->hist[hist_bucket (lat)]++;
  c->n_lat++;
  if (lat > c->max_lat_ns)
    c->max_lat_ns = lat;

  if (!c->complete && c->expected == f->count) {
    c->complete = TRUE;
    f->n_complete++;
  }
}

/* Cuts datagrams out of buf[0..len-1]; returns how many bytes it used. */
static gsize
parse_stream (Fanout * f, Client * c, const guint8 * buf, gsize len,
    guint64 now_rt)
{
  gsize pos = 0;

  if (c->skip > 0) {
    pos = MIN (c->skip, len);
    c->skip -= pos;
  }
  for (;;) {
    const guint8 *p = buf + pos;
    gsize avail = len - pos;
    gsize size;

    if (!f->raw) {
      if (avail < 2)
        break;
      size = ((gsize) p[0] << 8) | p[1];
      if (size > f->sizes.max) {
        gchar reason[128];

        /* longer than any datagram: skip it without holding it */
        g_snprintf (reason, sizeof (reason), "frame of %" G_GSIZE_FORMAT
            " bytes at stream offset %" G_GUINT64_FORMAT ", longer than any "
            "of --sizes", size, c->offset + pos);
        client_corrupt (c, reason);
        c->skip = 2 + size;
        pos += MIN (c->skip, avail);
        c->skip -= MIN (c->skip, avail);
        continue;
      }
      if (avail < 2 + size)
        break;
      handle_datagram (f, c, p + 2, size, now_rt);
      pos += 2 + size;
      continue;
    }

    if (avail < MCPT_HEADER_SIZE)
      break;
    if (mcpt_kind (p, avail) == MCPT_KIND_INVALID) {
      /* Lost the datagram boundaries: look for the next magic. */
      gsize i;

      if (c->in_sync) {
        gchar reason[128];

        g_snprintf (reason, sizeof (reason), "bad magic at stream offset %"
            G_GUINT64_FORMAT "; resynchronising", c->offset + pos);
        client_corrupt (c, reason);
        c->in_sync = FALSE;
      }
      for (i = 1; i + 4 <= avail; i++)
        if (mcpt_kind (p + i, 4) != MCPT_KIND_INVALID)
          break;
      pos += i;
      if (i + 4 > avail)
        break;
      continue;
    }
    size = mcpt_size_for_seq (&f->sizes, mcpt_header_seq (p));
    if (avail < size)
      break;
    c->in_sync = TRUE;
    handle_datagram (f, c, p, size, now_rt);
    pos += size;
  }
  c->offset += pos;
  return pos;
}

/* ---- connections ------------------------------------------------------- */

static void
client_close (Fanout * f, Client * c, ClientState state)
{
  if (c->fd >= 0) {
    epoll_ctl (f->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close (c->fd);
    c->fd = -1;
  }
  c->state = state;
}

static void
client_retry (Fanout * f, Client * c, guint64 now)
{
  client_close (f, c, CLIENT_RETRY);
  c->addr_index++;
  /* every address of the host tried: wait before the next round */
  c->retry_at = (c->addr_index % f->n_addrs) == 0 ? now + RETRY_NS : now;
}

static void
client_connected (Fanout * f, Client * c, guint64 now)
{
  struct epoll_event ev;

  c->state = CLIENT_CONNECTED;
  c->ever_connected = TRUE;
  f->n_connecting--;
  f->n_connected++;
  f->last_progress = now;
  memset (&ev, 0, sizeof (ev));
  ev.events = EPOLLIN;
  ev.data.ptr = c;
  if (epoll_ctl (f->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
    g_printerr ("mcp-fanout: epoll_ctl failed: %s\n", g_strerror (errno));
    f->fatal = TRUE;
  }
}

/* Starts a connection attempt; FALSE on an error that retrying cannot
 * fix. */
static gboolean
client_start (Fanout * f, Client * c, guint64 now)
{
  struct addrinfo *ai = f->addrs;
  struct epoll_event ev;
  guint i;

  for (i = 0; i < c->addr_index % f->n_addrs; i++)
    ai = ai->ai_next;
  if (c->state == CLIENT_IDLE)
    f->n_connecting++;
  c->state = CLIENT_CONNECTING;
  c->fd = socket (ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
      SOCK_CLOEXEC, ai->ai_protocol);
  if (c->fd < 0) {
    g_printerr ("mcp-fanout: cannot create a socket for client %u: %s\n",
        c->index, g_strerror (errno));
    return FALSE;
  }
  memset (&ev, 0, sizeof (ev));
  ev.data.ptr = c;
  /* connected at once or not: OUT says when, SO_ERROR how */
  if (connect (c->fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS
      || errno == EINTR) {
    ev.events = EPOLLOUT;
    if (epoll_ctl (f->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
      g_printerr ("mcp-fanout: epoll_ctl failed: %s\n", g_strerror (errno));
      return FALSE;
    }
    return TRUE;
  }
  /* EAGAIN (no local port free), ECONNREFUSED, ENETUNREACH, ...: later */
  client_retry (f, c, now);
  return TRUE;
}

/* The connect() of @c has finished, one way or the other. */
static void
client_connect_done (Fanout * f, Client * c, guint64 now)
{
  gint err = 0;
  socklen_t len = sizeof (err);

  if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  if (err == 0)
    client_connected (f, c, now);
  else
    client_retry (f, c, now);
}

/* One read of up to READ_SIZE bytes from a connected client. */
static void
client_read (Fanout * f, Client * c)
{
  ssize_t got;
  guint64 now_rt;
  gsize have, used;

  if (c->carry_len > 0)
    memcpy (f->rbuf, c->carry, c->carry_len);
  got = recv (c->fd, f->rbuf + c->carry_len, READ_SIZE, MSG_DONTWAIT);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
      return;
    if (!c->complete)
      client_problem (c, "connection lost after seq %" G_GINT64_FORMAT ": %s",
          c->last_seq, g_strerror (errno));
    client_close (f, c, CLIENT_CLOSED);
    return;
  }
  if (got == 0) {
    if (!c->complete) {
      client_problem (c, "connection closed by the server after seq %"
          G_GINT64_FORMAT, c->last_seq);
      if (c->carry_len > 0) {
        gchar reason[128];

        g_snprintf (reason, sizeof (reason), "%" G_GSIZE_FORMAT " bytes of "
            "an incomplete datagram at the end of the stream", c->carry_len);
        client_corrupt (c, reason);
      }
    }
    client_close (f, c, CLIENT_CLOSED);
    return;
  }
  now_rt = mcpt_now_ns (CLOCK_REALTIME);
  f->n_reads++;
  f->n_bytes += (guint64) got;
  have = c->carry_len + (gsize) got;
  used = parse_stream (f, c, f->rbuf, have, now_rt);
  c->carry_len = have - used;
  if (c->carry_len > 0)
    memcpy (c->carry, f->rbuf + used, c->carry_len);
}

/* Starts the connections that are due; the time of the next one that is
 * not, or G_MAXUINT64. */
static guint64
start_due (Fanout * f, guint64 now)
{
  guint64 next = G_MAXUINT64;
  guint i;

  while (f->n_started < f->n) {
    guint64 due = f->t_start;

    if (opt_connect_rate > 0)
      due += (guint64) (f->n_started * NS_PER_S / opt_connect_rate);
    if (due > now) {
      next = due;
      break;
    }
    if (!client_start (f, &f->clients[f->n_started++], now)) {
      f->fatal = TRUE;
      return next;
    }
    f->last_progress = now;
  }
  if (f->n_connecting == 0)
    return next;
  for (i = 0; i < f->n_started; i++) {
    Client *c = &f->clients[i];

    if (c->state != CLIENT_RETRY)
      continue;
    if (c->retry_at <= now) {
      if (!client_start (f, c, now)) {
        f->fatal = TRUE;
        return next;
      }
    }
    /* a failed attempt may already have scheduled the next one */
    if (c->state == CLIENT_RETRY)
      next = MIN (next, c->retry_at);
  }
  return next;
}

static void
write_ready_file (void)
{
  GError *err = NULL;

  if (!opt_ready_file)
    return;
  if (!g_file_set_contents (opt_ready_file, "ready\n", -1, &err)) {
    g_printerr ("mcp-fanout: cannot write the ready file: %s\n", err->message);
    g_error_free (err);
  }
}

static void
run (Fanout * f, const sigset_t * run_mask)
{
  struct epoll_event *events = g_new (struct epoll_event, MAX_EVENTS);
  guint64 timeout_ns = (guint64) (opt_timeout * NS_PER_S);

  f->t_start = mono_ns ();
  f->last_progress = f->t_start;
  while (!stop_requested && !f->fatal && f->n_complete < f->n) {
    guint64 now = mono_ns ();
    guint64 deadline = f->last_progress + timeout_ns;
    guint64 wake = deadline;
    gint ms, n, i;

    if (!f->all_connected) {
      wake = MIN (wake, start_due (f, now));
      if (f->fatal)
        break;
      if (f->n_connected == f->n) {
        f->all_connected = TRUE;
        if (!opt_quiet)
          g_printerr ("mcp-fanout: %u clients connected to %s port %s in "
              "%.3f s\n", f->n, f->host, f->port,
              (now - f->t_start) / NS_PER_S);
        write_ready_file ();
        f->last_progress = now;
        continue;
      }
      deadline = f->last_progress + timeout_ns;
      wake = MIN (wake, deadline);
    }
    if (now >= deadline)
      break;
    ms = (gint) MIN ((MAX (wake, now) - now + 999999) / 1000000,
        (guint64) G_MAXINT);

    n = epoll_pwait (f->epfd, events, MAX_EVENTS, ms, run_mask);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      g_printerr ("mcp-fanout: epoll_wait failed: %s\n", g_strerror (errno));
      f->fatal = TRUE;
      break;
    }
    if (n == 0)
      continue;
    f->n_wakeups++;
    now = mono_ns ();
    for (i = 0; i < n; i++) {
      Client *c = events[i].data.ptr;

      if (c->state == CLIENT_CONNECTING)
        client_connect_done (f, c, now);
      else if (c->state == CLIENT_CONNECTED) {
        client_read (f, c);
        /* while connecting, only connections are progress */
        if (f->all_connected)
          f->last_progress = now;
      }
    }
  }
  g_free (events);
}

/* ---- setup and summary ------------------------------------------------- */

static gboolean
resolve (Fanout * f)
{
  GSocketConnectable *na;
  GError *err = NULL;
  struct addrinfo hints, *ai;
  gint gai;

  na = g_network_address_parse (opt_tcp, 0, &err);
  if (!na) {
    g_printerr ("mcp-fanout: bad --tcp '%s': %s\n", opt_tcp, err->message);
    g_error_free (err);
    return FALSE;
  }
  if (g_network_address_get_port (G_NETWORK_ADDRESS (na)) == 0) {
    g_printerr ("mcp-fanout: --tcp '%s' needs a port: HOST:PORT\n", opt_tcp);
    g_object_unref (na);
    return FALSE;
  }
  f->host = g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (na)));
  f->port = g_strdup_printf ("%u",
      (guint) g_network_address_get_port (G_NETWORK_ADDRESS (na)));
  g_object_unref (na);

  memset (&hints, 0, sizeof (hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  gai = getaddrinfo (f->host, f->port, &hints, &f->addrs);
  if (gai != 0) {
    g_printerr ("mcp-fanout: cannot resolve '%s': %s\n", f->host,
        gai_strerror (gai));
    f->addrs = NULL;
    return FALSE;
  }
  for (ai = f->addrs; ai; ai = ai->ai_next)
    f->n_addrs++;
  return TRUE;
}

/* Raises the soft descriptor limit to the hard one; FALSE (with a message)
 * when N clients still do not fit. */
static gboolean
raise_fd_limit (guint n)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) < 0) {
    g_printerr ("mcp-fanout: getrlimit failed: %s\n", g_strerror (errno));
    return FALSE;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
      getrlimit (RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t) n + SPARE_FDS) {
    g_printerr ("mcp-fanout: %u clients need %u file descriptors, the limit "
        "is %lu (raise it with ulimit -Hn)\n", n, n + SPARE_FDS,
        (unsigned long) rl.rlim_cur);
    return FALSE;
  }
  return TRUE;
}

static gboolean
client_ok (Fanout * f, Client * c)
{
  return c->complete && c->lost == 0 && c->duplicates == 0
      && c->reordered == 0 && c->corrupt == 0;
}

static void
print_failed (Fanout * f)
{
  guint i, printed = 0, failed = 0;

  for (i = 0; i < f->n; i++) {
    Client *c = &f->clients[i];
    const gchar *why = c->problem;
    gchar *tmp = NULL;

    if (client_ok (f, c))
      continue;
    failed++;
    if (printed >= MAX_REASONS)
      continue;
    if (!c->ever_connected)
      why = "never connected";
    else if (!why && c->offset == 0 && c->carry_len == 0)
      /* A connect burst beyond the server's listen backlog gets answered
       * with SYN cookies; a silent client whose final ACK then finds the
       * accept queue full believes it is connected, but never is. */
      why = "not a byte arrived (never accepted by the server? a lower "
          "--connect-rate helps)";
    else if (!why && c->first_seq < 0)
      why = "no stream datagram arrived";
    else if (!why)
      why = tmp = g_strdup_printf ("stopped after seq %" G_GINT64_FORMAT
          ", the last is %" G_GUINT64_FORMAT, c->last_seq, f->count - 1);
    g_printerr ("mcp-fanout: client %u failed: %s (received=%"
        G_GUINT64_FORMAT " lost=%" G_GUINT64_FORMAT " duplicates=%"
        G_GUINT64_FORMAT " reordered=%" G_GUINT64_FORMAT " corrupt=%"
        G_GUINT64_FORMAT " first_seq=%" G_GINT64_FORMAT " last_seq=%"
        G_GINT64_FORMAT ")\n", c->index, why, c->received, c->lost,
        c->duplicates, c->reordered, c->corrupt, c->first_seq, c->last_seq);
    g_free (tmp);
    printed++;
  }
  if (failed > printed)
    g_printerr ("mcp-fanout: ... and %u more failed clients\n",
        failed - printed);
}

/* Prints the summary line; returns whether every client is good. */
static gboolean
print_summary (Fanout * f)
{
  guint32 *all = g_new0 (guint32, HIST_BUCKETS);
  guint64 received = 0, lost = 0, dups = 0, reordered = 0, corrupt = 0;
  guint64 warmup = 0, min_rx = G_MAXUINT64, max_rx = 0, n_lat = 0;
  gint64 max_ns = -1, worst_p99 = -1, worst_max = -1;
  gboolean ok = f->n_complete == f->n;
  struct rusage ru;
  guint i, b;

  for (i = 0; i < f->n; i++) {
    Client *c = &f->clients[i];

    /* whatever never came after the last one is lost too */
    if (c->first_seq >= 0)
      c->lost += f->count - c->expected;
    if (!client_ok (f, c))
      ok = FALSE;
    received += c->received;
    lost += c->lost;
    dups += c->duplicates;
    reordered += c->reordered;
    corrupt += c->corrupt;
    warmup += c->warmup;
    min_rx = MIN (min_rx, c->received);
    max_rx = MAX (max_rx, c->received);
    if (c->n_lat > 0) {
      gint64 p99 = hist_percentile_us (c->hist, c->n_lat, 99, c->max_lat_ns);

      if (p99 > worst_p99 || (p99 == worst_p99
              && c->max_lat_ns / 1000 > worst_max)) {
        worst_p99 = p99;
        worst_max = c->max_lat_ns / 1000;
      }
      for (b = 0; b < HIST_BUCKETS; b++)
        all[b] += c->hist[b];
      n_lat += c->n_lat;
      max_ns = MAX (max_ns, c->max_lat_ns);
    }
  }
  if (f->n == 0)
    min_rx = 0;

  getrusage (RUSAGE_SELF, &ru);
  printf ("mcp-fanout: clients=%u connected=%u complete=%u received=%"
      G_GUINT64_FORMAT " lost=%" G_GUINT64_FORMAT " duplicates=%"
      G_GUINT64_FORMAT " reordered=%" G_GUINT64_FORMAT " corrupt=%"
      G_GUINT64_FORMAT " warmup=%" G_GUINT64_FORMAT " min_received=%"
      G_GUINT64_FORMAT " max_received=%" G_GUINT64_FORMAT " p50_us=%"
      G_GINT64_FORMAT " p99_us=%" G_GINT64_FORMAT " max_us=%" G_GINT64_FORMAT
      " worst_p99_us=%" G_GINT64_FORMAT " worst_max_us=%" G_GINT64_FORMAT
      " cpu_user_ms=%ld cpu_sys_ms=%ld\n", f->n, f->n_connected,
      f->n_complete, received, lost, dups, reordered, corrupt, warmup,
      min_rx, max_rx, hist_percentile_us (all, n_lat, 50, max_ns),
      hist_percentile_us (all, n_lat, 99, max_ns),
      n_lat > 0 ? max_ns / 1000 : -1, worst_p99, worst_max,
      (long) ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000,
      (long) ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000);
  fflush (stdout);
  g_free (all);
  return ok;
}

static void
clear_fanout (Fanout * f)
{
  guint i;

  for (i = 0; f->clients && i < f->n; i++) {
    Client *c = &f->clients[i];

    if (c->fd >= 0)
      close (c->fd);
    g_free (c->carry);
    g_free (c->window);
    g_free (c->hist);
    g_free (c->problem);
  }
  g_free (f->clients);
  if (f->addrs)
    freeaddrinfo (f->addrs);
  if (f->epfd >= 0)
    close (f->epfd);
  g_free (f->rbuf);
  g_free (f->ref);
  g_free (f->host);
  g_free (f->port);
  mcpt_sizes_clear (&f->sizes);
}

int
main (int argc, char **argv)
{
  GOptionContext *ctx;
  GError *err = NULL;
  struct sigaction sa;
  sigset_t block, run_mask;
  Fanout f;
  gint status;
  guint i;

  ctx = g_option_context_new ("- hold many TCP clients of a fan-out server "
      "and check the test stream of mcp-send on each");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
      "Prints 'mcp-fanout: clients=N connected=K complete=M received=TOTAL "
      "lost=L duplicates=D reordered=R corrupt=X warmup=W min_received=A "
      "max_received=B p50_us=.. p99_us=.. max_us=.. worst_p99_us=.. "
      "worst_max_us=.. cpu_user_ms=.. cpu_sys_ms=..' at the end.\n"
      "Exit status: 0 every client saw every datagram from its first one to "
      "the last intact, once, in order; 1 otherwise; 2 usage or socket "
      "error, or not all clients connected.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("mcp-fanout: %s\n", err->message);
    return EXIT_USAGE;
  }
  g_option_context_free (ctx);
  if (argc > 1) {
    g_printerr ("mcp-fanout: unexpected argument '%s'\n", argv[1]);
    return EXIT_USAGE;
  }
  if (!opt_tcp) {
    g_printerr ("mcp-fanout: --tcp HOST:PORT is required\n");
    return EXIT_USAGE;
  }
  if (opt_clients < 1 || opt_count < 1 || opt_stream_id < 0
      || opt_stream_id > G_MAXUINT32 || opt_timeout < 0
      || !isfinite (opt_timeout) || opt_connect_rate < 0
      || !isfinite (opt_connect_rate)) {
    g_printerr ("mcp-fanout: --clients and --count must be at least 1, "
        "--stream-id 0..4294967295, --timeout and --connect-rate not "
        "negative\n");
    return EXIT_USAGE;
  }

  memset (&f, 0, sizeof (f));
  f.epfd = -1;
  if (!opt_framing || g_str_equal (opt_framing, "raw"))
    f.raw = TRUE;
  else if (!g_str_equal (opt_framing, "rfc4571")) {
    g_printerr ("mcp-fanout: --framing must be raw or rfc4571\n");
    return EXIT_USAGE;
  }
  if (!mcpt_sizes_parse (opt_sizes, &f.sizes, &err)) {
    g_printerr ("mcp-fanout: %s\n", err->message);
    return EXIT_USAGE;
  }
  f.n = (guint) opt_clients;
  f.count = (guint64) opt_count;
  f.stream_id = (guint32) opt_stream_id;
  if (!raise_fd_limit (f.n) || !resolve (&f)) {
    clear_fanout (&f);
    return EXIT_USAGE;
  }
  f.epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (f.epfd < 0) {
    g_printerr ("mcp-fanout: epoll_create1 failed: %s\n", g_strerror (errno));
    clear_fanout (&f);
    return EXIT_USAGE;
  }
  setup_fast_check (&f);

  /* raw: a partial datagram; rfc4571: a partial frame (longer ones are
   * skipped, not held) */
  f.carry_size = f.sizes.max + (f.raw ? 0 : 2);
  f.rbuf = g_malloc (f.carry_size + READ_SIZE);
  f.window_bits = 64;
  while (f.window_bits < MIN (f.count, MAX_WINDOW_BITS))
    f.window_bits *= 2;
  f.clients = g_new0 (Client, f.n);
  for (i = 0; i < f.n; i++) {
    Client *c = &f.clients[i];

    c->index = i;
    c->fd = -1;
    c->in_sync = TRUE;
    c->first_seq = -1;
    c->last_seq = -1;
    c->carry = g_malloc (f.carry_size);
    c->window = g_malloc0 (f.window_bits / 8);
    c->hist = g_new0 (guint32, HIST_BUCKETS);
  }

  /* Signals are blocked except inside epoll_pwait(), so none is missed
   * between the check of stop_requested and the wait. */
  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigemptyset (&block);
  sigaddset (&block, SIGINT);
  sigaddset (&block, SIGTERM);
  sigprocmask (SIG_BLOCK, &block, &run_mask);
  sigdelset (&run_mask, SIGINT);
  sigdelset (&run_mask, SIGTERM);
  signal (SIGPIPE, SIG_IGN);

  run (&f, &run_mask);

  if (!opt_quiet) {
    if (!f.all_connected && !f.fatal)
      g_printerr ("mcp-fanout: only %u of %u clients connected to %s port "
          "%s\n", f.n_connected, f.n, f.host, f.port);
    g_printerr ("mcp-fanout: %" G_GUINT64_FORMAT " wake-ups, %"
        G_GUINT64_FORMAT " reads, %.0f bytes per read\n", f.n_wakeups,
        f.n_reads, f.n_reads ? (gdouble) f.n_bytes / f.n_reads : 0.0);
    print_failed (&f);
  }
  status = print_summary (&f) ? EXIT_OK : EXIT_FAILED;
  if (f.fatal || !f.all_connected)
    status = EXIT_USAGE;
  clear_fanout (&f);
  return status;
}
