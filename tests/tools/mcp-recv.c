/* mcp-recv — receives and checks the numbered test stream of mcp-send
 * (see mcp-testpattern.h for the datagram format), from a multicast group
 * or from a TCP connection carrying the datagrams.
 *
 *   mcp-recv --group 239.1.2.3 --port 5004 [--iface NAME] [--expect-ttl N]
 *            [--source ADDR]
 *   mcp-recv --tcp HOST:PORT [--framing raw|rfc4571|mpx]
 *   common:  [--count 1000] [--sizes 1316] [--stream-id 1[,2...]]
 *            [--expect-absent ID[,ID...]] [--timeout 10]
 *            [--ready-file FILE] [--allow-gaps N] [--quiet]
 *
 * Several streams (one sender each, same group) are checked at once with
 * --stream-id 1,2,3: --count is then per stream, each stream is tracked on
 * its own, and the run ends when every one of them is complete. A stream
 * datagram of an id not listed is "foreign", or an "absent violation" when
 * its id is listed in --expect-absent; warm-ups of any id are just counted.
 *
 * With --framing mpx (docs/protocol.md) mcp-recv is an mpx receiver: it
 * sends its HELLO (role receiver, a random peer id, name "mcp-recv") as
 * soon as it is connected, expects a source's HELLO back, and checks the
 * payload of every DATA message as one datagram; CAPS and KEEPALIVE are
 * ignored. The decoding is the one of the elements (mcp-wire.c). A decode
 * error, or a peer that is not a source, fails the run (exit 1).
 *
 * With --source the join is source-specific (SSM: IGMPv3/MLDv2 INCLUDE
 * {ADDR}), and a datagram from any other sender counts as corrupt.
 *
 * Prints to stdout at the end, with more than one stream listed, one line
 * per stream in the order listed:
 *   mcp-recv: stream=S received=N lost=L duplicates=D reordered=R
 *             first_seq=F last_seq=X
 * and then always the summary line (totals over all streams; first_seq the
 * lowest, last_seq the highest of any stream; absent_violations only with
 * --expect-absent):
 *   mcp-recv: received=N lost=L duplicates=D reordered=R corrupt=C bad_ttl=T
 *             warmup=W first_seq=F last_seq=X p50_us=A p99_us=B max_us=M
 *             foreign=F [absent_violations=V]
 * Exit status: 0 all --count datagrams of every stream arrived, intact, once
 * and in order (and with the expected TTL), nothing foreign or absent
 * arrived, and (mpx) the connection had no protocol error; 1 otherwise;
 * 2 usage or socket set-up error.
 *
 * --allow-gaps N is for fault tests (a server killed mid-stream, a link
 * down, a slow client skipped ahead): the datagrams of each stream may miss
 * up to N runs of consecutive sequence numbers ("gaps", one at the start or
 * the end included), but what arrived must still be intact, once and in
 * order. Each gap is printed, before the summary line (which then ends
 * with gaps=G, the total over all streams), as
 *   mcp-recv: gap stream=S seqs=A-B count=N before_sent_ns=T1 after_sent_ns=T2
 * where T1 and T2 are the send times (the sender's CLOCK_REALTIME, from the
 * datagram headers) of the datagrams received just before and just after
 * the gap, -1 at the start or the end of the stream: every missing datagram
 * was sent between T1 and T2. At most 50 gaps per stream are printed.
 */
#include <glib.h>
#include <gio/gio.h>

#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mcp-address.h"
#include "mcp-stream.h"

#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL 49
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif

#define EXIT_OK MCPS_EXIT_OK
#define EXIT_FAILED MCPS_EXIT_FAILED
#define EXIT_USAGE MCPS_EXIT_USAGE

#define MAX_REASONS 5
#define READ_SIZE (256 * 1024)
#define CONNECT_RETRY_NS (100 * G_GUINT64_CONSTANT (1000000))

static gchar *opt_group = NULL;
static gint opt_port = -1;
static gchar *opt_iface = NULL;
static gchar *opt_tcp = NULL;
static gchar *opt_framing = NULL;
static gint64 opt_count = 1000;
static gchar *opt_sizes = NULL;
static gchar *opt_stream_ids = NULL;
static gchar *opt_expect_absent = NULL;
static gdouble opt_timeout = 10.0;
static gchar *opt_ready_file = NULL;
static gint opt_expect_ttl = -1;
static gboolean opt_quiet = FALSE;
static gchar *opt_source = NULL;
static gint opt_allow_gaps = -1;

#define MAX_GAPS_PRINTED 50

