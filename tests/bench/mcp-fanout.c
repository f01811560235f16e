/* mcp-fanout — holds many TCP clients of a fan-out server (tcpsplitsink) in
 * one process and checks the numbered test stream of mcp-send (see
 * ../tools/mcp-testpattern.h) on every one of them.
 *
 *   mcp-fanout --tcp HOST:PORT --clients N [--framing raw|rfc4571]
 *              [--count 1000] [--sizes 1316] [--stream-id 1] [--timeout 10]
 *              [--connect-rate R] [--http PATH] [--ready-file FILE]
 *              [--quiet]
 *
 * Opens N non-blocking connections (at most R new ones per second, default
 * unlimited; refused or failed attempts are retried every 100 ms), creates
 * FILE once all N are connected, and reads them all from one epoll loop.
 * The clients never send anything, so a framing=auto server treats them as
 * raw after its detect-timeout. With --http PATH each client sends
 * "GET PATH HTTP/1.0" instead (a channel gateway, udpxy) and reads the
 * stream after the response's header; a status other than 200 ends the
 * run (exit 2), and FILE is created once every client has its 200. A connect burst larger than the server's
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
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mcp-stream.h"

#define EXIT_OK MCPS_EXIT_OK
#define EXIT_FAILED MCPS_EXIT_FAILED
#define EXIT_USAGE MCPS_EXIT_USAGE

#define MAX_REASONS 5
#define READ_SIZE (256 * 1024)
#define MAX_EVENTS 1024
#define RETRY_NS (100 * G_GUINT64_CONSTANT (1000000))
#define NS_PER_S 1e9
/* descriptors kept free for stdio, epoll, the ready file, GLib */
#define SPARE_FDS 32
/* the longest HTTP response header taken */
#define MAX_HEADER 4096

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
static gchar *opt_http = NULL;
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
  {"http", 'H', 0, G_OPTION_ARG_STRING, &opt_http,
      "Ask for PATH with an HTTP GET, read the stream after the response "
        "header", "PATH"},
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
  gchar *header;                /* --http: the response header so far */
  guint header_len;

  McpsCutter cut;
  McpsSeq seq;                  /* from the first seq that arrives */
  guint64 corrupt;
  guint64 warmup;

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
  McpsFraming framing;
  McptSizes sizes;
  McpsChecker checker;

  struct addrinfo *addrs;
  guint n_addrs;
  gchar *host;
  gchar *port;
  gchar *request;               /* --http: the GET every client sends */

  gint epfd;
  guint8 *rbuf;                 /* the cutters' headroom + READ_SIZE */
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
  guint64 rank = mcps_rank (total, pct), sum = 0;
  guint b;

  if (total == 0)
    return -1;
  for (b = 0; b < HIST_BUCKETS; b++) {
    sum += hist[b];
    if (sum >= rank)
      return MIN (hist_value_us (b), MAX (max_ns, 0) / 1000);
  }
  return MAX (max_ns, 0) / 1000;
}

/* ---- datagrams --------------------------------------------------------- */

static void
client_corrupt (Client * c, const gchar * reason)
{
  c->corrupt++;
  client_problem (c, "corrupt datagram: %s", reason);
}