static GOptionEntry entries[] = {
  {"group", 'g', 0, G_OPTION_ARG_STRING, &opt_group,
      "Multicast group to join, IPv4 or IPv6 (multicast mode)", "ADDR"},
  {"port", 'p', 0, G_OPTION_ARG_INT, &opt_port,
      "UDP port (multicast mode)", "N"},
  {"iface", 'i', 0, G_OPTION_ARG_STRING, &opt_iface,
      "Join on this interface (default: by route)", "NAME"},
  {"source", 'S', 0, G_OPTION_ARG_STRING, &opt_source,
      "Join source-specific, from ADDR only (multicast mode)", "ADDR"},
  {"tcp", 'T', 0, G_OPTION_ARG_STRING, &opt_tcp,
        "Connect to HOST:PORT ([V6ADDR]:PORT) and read the stream from TCP",
      "HOST:PORT"},
  {"framing", 'f', 0, G_OPTION_ARG_STRING, &opt_framing,
        "TCP framing: rfc4571 (2-byte length + datagram, the default), raw "
        "(datagrams back to back, cut apart by --sizes) or mpx (handshake as "
        "an mpx receiver, then one DATA message per datagram)",
      "raw|rfc4571|mpx"},
  {"count", 'c', 0, G_OPTION_ARG_INT64, &opt_count,
        "Number of stream datagrams expected from each stream (default 1000)",
      "N"},
  {"sizes", 's', 0, G_OPTION_ARG_STRING, &opt_sizes,
        "Comma-separated datagram sizes the sender used (default 1316)",
      "LIST"},
  {"stream-id", 'I', 0, G_OPTION_ARG_STRING, &opt_stream_ids,
      "Stream id expected, or a comma-separated list of them, each "
        "0..4294967295 (default 1)", "N[,N...]"},
  {"expect-absent", 'A', 0, G_OPTION_ARG_STRING, &opt_expect_absent,
      "Stream ids that must not arrive at all (counted as "
        "absent_violations, not as foreign)", "ID[,ID...]"},
  {"timeout", 't', 0, G_OPTION_ARG_DOUBLE, &opt_timeout,
        "Give up SEC after the last datagram (or the start) (default 10)",
      "SEC"},
  {"ready-file", 'r', 0, G_OPTION_ARG_FILENAME, &opt_ready_file,
      "Create FILE when the first datagram (of any kind) arrives", "FILE"},
  {"expect-ttl", 'e', 0, G_OPTION_ARG_INT, &opt_expect_ttl,
      "Count stream datagrams whose TTL / hop limit is not N "
        "(multicast mode)", "N"},
  {"allow-gaps", 'G', 0, G_OPTION_ARG_INT, &opt_allow_gaps,
      "Accept up to N runs of missing datagrams per stream, each printed "
        "with the send times around it (what arrived must still be intact, "
        "once, in order)", "N"},
  {"quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
      "No progress messages on stderr", NULL},
  {NULL}
};

/* A run of missing sequence numbers, and the send times of the datagrams
 * received around it (-1: none). */
typedef struct
{
  guint64 first;
  guint64 last;
  gint64 before_sent;
  gint64 after_sent;
} Gap;

/* One stream of --stream-id, tracked on its own. */
typedef struct
{
  guint32 id;
  McpsSeq seq;                  /* counted from seq 0, every seq remembered */
  gboolean finished;            /* its last sequence number arrived */
  gint64 last_sent;             /* send time of seq last_seq, -1 before */
  guint64 n_gaps;
  GArray *gaps;                 /* Gap, the first MAX_GAPS_PRINTED */
} Stream;

typedef struct
{
  guint64 count;                /* per stream */
  McptSizes sizes;
  McpsChecker checker;
  Stream *streams;              /* in the order of --stream-id */
  guint n_streams;
  guint unfinished;
  GHashTable *by_id;            /* stream id -> Stream * */
  GHashTable *absent;           /* set of the --expect-absent ids */

  /* counters of the summary line that are not per stream */
  guint64 corrupt;
  guint64 bad_ttl;
  guint64 warmup;
  guint64 foreign;
  guint64 absent_violations;
  gboolean failed;              /* the connection broke the protocol (mpx) */

  GArray *latencies;            /* gint64 ns, per datagram counted */
  guint reasons_printed;
  guint ttl_reasons_printed;
  guint unlisted_reasons_printed;
  gboolean ready_written;
  gboolean done;
  guint64 last_activity;        /* CLOCK_MONOTONIC ns */
} Receiver;

/* Milliseconds until the inactivity timeout, 0 once it has passed. */
static gint
remaining_ms (Receiver * r)
{
  guint64 limit = r->last_activity + (guint64) (opt_timeout * 1e9);
  guint64 now = mcps_mono_ns ();

  if (now >= limit)
    return 0;
  return (gint) MIN ((limit - now + 999999) / 1000000, (guint64) G_MAXINT);
}

static void
report_corrupt (Receiver * r, const gchar * reason)
{
  r->corrupt++;
  if (r->reasons_printed < MAX_REASONS) {
    g_printerr ("mcp-recv: corrupt datagram: %s\n", reason);
    r->reasons_printed++;
  }
}

/* A well-formed stream datagram whose id is not in --stream-id. Its
 * payload is not checked: another stream may use other sizes. */
static void
report_unlisted (Receiver * r, guint32 id, guint64 seq)
{
  gboolean absent = g_hash_table_contains (r->absent, GUINT_TO_POINTER (id));

  if (absent)
    r->absent_violations++;
  else
    r->foreign++;
  if (r->unlisted_reasons_printed < MAX_REASONS) {
    if (absent)
      g_printerr ("mcp-recv: stream %u must be absent, but its seq %"
          G_GUINT64_FORMAT " arrived\n", id, seq);
    else
      g_printerr ("mcp-recv: foreign datagram: stream %u (seq %"
          G_GUINT64_FORMAT ") is not in --stream-id\n", id, seq);
    r->unlisted_reasons_printed++;
  }
}

static void
add_gap (Stream * s, guint64 first, guint64 last, gint64 before_sent,
    gint64 after_sent)
{
  Gap g = { first, last, before_sent, after_sent };

  s->n_gaps++;
  if (s->gaps->len < MAX_GAPS_PRINTED)
    g_array_append_val (s->gaps, g);
}

/* Counts a datagram of stream @s, seq @seq, whose TTL is not the one of
 * --expect-ttl. */
static void
check_ttl (Receiver * r, Stream * s, guint64 seq, gint ttl)
{
  gchar what[48];

  if (opt_expect_ttl < 0 || ttl == opt_expect_ttl)
    return;
  r->bad_ttl++;
  if (r->ttl_reasons_printed >= MAX_REASONS)
    return;
  if (r->n_streams > 1)
    g_snprintf (what, sizeof (what), "stream %u seq %" G_GUINT64_FORMAT,
        s->id, seq);
  else
    g_snprintf (what, sizeof (what), "seq %" G_GUINT64_FORMAT, seq);
  if (ttl < 0)
    g_printerr ("mcp-recv: %s arrived without a TTL, expected %d\n",
        what, opt_expect_ttl);
  else
    g_printerr ("mcp-recv: %s arrived with TTL %d, expected %d\n",
        what, ttl, opt_expect_ttl);
  r->ttl_reasons_printed++;
}

/* One datagram of @len bytes; @ttl is -1 when unknown. */
static void
handle_datagram (Receiver * r, const guint8 * buf, gsize len, gint ttl)
{
  guint64 now_rt = mcpt_now_ns (CLOCK_REALTIME);
  gchar reason[160];
  Stream *s = NULL;
  McpsSeqResult res;
  guint64 seq, skipped = 0;
  gint64 sent, lat;

  r->last_activity = mcps_mono_ns ();
  if (!r->ready_written) {
    r->ready_written = TRUE;
    mcps_write_ready_file (opt_ready_file);
  }

  if (len >= MCPT_HEADER_SIZE) {
    McptKind kind = mcpt_kind (buf, len);

    if (kind == MCPT_KIND_WARMUP) {
      r->warmup++;
      return;
    }
    if (kind == MCPT_KIND_STREAM) {
      guint32 id = mcpt_header_stream_id (buf);

      s = g_hash_table_lookup (r->by_id, GUINT_TO_POINTER (id));
      if (s == NULL) {
        report_unlisted (r, id, mcpt_header_seq (buf));
        return;
      }
    }
  }
  /* Without a stream, the header is bad and the check says why before it
   * looks at the id. */
  if (mcps_checker_verify (&r->checker, buf, len, s ? s->id : 0, reason,
          sizeof (reason))) {
    report_corrupt (r, reason);
    return;
  }
  seq = mcpt_header_seq (buf);
  sent = (gint64) mcpt_header_send_ns (buf);
  res = mcps_seq_add (&s->seq, seq, &skipped);
  if (res == MCPS_SEQ_BEYOND) {
    mcps_seq_beyond_reason (&s->seq, seq, reason, sizeof (reason));
    report_corrupt (r, reason);
    return;
  }
  check_ttl (r, s, seq, ttl);
  if (res == MCPS_SEQ_DUPLICATE)
    return;
  if (res == MCPS_SEQ_NEXT) {
    if (skipped > 0)
      add_gap (s, seq - skipped, seq - 1, s->last_sent, sent);
    s->last_sent = sent;
  }
  lat = (gint64) now_rt - sent;
  g_array_append_val (r->latencies, lat);
  if (!s->finished && s->seq.complete) {
    s->finished = TRUE;
    if (--r->unfinished == 0)
      r->done = TRUE;
  }
}

/* ---- multicast mode ---------------------------------------------------- */

/* Joins group on ifindex from source only (MCAST_JOIN_SOURCE_GROUP). */
static gboolean
join_source (gint fd, GInetAddress * group, guint ifindex,
    GInetAddress * source)
{
  gboolean v6 = g_inet_address_get_family (group) == G_SOCKET_FAMILY_IPV6;
  struct group_source_req req;
  GSocketAddress *sa;

  memset (&req, 0, sizeof (req));
  req.gsr_interface = ifindex;
  sa = g_inet_socket_address_new (group, 0);
  g_socket_address_to_native (sa, &req.gsr_group, sizeof (req.gsr_group), NULL);
  g_object_unref (sa);
  sa = g_inet_socket_address_new (source, 0);
  g_socket_address_to_native (sa, &req.gsr_source, sizeof (req.gsr_source),
      NULL);
  g_object_unref (sa);
  return mcps_set_opt (fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
      MCAST_JOIN_SOURCE_GROUP, &req, sizeof (req), "MCAST_JOIN_SOURCE_GROUP");
}