/* One datagram of @len bytes, read at @now_rt (CLOCK_REALTIME ns). */
static void
handle_datagram (Fanout * f, Client * c, const guint8 * p, gsize len,
    guint64 now_rt)
{
  gchar reason[160];
  guint64 seq, skipped = 0;
  gboolean was_complete = c->seq.complete;
  gint64 lat;

  if (len >= MCPT_HEADER_SIZE && mcpt_kind (p, len) == MCPT_KIND_WARMUP) {
    c->warmup++;
    return;
  }
  if (mcps_checker_verify (&f->checker, p, len, f->stream_id, reason,
          sizeof (reason))) {
    client_corrupt (c, reason);
    return;
  }

  seq = mcpt_header_seq (p);
  switch (mcps_seq_add (&c->seq, seq, &skipped)) {
    case MCPS_SEQ_BEYOND:
      mcps_seq_beyond_reason (&c->seq, seq, reason, sizeof (reason));
      client_corrupt (c, reason);
      return;
    case MCPS_SEQ_DUPLICATE:
      client_problem (c, "duplicate seq %" G_GUINT64_FORMAT " (after seq %"
          G_GUINT64_FORMAT ")", seq, c->seq.expected - 1);
      return;
    case MCPS_SEQ_LATE:
      client_problem (c, "seq %" G_GUINT64_FORMAT " arrived after seq %"
          G_GUINT64_FORMAT, seq, c->seq.expected - 1);
      break;
    case MCPS_SEQ_NEXT:
      if (skipped == 1)
        client_problem (c, "lost seq %" G_GUINT64_FORMAT, seq - 1);
      else if (skipped > 1)
        client_problem (c, "lost seq %" G_GUINT64_FORMAT "..%"
            G_GUINT64_FORMAT, seq - skipped, seq - 1);
      break;
  }

  lat = (gint64) (now_rt - mcpt_header_send_ns (p));
  c->hist[hist_bucket (lat)]++;
  c->n_lat++;
  if (lat > c->max_lat_ns)
    c->max_lat_ns = lat;

  if (!was_complete && c->seq.complete)
    f->n_complete++;
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
  f->last_progress = now;
  if (opt_http) {
    /* a few dozen bytes into a new connection's empty send buffer */
    if (send (c->fd, f->request, strlen (f->request), MSG_NOSIGNAL) !=
        (ssize_t) strlen (f->request)) {
      g_printerr ("mcp-fanout: client %u cannot send its request: %s\n",
          c->index, g_strerror (errno));
      f->fatal = TRUE;
      return;
    }
    c->header = g_malloc (MAX_HEADER + 1);
  } else {
    f->n_connected++;
  }
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

/* The datagrams of what was fed to @c's cutter, read at @now_rt. */
static void
client_take (Fanout * f, Client * c, guint64 now_rt)
{
  McpsItem item;
  McpsCut k;

  while ((k = mcps_cutter_next (&c->cut, &item)) != MCPS_CUT_NEED_MORE) {
    if (k == MCPS_CUT_DATAGRAM)
      handle_datagram (f, c, item.data, item.len, now_rt);
    else
      client_corrupt (c, item.reason);
  }
}

/* --http: reads the response header of @c; the bytes after it (the
 * stream) go to the cutter. FALSE when @c is done with for now (no more
 * bytes, or closed); fatal when the answer is not a 200. */
static gboolean
client_read_header (Fanout * f, Client * c, guint64 now)
{
  gchar *end;
  ssize_t got;
  gsize body;

  got = recv (c->fd, c->header + c->header_len, MAX_HEADER - c->header_len,
      MSG_DONTWAIT);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return FALSE;
  if (got <= 0) {
    g_printerr ("mcp-fanout: client %u: the connection ended before the "
        "response header: %s\n", c->index, got < 0 ? g_strerror (errno) :
        "closed by the server");
    f->fatal = TRUE;
    client_close (f, c, CLIENT_CLOSED);
    return FALSE;
  }
  c->header_len += (guint) got;
  c->header[c->header_len] = '\0';
  end = strstr (c->header, "\r\n\r\n");
  if (!end) {
    if (c->header_len < MAX_HEADER && memchr (c->header, '\0',
            c->header_len) == NULL)
      return FALSE;
    g_printerr ("mcp-fanout: client %u: no HTTP response header in the "
        "first %u bytes\n", c->index, c->header_len);
    f->fatal = TRUE;
    return FALSE;
  }
  if (!g_str_has_prefix (c->header, "HTTP/1.")
      || strncmp (c->header + 8, " 200", 4) != 0) {
    g_printerr ("mcp-fanout: client %u was refused: %.*s\n", c->index,
        (int) strcspn (c->header, "\r\n"), c->header);
    f->fatal = TRUE;
    return FALSE;
  }
  body = c->header_len - (gsize) (end + 4 - c->header);
  if (body > 0) {
    memcpy (mcps_cutter_load (&c->cut, f->rbuf), end + 4, body);
    mcps_cutter_feed (&c->cut, f->rbuf, body);
    client_take (f, c, mcpt_now_ns (CLOCK_REALTIME));
  }
  g_clear_pointer (&c->header, g_free);
  f->n_connected++;
  f->last_progress = now;
  return TRUE;
}

/* One read of up to READ_SIZE bytes from a connected client. */
static void
client_read (Fanout * f, Client * c, guint64 now)
{
  gchar reason[160];
  ssize_t got;

  if (c->header && !client_read_header (f, c, now))
    return;
  got = recv (c->fd, mcps_cutter_load (&c->cut, f->rbuf), READ_SIZE,
      MSG_DONTWAIT);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
      return;
    if (!c->seq.complete)
      client_problem (c, "connection lost after seq %" G_GINT64_FORMAT ": %s",
          c->seq.last_seq, g_strerror (errno));
    client_close (f, c, CLIENT_CLOSED);
    return;
  }
  if (got == 0) {
    if (!c->seq.complete) {
      client_problem (c, "connection closed by the server after seq %"
          G_GINT64_FORMAT, c->seq.last_seq);
      if (mcps_cutter_pending (&c->cut, reason, sizeof (reason)) > 0)
        client_corrupt (c, reason);
    }
    client_close (f, c, CLIENT_CLOSED);
    return;
  }
  f->n_reads++;
  f->n_bytes += (guint64) got;
  mcps_cutter_feed (&c->cut, f->rbuf, (gsize) got);
  client_take (f, c, mcpt_now_ns (CLOCK_REALTIME));
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
run (Fanout * f, const sigset_t * run_mask)
{
  struct epoll_event *events = g_new (struct epoll_event, MAX_EVENTS);
  guint64 timeout_ns = (guint64) (opt_timeout * NS_PER_S);

  f->t_start = mcps_mono_ns ();
  f->last_progress = f->t_start;
  while (!mcps_stop_requested && !f->fatal && f->n_complete < f->n) {
    guint64 now = mcps_mono_ns ();
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
        mcps_write_ready_file (opt_ready_file);
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
    now = mcps_mono_ns ();
    for (i = 0; i < n; i++) {
      Client *c = events[i].data.ptr;

      if (c->state == CLIENT_CONNECTING)
        client_connect_done (f, c, now);
      else if (c->state == CLIENT_CONNECTED) {
        client_read (f, c, now);
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
  struct addrinfo *ai;

  f->addrs = mcps_resolve_tcp (opt_tcp, &f->host, &f->port);
  for (ai = f->addrs; ai; ai = ai->ai_next)
    f->n_addrs++;
  return f->addrs != NULL;
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
  return c->seq.complete && c->seq.lost == 0 && c->seq.duplicates == 0
      && c->seq.reordered == 0 && c->corrupt == 0;
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
    else if (!why && c->cut.bytes == 0)
      /* A connect burst beyond the server's listen backlog gets answered
       * with SYN cookies; a silent client whose final ACK then finds the
       * accept queue full believes it is connected, but never is. */
      why = "not a byte arrived (never accepted by the server? a lower "
          "--connect-rate helps)";
    else if (!why && c->seq.first_seq < 0)
      why = "no stream datagram arrived";
    else if (!why)
      why = tmp = g_strdup_printf ("stopped after seq %" G_GINT64_FORMAT
          ", the last is %" G_GUINT64_FORMAT, c->seq.last_seq, f->count - 1);
    g_printerr ("mcp-fanout: client %u failed: %s (received=%"
        G_GUINT64_FORMAT " lost=%" G_GUINT64_FORMAT " duplicates=%"
        G_GUINT64_FORMAT " reordered=%" G_GUINT64_FORMAT " corrupt=%"
        G_GUINT64_FORMAT " first_seq=%" G_GINT64_FORMAT " last_seq=%"
        G_GINT64_FORMAT ")\n", c->index, why, c->seq.received, c->seq.lost,
        c->seq.duplicates, c->seq.reordered, c->corrupt, c->seq.first_seq,
        c->seq.last_seq);
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
    mcps_seq_finish (&c->seq);
    if (!client_ok (f, c))
      ok = FALSE;
    received += c->seq.received;
    lost += c->seq.lost;
    dups += c->seq.duplicates;
    reordered += c->seq.reordered;
    corrupt += c->corrupt;
    warmup += c->warmup;
    min_rx = MIN (min_rx, c->seq.received);
    max_rx = MAX (max_rx, c->seq.received);
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
    mcps_cutter_clear (&c->cut);
    mcps_seq_clear (&c->seq);
    g_free (c->hist);
    g_free (c->problem);
    g_free (c->header);
  }
  g_free (f->clients);
  g_free (f->request);
  if (f->addrs)
    freeaddrinfo (f->addrs);
  if (f->epfd >= 0)
    close (f->epfd);
  g_free (f->rbuf);
  mcps_checker_clear (&f->checker);
  g_free (f->host);
  g_free (f->port);
  mcpt_sizes_clear (&f->sizes);
}

/* --help, after the options */
static const gchar description[] =
    "Prints 'mcp-fanout: clients=N connected=K complete=M received=TOTAL "
    "lost=L duplicates=D reordered=R corrupt=X warmup=W min_received=A "
    "max_received=B p50_us=.. p99_us=.. max_us=.. worst_p99_us=.. "
    "worst_max_us=.. cpu_user_ms=.. cpu_sys_ms=..' at the end.\n"
    "Exit status: 0 every client saw every datagram from its first one to "
    "the last intact, once, in order; 1 otherwise; 2 usage or socket "
    "error, or not all clients connected.\n";

int
main (int argc, char **argv)
{
  GError *err = NULL;
  sigset_t run_mask;
  Fanout f;
  gint status;
  guint i;

  if (!mcps_parse_args ("mcp-fanout", "- hold many TCP clients of a "
          "fan-out server and check the test stream of mcp-send on each",
          entries, description, &argc, &argv))
    return EXIT_USAGE;
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
  f.framing = MCPS_FRAMING_RAW;
  if (opt_framing && (!mcps_framing_parse (opt_framing, &f.framing)
          || f.framing == MCPS_FRAMING_MPX)) {
    g_printerr ("mcp-fanout: --framing must be raw or rfc4571\n");
    return EXIT_USAGE;
  }
  if (!mcpt_sizes_parse (opt_sizes, &f.sizes, &err)) {
    g_printerr ("mcp-fanout: %s\n", err->message);
    return EXIT_USAGE;
  }
  if (opt_http && opt_http[0] != '/') {
    g_printerr ("mcp-fanout: --http takes a path that starts with /\n");
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
  mcps_checker_init (&f.checker, &f.sizes);
  if (opt_http)
    f.request = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: %s:%s\r\n"
        "User-Agent: mcp-fanout\r\n\r\n", opt_http, f.host, f.port);

  f.clients = g_new0 (Client, f.n);
  for (i = 0; i < f.n; i++) {
    Client *c = &f.clients[i];

    c->index = i;
    c->fd = -1;
    /* a frame longer than any datagram is skipped, not held */
    mcps_cutter_init (&c->cut, f.framing, &f.sizes, TRUE);
    mcps_seq_init (&c->seq, f.count, MAX_WINDOW_BITS, TRUE);
    c->hist = g_new0 (guint32, HIST_BUCKETS);
  }
  f.rbuf = g_malloc (mcps_cutter_headroom (&f.clients[0].cut) + READ_SIZE);

  /* Signals are blocked except inside epoll_pwait(), so none is missed
   * between the check of mcps_stop_requested and the wait. */
  mcps_catch_stop_signals (&run_mask);
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