static gint
open_multicast (GInetAddress * group, guint ifindex, GInetAddress * source)
{
  gboolean v6 = g_inet_address_get_family (group) == G_SOCKET_FAMILY_IPV6;
  GSocketAddress *sa;
  struct sockaddr_storage ss;
  socklen_t ss_len;
  gint one = 1, zero = 0;
  gint rcvbuf = 4 * 1024 * 1024;
  gint fd;

  fd = socket (v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    g_printerr ("mcp-recv: cannot create a UDP socket: %s\n",
        g_strerror (errno));
    return -1;
  }
  /* Other receivers (and proxies) may listen on the same group and port. */
  if (!mcps_set_opt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one),
          "SO_REUSEADDR")
      || !mcps_set_opt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof (one),
          "SO_REUSEPORT"))
    goto fail;
  /* Room for bursts of large datagrams; limited by net.core.rmem_max. */
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof (rcvbuf));

  sa = g_inet_socket_address_new (group, (guint16) opt_port);
  memset (&ss, 0, sizeof (ss));
  g_socket_address_to_native (sa, &ss, sizeof (ss), NULL);
  ss_len = (socklen_t) g_socket_address_get_native_size (sa);
  g_object_unref (sa);

  if (v6) {
    struct ipv6_mreq mreq;

    ((struct sockaddr_in6 *) &ss)->sin6_scope_id = ifindex;
    if (bind (fd, (struct sockaddr *) &ss, ss_len) < 0) {
      /* Link-scope groups cannot be bound without an interface. */
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

      if (errno != EINVAL || ifindex != 0)
        goto bind_fail;
      sin6->sin6_addr = in6addr_any;
      if (bind (fd, (struct sockaddr *) &ss, ss_len) < 0)
        goto bind_fail;
    }
    /* Not fatal: older kernels lack it, and the bind filters anyway. */
    setsockopt (fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero, sizeof (zero));
    memset (&mreq, 0, sizeof (mreq));
    memcpy (&mreq.ipv6mr_multiaddr, g_inet_address_to_bytes (group), 16);
    mreq.ipv6mr_interface = ifindex;
    if (source ? !join_source (fd, group, ifindex, source) :
        !mcps_set_opt (fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof (mreq),
            "IPV6_JOIN_GROUP"))
      goto fail;
    if (opt_expect_ttl >= 0
        && !mcps_set_opt (fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one,
            sizeof (one), "IPV6_RECVHOPLIMIT"))
      goto fail;
  } else {
    struct ip_mreqn mreq;

    if (bind (fd, (struct sockaddr *) &ss, ss_len) < 0)
      goto bind_fail;
    if (!mcps_set_opt (fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof (zero),
            "IP_MULTICAST_ALL"))
      goto fail;
    memset (&mreq, 0, sizeof (mreq));
    memcpy (&mreq.imr_multiaddr, g_inet_address_to_bytes (group), 4);
    mreq.imr_ifindex = (gint) ifindex;
    if (source ? !join_source (fd, group, ifindex, source) :
        !mcps_set_opt (fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof (mreq),
            "IP_ADD_MEMBERSHIP"))
      goto fail;
    if (opt_expect_ttl >= 0
        && !mcps_set_opt (fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof (one),
            "IP_RECVTTL"))
      goto fail;
  }
  return fd;

bind_fail:
  g_printerr ("mcp-recv: cannot bind to %s port %d: %s\n", opt_group,
      opt_port, g_strerror (errno));
fail:
  close (fd);
  return -1;
}

static gint
cmsg_ttl (struct msghdr *msg)
{
  struct cmsghdr *c;

  for (c = CMSG_FIRSTHDR (msg); c; c = CMSG_NXTHDR (msg, c)) {
    gint v;

    if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
        || (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
      memcpy (&v, CMSG_DATA (c), sizeof (v));
      return v;
    }
  }
  return -1;
}

/* Whether the sender from has source's address. */
static gboolean
from_source (const struct sockaddr_storage *from, GInetAddress * source)
{
  gsize len = g_inet_address_get_native_size (source);
  const guint8 *addr;
  guint16 port;
  guint8 family;

  return mcp_sockaddr_ip (from, &family, &addr, &port)
      && len == (family == 6 ? 16 : 4)
      && memcmp (addr, g_inet_address_to_bytes (source), len) == 0;
}

/* Reads every datagram waiting; FALSE on a socket error. */
static gboolean
drain_udp (Receiver * r, gint fd, guint8 * buf, gsize buf_size,
    GInetAddress * source)
{
  while (!r->done) {
    struct sockaddr_storage from;
    union
    {
      struct cmsghdr align;
      guint8 space[CMSG_SPACE (sizeof (gint)) * 4];
    }
    control;
    struct iovec iov;
    struct msghdr msg;
    ssize_t n;

    iov.iov_base = buf;
    iov.iov_len = buf_size;
    memset (&msg, 0, sizeof (msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = &control;
    msg.msg_controllen = sizeof (control);
    msg.msg_name = &from;
    msg.msg_namelen = sizeof (from);
    n = recvmsg (fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return TRUE;
      g_printerr ("mcp-recv: recvmsg failed: %s\n", g_strerror (errno));
      return FALSE;
    }
    if (msg.msg_flags & MSG_TRUNC) {
      r->last_activity = mcps_mono_ns ();
      report_corrupt (r, "datagram larger than 65536 bytes (truncated)");
      continue;
    }
    if (source && !from_source (&from, source)) {
      GSocketAddress *sa = g_socket_address_new_from_native (&from,
          msg.msg_namelen);
      gchar *text = sa ? mcp_socket_address_to_string (sa) : g_strdup ("?");
      gchar *why = g_strdup_printf ("from %s, not from --source %s", text,
          opt_source);

      r->last_activity = mcps_mono_ns ();
      report_corrupt (r, why);
      g_free (why);
      g_free (text);
      g_clear_object (&sa);
      continue;
    }
    handle_datagram (r, buf, (gsize) n, cmsg_ttl (&msg));
  }
  return TRUE;
}

static gint
run_multicast (Receiver * r)
{
  GInetAddress *group = g_inet_address_new_from_string (opt_group);
  GInetAddress *source = NULL;
  guint ifindex = 0;
  guint8 *buf;
  gint fd;
  gint status = EXIT_OK;

  if (!group || !g_inet_address_get_is_multicast (group)) {
    g_printerr ("mcp-recv: '%s' is not an IPv4 or IPv6 multicast group\n",
        opt_group);
    g_clear_object (&group);
    return EXIT_USAGE;
  }
  if (opt_iface && (ifindex = if_nametoindex (opt_iface)) == 0) {
    g_printerr ("mcp-recv: no network interface named '%s'\n", opt_iface);
    g_object_unref (group);
    return EXIT_USAGE;
  }
  if (opt_source && (!(source = g_inet_address_new_from_string (opt_source))
          || g_inet_address_get_family (source) !=
          g_inet_address_get_family (group))) {
    g_printerr ("mcp-recv: --source '%s' is not an address of the group's "
        "family\n", opt_source);
    g_clear_object (&source);
    g_object_unref (group);
    return EXIT_USAGE;
  }
  fd = open_multicast (group, ifindex, source);
  g_object_unref (group);
  if (fd < 0) {
    g_clear_object (&source);
    return EXIT_USAGE;
  }
  if (!opt_quiet)
    g_printerr ("mcp-recv: joined %s port %d on %s\n", opt_group, opt_port,
        opt_iface ? opt_iface : "the default interface");

  buf = g_malloc (65536);
  while (!r->done && !mcps_stop_requested) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    gint ms = remaining_ms (r);
    gint n;

    if (ms == 0)
      break;
    n = poll (&pfd, 1, ms);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      g_printerr ("mcp-recv: poll failed: %s\n", g_strerror (errno));
      status = EXIT_USAGE;
      break;
    }
    if (n > 0 && !drain_udp (r, fd, buf, 65536, source)) {
      status = EXIT_USAGE;
      break;
    }
  }
  g_free (buf);
  close (fd);
  g_clear_object (&source);
  return status;
}

/* ---- TCP mode ---------------------------------------------------------- */

/* Connects to opt_tcp, retrying refused connections until the timeout;
 * the socket, or -1. */
static gint
connect_tcp (Receiver * r)
{
  struct addrinfo *res, *ai;
  gchar *host, *port;
  gint fd = -1, last_errno = 0;

  res = mcps_resolve_tcp (opt_tcp, &host, &port);
  if (!res) {
    g_free (host);
    g_free (port);
    return -1;
  }

  while (fd < 0 && !mcps_stop_requested) {
    for (ai = res; ai; ai = ai->ai_next) {
      fd = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
          ai->ai_protocol);
      if (fd < 0) {
        last_errno = errno;
        continue;
      }
      if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0)
        break;
      last_errno = errno;
      close (fd);
      fd = -1;
    }
    if (fd >= 0 || remaining_ms (r) == 0)
      break;
    {
      struct timespec ts = { 0, (long) CONNECT_RETRY_NS };

      nanosleep (&ts, NULL);
    }
  }
  freeaddrinfo (res);
  if (fd < 0)
    g_printerr ("mcp-recv: cannot connect to %s port %s: %s\n", host, port,
        g_strerror (last_errno ? last_errno : EINTR));
  else if (!opt_quiet)
    g_printerr ("mcp-recv: connected to %s port %s\n", host, port);
  g_free (host);
  g_free (port);
  return fd;
}

/* ---- TCP mode, the mpx handshake --------------------------------------- */

#define KEEPALIVE_INTERVAL_US (1 * G_USEC_PER_SEC)

/* Sends all of @bytes on the blocking socket; FALSE (errno set) on error. */
static gboolean
send_all (gint fd, GBytes * bytes)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (bytes, &len);

  while (len > 0) {
    ssize_t n = send (fd, p, len, MSG_NOSIGNAL);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    p += n;
    len -= (gsize) n;
  }
  return TRUE;
}

/* The caller speaks first (docs/protocol.md, Handshake): mcp-recv's HELLO
 * as a receiver. */
static void
send_hello (Receiver * r, gint fd)
{
  guint64 peer_id;
  GBytes *hello;

  do
    peer_id = ((guint64) g_random_int () << 32) | g_random_int ();
  while (peer_id == 0);
  hello = mcp_mpx_build_hello (MCP_ROLE_RECEIVER, peer_id, NULL, "mcp-recv");
  if (!send_all (fd, hello)) {
    g_printerr ("mcp-recv: cannot send the mpx HELLO: %s\n",
        g_strerror (errno));
    r->failed = TRUE;
  }
  g_bytes_unref (hello);
}

/* The server's HELLO: the counterpart of a receiver is a source. */
static gboolean
check_hello (Receiver * r, const McpHello * hello)
{
  if (hello->role != MCP_ROLE_SOURCE) {
    g_printerr ("mcp-recv: mpx: peer announced itself as a %s, but this end "
        "is a receiver and needs a source\n", mcp_role_to_string (hello->role));
    r->failed = TRUE;
    return FALSE;
  }
  if (!opt_quiet) {
    GString *line = g_string_new (NULL);

    g_string_append_printf (line, "mcp-recv: mpx %u.%u source, peer id %016"
        G_GINT64_MODIFIER "x", hello->version_major, hello->version_minor,
        hello->peer_id);
    if (hello->name)
      g_string_append_printf (line, ", name '%s'", hello->name);
    if (hello->caps)
      g_string_append_printf (line, ", caps '%s'", hello->caps);
    g_printerr ("%s\n", line->str);
    g_string_free (line, TRUE);
  }
  return TRUE;
}

/* An mpx message other than DATA, CAPS and KEEPALIVE; FALSE after an
 * error. */
static gboolean
handle_control (Receiver * r, const McpsItem * item, gboolean * got_hello)
{
  switch (item->control) {
    case MCP_DECODE_HELLO:
      if (!check_hello (r, &item->msg.hello))
        return FALSE;
      *got_hello = TRUE;
      return TRUE;
    case MCP_DECODE_PEER_ERROR:
      g_printerr ("mcp-recv: the server refused: %s\n", item->msg.reason);
      break;
    default:
      /* mcp-recv never offers authentication */
      g_printerr ("mcp-recv: unexpected AUTH from the server\n");
      break;
  }
  r->failed = TRUE;
  return FALSE;
}

/* ---- TCP mode, all framings -------------------------------------------- */

/* Handles what the cutter has, until it needs more, the run is complete or
 * the connection broke the protocol. */
static void
cut_stream (Receiver * r, McpsCutter * cut, gboolean * got_hello)
{
  McpsItem item;

  while (!r->done && !r->failed) {
    switch (mcps_cutter_next (cut, &item)) {
      case MCPS_CUT_NEED_MORE:
        return;
      case MCPS_CUT_DATAGRAM:
        handle_datagram (r, item.data, item.len, -1);
        break;
      case MCPS_CUT_CORRUPT:
        r->last_activity = mcps_mono_ns ();
        report_corrupt (r, item.reason);
        break;
      case MCPS_CUT_CONTROL:
        handle_control (r, &item, got_hello);
        break;
      case MCPS_CUT_ERROR:
        g_printerr ("mcp-recv: %s\n", item.reason);
        r->failed = TRUE;
        break;
    }
  }
}

/* Reads the stream until the run is complete, times out or the connection
 * ends. With mpx, mcp-recv is a receiver: it sends its HELLO first, and a
 * keepalive every second once the server's HELLO came; a protocol error
 * sets r->failed. */
static gint
run_tcp (Receiver * r)
{
  McpsFraming framing = MCPS_FRAMING_RFC4571;
  McpsCutter cut;
  gboolean mpx, got_hello = FALSE, eof = FALSE;
  gint64 next_keepalive = 0;
  gchar reason[160];
  guint8 *rbuf;
  gint fd;

  if (opt_framing && !mcps_framing_parse (opt_framing, &framing)) {
    g_printerr ("mcp-recv: --framing must be raw, rfc4571 or mpx\n");
    return EXIT_USAGE;
  }
  mpx = framing == MCPS_FRAMING_MPX;
  fd = connect_tcp (r);
  if (fd < 0)
    return EXIT_USAGE;
  mcps_cutter_init (&cut, framing, &r->sizes, FALSE);
  if (mpx)
    send_hello (r, fd);

  rbuf = g_malloc (mcps_cutter_headroom (&cut) + READ_SIZE);
  while (!r->failed && !r->done && !mcps_stop_requested) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    gint ms = remaining_ms (r);
    gint n;
    ssize_t got;

    if (ms == 0)
      break;
    /* a receiver never sends data: keepalives tell the server it lives */
    if (got_hello && g_get_monotonic_time () >= next_keepalive) {
      GBytes *ka = mcp_mpx_build_keepalive ();

      send_all (fd, ka);
      g_bytes_unref (ka);
      next_keepalive = g_get_monotonic_time () + KEEPALIVE_INTERVAL_US;
    }
    n = poll (&pfd, 1, mpx ? MIN (ms, KEEPALIVE_INTERVAL_US / 1000) : ms);
    if (n < 0 && errno != EINTR) {
      g_printerr ("mcp-recv: poll failed: %s\n", g_strerror (errno));
      break;
    }
    if (n <= 0)
      continue;
    got = recv (fd, mcps_cutter_load (&cut, rbuf), READ_SIZE, MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        continue;
      g_printerr ("mcp-recv: connection lost: %s\n", g_strerror (errno));
      break;
    }
    if (got == 0) {
      eof = TRUE;
      if (!mcps_cutter_finish (&cut, reason, sizeof (reason))) {
        g_printerr ("mcp-recv: %s\n", reason);
        r->failed = TRUE;
      } else if (!opt_quiet) {
        g_printerr ("mcp-recv: connection closed by the peer\n");
      }
      break;
    }
    mcps_cutter_feed (&cut, rbuf, (gsize) got);
    cut_stream (r, &cut, &got_hello);
  }

  if (mpx && !r->failed && !got_hello && !eof) {
    if (mcps_stop_requested)
      g_printerr ("mcp-recv: mpx: interrupted before the server's HELLO\n");
    else
      g_printerr ("mcp-recv: mpx: no HELLO from the server within %g s\n",
          opt_timeout);
    r->failed = TRUE;
  } else if (!r->failed && !r->done && !(mpx && eof)
      && mcps_cutter_pending (&cut, reason, sizeof (reason)) > 0) {
    /* (at the end of an mpx stream the decoder has said it) */
    report_corrupt (r, reason);
  }
  mcps_cutter_clear (&cut);
  g_free (rbuf);
  close (fd);
  return EXIT_OK;
}

/* ---- summary ----------------------------------------------------------- */

static gint
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted latencies, in microseconds. */
static gint64
percentile_us (GArray * sorted, guint pct)
{
  if (sorted->len == 0)
    return -1;
  return g_array_index (sorted, gint64, mcps_rank (sorted->len, pct) - 1)
      / 1000;
}

/* The per-stream lines (with more than one stream) and the summary line
 * (totals over all streams). */
static void
print_summary (Receiver * r)
{
  McpsSeq total;
  guint64 n_gaps = 0;
  guint i;

  memset (&total, 0, sizeof (total));
  total.first_seq = -1;
  total.last_seq = -1;
  for (i = 0; opt_allow_gaps >= 0 && i < r->n_streams; i++) {
    Stream *s = &r->streams[i];
    guint j;

    for (j = 0; j < s->gaps->len; j++) {
      Gap *g = &g_array_index (s->gaps, Gap, j);

      printf ("mcp-recv: gap stream=%u seqs=%" G_GUINT64_FORMAT "-%"
          G_GUINT64_FORMAT " count=%" G_GUINT64_FORMAT " before_sent_ns=%"
          G_GINT64_FORMAT " after_sent_ns=%" G_GINT64_FORMAT "\n", s->id,
          g->first, g->last, g->last - g->first + 1, g->before_sent,
          g->after_sent);
    }
    if (s->n_gaps > s->gaps->len)
      printf ("mcp-recv: gap stream=%u: %" G_GUINT64_FORMAT " more gaps not "
          "shown\n", s->id, s->n_gaps - s->gaps->len);
    n_gaps += s->n_gaps;
  }
  for (i = 0; i < r->n_streams; i++) {
    McpsSeq *s = &r->streams[i].seq;

    if (r->n_streams > 1)
      printf ("mcp-recv: stream=%u received=%" G_GUINT64_FORMAT " lost=%"
          G_GUINT64_FORMAT " duplicates=%" G_GUINT64_FORMAT " reordered=%"
          G_GUINT64_FORMAT " first_seq=%" G_GINT64_FORMAT " last_seq=%"
          G_GINT64_FORMAT "\n", r->streams[i].id, s->received, s->lost,
          s->duplicates, s->reordered, s->first_seq, s->last_seq);
    total.received += s->received;
    total.lost += s->lost;
    total.duplicates += s->duplicates;
    total.reordered += s->reordered;
    if (s->first_seq >= 0 && (total.first_seq < 0
            || s->first_seq < total.first_seq))
      total.first_seq = s->first_seq;
    total.last_seq = MAX (total.last_seq, s->last_seq);
  }

  g_array_sort (r->latencies, cmp_i64);
  printf ("mcp-recv: received=%" G_GUINT64_FORMAT " lost=%" G_GUINT64_FORMAT
      " duplicates=%" G_GUINT64_FORMAT " reordered=%" G_GUINT64_FORMAT
      " corrupt=%" G_GUINT64_FORMAT " bad_ttl=%" G_GUINT64_FORMAT
      " warmup=%" G_GUINT64_FORMAT " first_seq=%" G_GINT64_FORMAT
      " last_seq=%" G_GINT64_FORMAT " p50_us=%" G_GINT64_FORMAT
      " p99_us=%" G_GINT64_FORMAT " max_us=%" G_GINT64_FORMAT
      " foreign=%" G_GUINT64_FORMAT, total.received, total.lost,
      total.duplicates, total.reordered, r->corrupt, r->bad_ttl, r->warmup,
      total.first_seq, total.last_seq, percentile_us (r->latencies, 50),
      percentile_us (r->latencies, 99), percentile_us (r->latencies, 100),
      r->foreign);
  if (opt_expect_absent)
    printf (" absent_violations=%" G_GUINT64_FORMAT, r->absent_violations);
  if (opt_allow_gaps >= 0)
    printf (" gaps=%" G_GUINT64_FORMAT, n_gaps);
  printf ("\n");
  fflush (stdout);
}

/* Parses a comma-separated list of stream ids, each read as mcp-send reads
 * its --stream-id; NULL (with a message) when it is not one. */
static GArray *
parse_id_list (const gchar * option, const gchar * list)
{
  gchar **parts = g_strsplit (list, ",", -1);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint i;

  for (i = 0; parts[i]; i++) {
    const gchar *p = parts[i];
    gchar *end = NULL;
    gint64 v;
    guint32 id;

    errno = 0;
    v = g_ascii_strtoll (p, &end, 0);
    if (*p == '\0' || *end != '\0' || errno == ERANGE || v < 0
        || v > G_MAXUINT32) {
      g_printerr ("mcp-recv: %s '%s': '%s' is not a stream id "
          "(0..4294967295)\n", option, list, p);
      g_array_unref (ids);
      ids = NULL;
      break;
    }
    id = (guint32) v;
    g_array_append_val (ids, id);
  }
  if (ids && ids->len == 0) {
    g_printerr ("mcp-recv: %s needs at least one stream id\n", option);
    g_array_unref (ids);
    ids = NULL;
  }
  g_strfreev (parts);
  return ids;
}

/* Sets up the streams and the absent set; FALSE (with a message) on a bad
 * or repeated id. */
static gboolean
setup_streams (Receiver * r)
{
  GArray *ids, *absent = NULL;
  gboolean ok = TRUE;
  guint i;

  ids = parse_id_list ("--stream-id", opt_stream_ids ? opt_stream_ids : "1");
  if (!ids)
    return FALSE;
  if (opt_expect_absent
      && !(absent = parse_id_list ("--expect-absent", opt_expect_absent))) {
    g_array_unref (ids);
    return FALSE;
  }

  r->by_id = g_hash_table_new (g_direct_hash, g_direct_equal);
  r->absent = g_hash_table_new (g_direct_hash, g_direct_equal);
  r->n_streams = ids->len;
  r->unfinished = ids->len;
  r->streams = g_new0 (Stream, ids->len);
  for (i = 0; i < ids->len; i++) {
    Stream *s = &r->streams[i];

    s->id = g_array_index (ids, guint32, i);
    mcps_seq_init (&s->seq, r->count, 0, FALSE);
    s->last_sent = -1;
    s->gaps = g_array_new (FALSE, FALSE, sizeof (Gap));
    if (!g_hash_table_insert (r->by_id, GUINT_TO_POINTER (s->id), s)) {
      g_printerr ("mcp-recv: --stream-id lists %u twice\n", s->id);
      ok = FALSE;
    }
  }
  for (i = 0; absent && i < absent->len; i++) {
    guint32 id = g_array_index (absent, guint32, i);

    if (g_hash_table_contains (r->by_id, GUINT_TO_POINTER (id))) {
      g_printerr ("mcp-recv: stream %u cannot be both expected "
          "(--stream-id) and absent (--expect-absent)\n", id);
      ok = FALSE;
    }
    g_hash_table_add (r->absent, GUINT_TO_POINTER (id));
  }
  g_array_unref (ids);
  if (absent)
    g_array_unref (absent);
  return ok;
}

static void
clear_receiver (Receiver * r)
{
  guint i;

  for (i = 0; i < r->n_streams; i++) {
    mcps_seq_clear (&r->streams[i].seq);
    if (r->streams[i].gaps)
      g_array_unref (r->streams[i].gaps);
  }
  g_free (r->streams);
  g_clear_pointer (&r->by_id, g_hash_table_unref);
  g_clear_pointer (&r->absent, g_hash_table_unref);
  g_clear_pointer (&r->latencies, g_array_unref);
  mcps_checker_clear (&r->checker);
  mcpt_sizes_clear (&r->sizes);
}

/* --help, after the options */
static const gchar description[] =
    "Multicast mode: --group ADDR --port N; TCP mode: --tcp HOST:PORT "
    "[--framing raw|rfc4571|mpx]. With mpx, mcp-recv sends an mpx HELLO "
    "as a receiver, expects a source's HELLO and checks each DATA "
    "payload as a datagram; a protocol error fails the run.\n"
    "Several streams: --stream-id 1,2,3 (--count is per stream); a stream "
    "datagram of another id is foreign, or an absent violation when its "
    "id is in --expect-absent.\n"
    "With several streams, prints one line per stream: 'mcp-recv: "
    "stream=S received=N lost=L duplicates=D reordered=R first_seq=F "
    "last_seq=X'.\n"
    "Prints 'mcp-recv: received=N lost=L duplicates=D reordered=R "
    "corrupt=C bad_ttl=T warmup=W first_seq=F last_seq=X p50_us=A "
    "p99_us=B max_us=M foreign=F [absent_violations=V] [gaps=G]' at the "
    "end (totals over all streams).\n"
    "With --allow-gaps N, up to N runs of missing datagrams per stream "
    "pass; before the summary each is printed as 'mcp-recv: gap stream=S "
    "seqs=A-B count=N before_sent_ns=T1 after_sent_ns=T2' (send times of "
    "the datagrams received around it, -1 at either end).\n"
    "Exit status: 0 all datagrams of every stream arrived intact, once, "
    "in order, nothing foreign or absent arrived, and (mpx) the "
    "connection had no protocol error; 1 otherwise; "
    "2 usage or socket error.\n";

int
main (int argc, char **argv)
{
  GError *err = NULL;
  Receiver r;
  gint status;
  guint i;

  if (!mcps_parse_args ("mcp-recv", "- receive and check the test stream "
          "of mcp-send", entries, description, &argc, &argv))
    return EXIT_USAGE;
  if ((opt_group != NULL) == (opt_tcp != NULL)) {
    g_printerr ("mcp-recv: give either --group ADDR --port N or "
        "--tcp HOST:PORT\n");
    return EXIT_USAGE;
  }
  if (opt_group && (opt_port < 1 || opt_port > 65535)) {
    g_printerr ("mcp-recv: --group needs --port N (1..65535)\n");
    return EXIT_USAGE;
  }
  if (opt_tcp && opt_expect_ttl >= 0) {
    g_printerr ("mcp-recv: --expect-ttl only works in multicast mode\n");
    return EXIT_USAGE;
  }
  if (opt_count < 1 || opt_timeout < 0 || !isfinite (opt_timeout)
      || opt_expect_ttl > 255) {
    g_printerr ("mcp-recv: --count must be at least 1, --stream-id "
        "0..4294967295, --timeout not negative, --expect-ttl 0..255\n");
    return EXIT_USAGE;
  }

  memset (&r, 0, sizeof (r));
  if (!mcpt_sizes_parse (opt_sizes, &r.sizes, &err)) {
    g_printerr ("mcp-recv: %s\n", err->message);
    return EXIT_USAGE;
  }
  r.count = (guint64) opt_count;
  mcps_checker_init (&r.checker, &r.sizes);
  if (!setup_streams (&r)) {
    clear_receiver (&r);
    return EXIT_USAGE;
  }
  r.latencies = g_array_sized_new (FALSE, FALSE, sizeof (gint64),
      (guint) MIN (r.count * r.n_streams, 1 << 20));
  r.last_activity = mcps_mono_ns ();

  /* Interrupted, still report what arrived. */
  mcps_catch_stop_signals (NULL);

  status = opt_group ? run_multicast (&r) : run_tcp (&r);

  if (status == EXIT_OK) {
    for (i = 0; i < r.n_streams; i++) {
      Stream *s = &r.streams[i];

      /* whatever never came after the last one is lost too */
      if (s->seq.expected < r.count)
        add_gap (s, s->seq.expected, r.count - 1, s->last_sent, -1);
      mcps_seq_finish (&s->seq);
      if (opt_allow_gaps >= 0) {
        /* in order and once: then the gaps are exactly what is missing */
        if (s->seq.duplicates || s->seq.reordered || s->seq.received == 0
            || s->n_gaps > (guint64) opt_allow_gaps)
          status = EXIT_FAILED;
      } else if (s->seq.received != r.count || s->seq.lost
          || s->seq.duplicates || s->seq.reordered) {
        status = EXIT_FAILED;
      }
    }
    print_summary (&r);
    if (r.corrupt || r.bad_ttl || r.foreign || r.absent_violations || r.failed)
      status = EXIT_FAILED;
  }
  clear_receiver (&r);
  return status;
}
