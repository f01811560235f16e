/* mcp-send — sends a numbered, verifiable test stream to an IP multicast
 * group (see mcp-testpattern.h for the datagram format), or to one TCP
 * client, framed.
 *
 *   mcp-send --group 239.1.2.3 --port 5004 [--count 1000] [--rate 1000]
 *            [--sizes 1316] [--stream-id 1] [--ttl 1] [--iface NAME]
 *            [--bind ADDR] [--no-loop] [--warmup-until FILE]
 *            [--warmup-timeout 30] [--quiet]
 *   mcp-send --tcp-listen ADDR:PORT [--port-file FILE]
 *            [--framing rfc4571|raw] [--count ...] [--rate ...] [--sizes ...]
 *            [--warmup-until FILE] ...
 *   mcp-send --amt-relay ADDR:PORT --group G --port N [--port-file FILE]
 *            [--bind SRC] [--count ...] [--rate ...] [--sizes ...] ...
 *
 * With --tcp-listen it listens (PORT 0: any; the port bound is written to
 * --port-file), takes the first connection and writes the stream to it,
 * each datagram with a 2-byte length in front (rfc4571) or bare (raw), the
 * datagrams of a batch in one writev: a feeder cheap enough to load a
 * TCP-to-multicast relay at its limit. Warm-up datagrams go the same way.
 *
 * With --amt-relay it is an AMT relay (RFC 7450) of its own stream, for one
 * gateway: it binds a UDP socket there (PORT 0: any; written to
 * --port-file), answers Relay Discovery with its own address and a Request
 * with a general query, and once an Update whose MAC is its own asks for
 * --group, sends the stream to that gateway as Multicast Data: each
 * datagram inside IP and UDP headers from --bind (default: its own
 * address) to --group:--port, a batch per sendmmsg. This is amtsrc's
 * feeder without a relay chain in between, like-for-like with a native
 * multicast receiver. Requests and Updates that come later are answered
 * while it sends.
 *
 * Prints one line to stdout at the end:
 *   mcp-send: sent=N bytes=B seconds=S.sss rate=R
 * Exit status: 0 done, 1 socket error, 2 usage error, 3 the --warmup-until
 * file did not appear in time.
 */
#include <glib.h>
#include <gio/gio.h>

#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "mcp-amt.h"
#include "mcp-igmp.h"
#include "mcp-ippkt.h"
#include "mcp-stream.h"

#define EXIT_SOCKET 1
#define EXIT_USAGE 2
#define EXIT_WARMUP_TIMEOUT 3

/* Datagrams per sendmmsg() when behind schedule or unpaced. */
#define BATCH_MAX 64
#define WARMUP_INTERVAL_NS (50 * G_GUINT64_CONSTANT (1000000))
#define NS_PER_S 1e9
/* AMT: how often pending Requests and Updates are read while sending */
#define AMT_POLL_NS (10 * G_GUINT64_CONSTANT (1000000))
/* AMT: the query interval announced (s), the RFC's default */
#define AMT_QQI 125

static gchar *opt_group = NULL;
static gint opt_port = -1;
static gchar *opt_iface = NULL;
static gint opt_ttl = 1;
static gboolean opt_loop = TRUE;
static gchar *opt_bind = NULL;
static gint64 opt_count = 1000;
static gdouble opt_rate = 1000.0;
static gchar *opt_sizes = NULL;
static gint64 opt_stream_id = 1;
static gchar *opt_warmup_until = NULL;
static gdouble opt_warmup_timeout = 30.0;
static gboolean opt_quiet = FALSE;
static gchar *opt_tcp_listen = NULL;
static gchar *opt_port_file = NULL;
static gchar *opt_framing = NULL;
static gchar *opt_amt_relay = NULL;

static gboolean
set_loop_cb (const gchar * name, const gchar * value, gpointer data,
    GError ** error)
{
  opt_loop = g_str_equal (name, "--loop");
  return TRUE;
}

static GOptionEntry entries[] = {
  {"group", 'g', 0, G_OPTION_ARG_STRING, &opt_group,
      "Multicast group to send to, IPv4 or IPv6 (required)", "ADDR"},
  {"port", 'p', 0, G_OPTION_ARG_INT, &opt_port,
      "UDP destination port (required)", "N"},
  {"iface", 'i', 0, G_OPTION_ARG_STRING, &opt_iface,
      "Send on this interface (default: by route)", "NAME"},
  {"ttl", 't', 0, G_OPTION_ARG_INT, &opt_ttl,
      "Multicast TTL / hop limit (default 1)", "N"},
  {"loop", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, set_loop_cb,
      "Loop datagrams back to this host (the default)", NULL},
  {"no-loop", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, set_loop_cb,
      "Do not loop datagrams back to this host", NULL},
  {"bind", 'b', 0, G_OPTION_ARG_STRING, &opt_bind,
      "Source address to bind to", "ADDR"},
  {"count", 'c', 0, G_OPTION_ARG_INT64, &opt_count,
      "Number of stream datagrams (default 1000)", "N"},
  {"rate", 'r', 0, G_OPTION_ARG_DOUBLE, &opt_rate,
        "Datagrams per second, 0 for as fast as possible (default 1000)",
      "PPS"},
  {"sizes", 's', 0, G_OPTION_ARG_STRING, &opt_sizes,
      "Comma-separated datagram sizes, 24..65507, used in turn "
        "(default 1316)", "LIST"},
  {"stream-id", 'I', 0, G_OPTION_ARG_INT64, &opt_stream_id,
      "Stream id, 0..4294967295 (default 1)", "N"},
  {"warmup-until", 'w', 0, G_OPTION_ARG_FILENAME, &opt_warmup_until,
      "Send a warm-up datagram every 50 ms until FILE exists", "FILE"},
  {"warmup-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &opt_warmup_timeout,
        "Give up (exit 3) when FILE has not appeared after SEC (default 30)",
      "SEC"},
  {"quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
      "No progress messages on stderr", NULL},
  {"tcp-listen", 0, 0, G_OPTION_ARG_STRING, &opt_tcp_listen,
      "Instead of multicast: listen here (PORT 0: any) and send to the "
        "first TCP client", "ADDR:PORT"},
  {"port-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_port_file,
        "With --tcp-listen or --amt-relay: write the port bound to FILE",
      "FILE"},
  {"framing", 0, 0, G_OPTION_ARG_STRING, &opt_framing,
      "With --tcp-listen: rfc4571 (default) or raw", "NAME"},
  {"amt-relay", 0, 0, G_OPTION_ARG_STRING, &opt_amt_relay,
      "Instead of multicast: be an AMT relay here (PORT 0: any) and send "
        "to the first gateway that joins --group", "ADDR:PORT"},
  {NULL}
};

typedef struct
{
  gint fd;
  struct sockaddr_storage dst;
  socklen_t dst_len;
  McptSizes sizes;
  guint32 stream_id;
  guint8 *bufs;                 /* BATCH_MAX buffers of stride bytes */
  gsize stride;
  gsize off;                    /* where the datagram starts in a buffer */
  struct mmsghdr msgs[BATCH_MAX];
  struct iovec iovs[BATCH_MAX];
  gboolean tcp;                 /* fd is a TCP connection */
  gboolean rfc4571;
  guint8 lens[BATCH_MAX][2];
  struct iovec tcp_iovs[2 * BATCH_MAX];
  /* AMT relay mode: the group's family (4 or 6) and address, the inner
   * source; the relay's own address (unknown: 0) and key; the queries */
  gboolean amt;
  gboolean joined;              /* dst is a gateway that joined */
  guint8 family;
  guint8 group[16];
  guint8 src[16];
  gboolean have_src;
  guint16 src_port;
  guint8 relay_family;
  guint8 relay_addr[16];
  gboolean have_relay_addr;
  McpAmtMacKey *key;
  GBytes *query[2];             /* IGMPv3, MLDv2 packets */
  guint64 last_poll;
  guint64 sent;
  guint64 bytes;
} Sender;

static void
sleep_until (guint64 deadline_ns)
{
  struct timespec ts;

  ts.tv_sec = (time_t) (deadline_ns / G_GUINT64_CONSTANT (1000000000));
  ts.tv_nsec = (long) (deadline_ns % G_GUINT64_CONSTANT (1000000000));
  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR);
}

/* Opens the socket and fills in the destination; exit status on failure,
 * 0 on success. */
static gint
open_socket (Sender * s, GInetAddress * group)
{
  gboolean v6 = g_inet_address_get_family (group) == G_SOCKET_FAMILY_IPV6;
  GSocketAddress *sa;
  guint ifindex = 0;
  gint one = opt_loop ? 1 : 0;
  gint ttl = opt_ttl;
  gint sndbuf = 4 * 1024 * 1024;

  if (opt_iface) {
    ifindex = if_nametoindex (opt_iface);
    if (ifindex == 0) {
      g_printerr ("mcp-send: no network interface named '%s'\n", opt_iface);
      return EXIT_USAGE;
    }
  }

  sa = g_inet_socket_address_new (group, (guint16) opt_port);
  memset (&s->dst, 0, sizeof (s->dst));
  g_socket_address_to_native (sa, &s->dst, sizeof (s->dst), NULL);
  s->dst_len = (socklen_t) g_socket_address_get_native_size (sa);
  g_object_unref (sa);
  if (v6 && ifindex)
    ((struct sockaddr_in6 *) &s->dst)->sin6_scope_id = ifindex;

  s->fd = socket (v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s->fd < 0) {
    g_printerr ("mcp-send: cannot create a UDP socket: %s\n",
        g_strerror (errno));
    return EXIT_SOCKET;
  }
  /* Only a larger buffer for bursts; failure to grow it is harmless. */
  setsockopt (s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof (sndbuf));

  if (v6) {
    if (!mcps_set_opt (s->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl,
            sizeof (ttl), "IPV6_MULTICAST_HOPS")
        || !mcps_set_opt (s->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &one,
            sizeof (one), "IPV6_MULTICAST_LOOP"))
      return EXIT_SOCKET;
    if (ifindex) {
      gint idx = (gint) ifindex;

      if (!mcps_set_opt (s->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx,
              sizeof (idx), "IPV6_MULTICAST_IF"))
        return EXIT_SOCKET;
    }
  } else {
    if (!mcps_set_opt (s->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof (ttl),
            "IP_MULTICAST_TTL")
        || !mcps_set_opt (s->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &one,
            sizeof (one), "IP_MULTICAST_LOOP"))
      return EXIT_SOCKET;
    if (ifindex) {
      struct ip_mreqn mreq;

      memset (&mreq, 0, sizeof (mreq));
      mreq.imr_ifindex = (gint) ifindex;
      if (!mcps_set_opt (s->fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq,
              sizeof (mreq), "IP_MULTICAST_IF"))
        return EXIT_SOCKET;
    }
  }

  if (opt_bind) {
    GInetAddress *src = g_inet_address_new_from_string (opt_bind);
    struct sockaddr_storage ss;
    socklen_t ss_len;

    if (!src || g_inet_address_get_family (src) !=
        g_inet_address_get_family (group)) {
      g_printerr ("mcp-send: --bind '%s' is not an %s address\n", opt_bind,
          v6 ? "IPv6" : "IPv4");
      g_clear_object (&src);
      return EXIT_USAGE;
    }
    sa = g_inet_socket_address_new (src, 0);
    memset (&ss, 0, sizeof (ss));
    g_socket_address_to_native (sa, &ss, sizeof (ss), NULL);
    ss_len = (socklen_t) g_socket_address_get_native_size (sa);
    g_object_unref (sa);
    g_object_unref (src);
    if (v6 && ifindex)
      ((struct sockaddr_in6 *) &ss)->sin6_scope_id = ifindex;
    if (bind (s->fd, (struct sockaddr *) &ss, ss_len) < 0) {
      g_printerr ("mcp-send: cannot bind to %s: %s\n", opt_bind,
          g_strerror (errno));
      return EXIT_SOCKET;
    }
  }
  return 0;
}

/* Sends msgs[0..n-1], all of them; FALSE (with a message) on error. */
static gboolean
send_all (Sender * s, guint n)
{
  guint done = 0;

  while (done < n) {
    gint r = sendmmsg (s->fd, s->msgs + done, n - done, 0);

    if (r < 0) {
      if (errno == EINTR)
        continue;
      g_printerr ("mcp-send: sendmmsg to %s port %d failed: %s\n",
          opt_group, opt_port, g_strerror (errno));
      return FALSE;
    }
    done += (guint) r;
  }
  return TRUE;
}

/* TCP: writes the n datagrams in iovs[], framed, all of them. */
static gboolean
write_all (Sender * s, guint n)
{
  struct iovec *v = s->tcp_iovs;
  guint nv = 0, i;

  for (i = 0; i < n; i++) {
    if (s->rfc4571) {
      s->lens[i][0] = (guint8) (s->iovs[i].iov_len >> 8);
      s->lens[i][1] = (guint8) s->iovs[i].iov_len;
      v[nv].iov_base = s->lens[i];
      v[nv++].iov_len = 2;
    }
    v[nv++] = s->iovs[i];
  }
  while (nv > 0) {
    gssize r = writev (s->fd, v, (gint) nv);

    if (r < 0) {
      if (errno == EINTR)
        continue;
      g_printerr ("mcp-send: write to the TCP client failed: %s\n",
          g_strerror (errno));
      return FALSE;
    }
    while (nv > 0 && (gsize) r >= v->iov_len) {
      r -= v->iov_len;
      v++;
      nv--;
    }
    if (nv > 0) {
      v->iov_base = (guint8 *) v->iov_base + r;
      v->iov_len -= r;
    }
  }
  return TRUE;
}

/* The ADDR:PORT of --tcp-listen or --amt-relay (@what) as a socket
 * address; exit status or 0. */
static gint
parse_listen (const gchar * where_s, const gchar * what,
    struct sockaddr_storage *ss, socklen_t * len)
{
  GSocketConnectable *where;
  GSocketAddressEnumerator *en;
  GSocketAddress *sa;
  GError *err = NULL;

  where = g_network_address_parse (where_s, 0, &err);
  if (!where) {
    g_printerr ("mcp-send: %s: %s\n", what, err->message);
    g_error_free (err);
    return EXIT_USAGE;
  }
  en = g_socket_connectable_enumerate (where);
  sa = g_socket_address_enumerator_next (en, NULL, &err);
  g_object_unref (en);
  g_object_unref (where);
  if (!sa) {
    g_printerr ("mcp-send: %s %s: %s\n", what, where_s,
        err ? err->message : "no address");
    g_clear_error (&err);
    return EXIT_USAGE;
  }
  memset (ss, 0, sizeof (*ss));
  g_socket_address_to_native (sa, ss, sizeof (*ss), NULL);
  *len = (socklen_t) g_socket_address_get_native_size (sa);
  g_object_unref (sa);
  return 0;
}

/* The port fd is bound to, written to --port-file if given; 0 (with a
 * message) when it cannot be written. */
static guint
bound_port (gint fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof (ss);
  GError *err = NULL;
  guint port;

  getsockname (fd, (struct sockaddr *) &ss, &len);
  port = g_ntohs (ss.ss_family == AF_INET6 ?
      ((struct sockaddr_in6 *) &ss)->sin6_port :
      ((struct sockaddr_in *) &ss)->sin_port);
  if (opt_port_file) {
    gchar *text = g_strdup_printf ("%u\n", port);
    gchar *tmp = g_strconcat (opt_port_file, ".tmp", NULL);

    /* written whole, then renamed: a reader never sees half of it */
    if (!g_file_set_contents (tmp, text, -1, &err)
        || rename (tmp, opt_port_file) < 0) {
      g_printerr ("mcp-send: cannot write %s: %s\n", opt_port_file,
          err ? err->message : g_strerror (errno));
      g_clear_error (&err);
      port = 0;
    }
    g_free (text);
    g_free (tmp);
  }
  if (port && !opt_quiet)
    g_printerr ("mcp-send: listening on port %u\n", port);
  return port;
}

/* TCP: listens on opt_tcp_listen and waits for the first client; exit
 * status or 0. */
static gint
accept_client (Sender * s)
{
  struct sockaddr_storage ss;
  socklen_t len;
  gint one = 1, lfd, fd, status;

  status = parse_listen (opt_tcp_listen, "--tcp-listen", &ss, &len);
  if (status)
    return status;
  lfd = socket (ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0 || setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one,
          sizeof (one)) < 0 || bind (lfd, (struct sockaddr *) &ss, len) < 0
      || listen (lfd, 1) < 0) {
    g_printerr ("mcp-send: cannot listen on %s: %s\n", opt_tcp_listen,
        g_strerror (errno));
    return EXIT_SOCKET;
  }
  if (bound_port (lfd) == 0) {
    close (lfd);
    return EXIT_SOCKET;
  }
  do
    fd = accept (lfd, NULL, NULL);
  while (fd < 0 && errno == EINTR);
  close (lfd);
  if (fd < 0) {
    g_printerr ("mcp-send: accept failed: %s\n", g_strerror (errno));
    return EXIT_SOCKET;
  }
  /* a client that leaves is a write error, not a signal */
  signal (SIGPIPE, SIG_IGN);
  s->fd = fd;
  s->tcp = TRUE;
  return 0;
}

/* AMT: a socket address's family (4 or 6), address bytes and port. */
static guint8
sockaddr_parts (const struct sockaddr_storage *ss, guint8 * addr,
    guint16 * port)
{
  memset (addr, 0, 16);
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) ss;

    memcpy (addr, &a->sin6_addr, 16);
    *port = g_ntohs (a->sin6_port);
    return 6;
  }
  memcpy (addr, &((const struct sockaddr_in *) ss)->sin_addr, 4);
  *port = g_ntohs (((const struct sockaddr_in *) ss)->sin_port);
  return 4;
}

/* AMT: the relay's own address as seen by the peer at @to: the address
 * bound, or when that is a wildcard, the source the route to @to picks. */
static gboolean
own_address (Sender * s, const struct sockaddr_storage *to, socklen_t to_len)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof (ss);
  guint16 port;
  gint fd;

  if (s->have_relay_addr)
    return TRUE;
  fd = socket (to->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (const struct sockaddr *) to, to_len) < 0
      || getsockname (fd, (struct sockaddr *) &ss, &len) < 0) {
    g_printerr ("mcp-send: no local address towards the gateway: %s\n",
        g_strerror (errno));
    if (fd >= 0)
      close (fd);
    return FALSE;
  }
  close (fd);
  sockaddr_parts (&ss, s->relay_addr, &port);
  return TRUE;
}

/* AMT: the general query a gateway is sent (IGMPv3, or MLDv2 for @mld), as
 * an IP packet from the relay's address as the relay of gstamtrelay.c
 * sends it. */
static GBytes *
query_packet (Sender * s, gboolean mld)
{
  McpIgmpMessage *q;
  guint8 src[16] = { 0 }, dst[16] = { 0 };
  GBytes *query;
  GError *err = NULL;

  if (s->query[mld])
    return s->query[mld];
  q = mcp_igmp_query_new (mld ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4,
      mld ? 2 : 3, NULL);
  q->qqi = AMT_QQI;
  query = mcp_igmp_build_query (q, &err);
  mcp_igmp_message_free (q);
  if (!query) {
    g_printerr ("mcp-send: cannot build a query: %s\n", err->message);
    g_error_free (err);
    return NULL;
  }
  if (mld) {
    if (s->relay_family == 6) {
      memcpy (src, s->relay_addr, 16);
    } else {
      src[10] = src[11] = 0xff;
      memcpy (src + 12, s->relay_addr, 4);
    }
    dst[0] = 0xff;
    dst[1] = 0x02;
    dst[15] = 1;
  } else {
    if (s->relay_family == 4)
      memcpy (src, s->relay_addr, 4);
    dst[0] = 224;
    dst[3] = 1;
  }
  s->query[mld] = mcp_ippkt_wrap_membership (mld ? 6 : 4, src, dst,
      g_bytes_get_data (query, NULL), g_bytes_get_size (query));
  g_bytes_unref (query);
  return s->query[mld];
}

static void
amt_reply (Sender * s, const McpAmtMessage * out,
    const struct sockaddr_storage *to, socklen_t to_len)
{
  GBytes *b = mcp_amt_build (out);
  gsize len;
  const guint8 *data = g_bytes_get_data (b, &len);

  if (sendto (s->fd, data, len, 0, (const struct sockaddr *) to,
          to_len) < 0 && !opt_quiet)
    g_printerr ("mcp-send: cannot answer the gateway: %s\n",
        g_strerror (errno));
  g_bytes_unref (b);
}

/* AMT: whether the report in an Update's IP packet asks for the group
 * (any record for it but an INCLUDE of no source: a leave). */
static gboolean
update_joins (Sender * s, const McpAmtMessage * m)
{
  McpIpPacket ip;
  McpIgmpMessage *report = NULL;
  GError *err = NULL;
  gboolean joins = FALSE;
  guint i;

  if (!mcp_ippkt_parse (m->inner, m->inner_len, &ip, &err))
    goto out;
  if (ip.family == 4 && ip.protocol == MCP_IPPKT_PROTO_IGMP)
    report = mcp_igmp_parse (ip.payload, ip.payload_len, &err);
  else if (ip.family == 6 && ip.protocol == MCP_IPPKT_PROTO_ICMPV6)
    report = mcp_mld_parse (ip.payload, ip.payload_len, &err);
  if (!report || report->kind != MCP_IGMP_REPORT)
    goto out;
  for (i = 0; i < report->records->len; i++) {
    McpIgmpRecord *r = &g_array_index (report->records, McpIgmpRecord, i);
    gsize n = g_inet_address_get_native_size (r->group);

    if (n == (s->family == 4 ? 4 : 16)
        && memcmp (g_inet_address_to_bytes (r->group), s->group, n) == 0
        && !((r->type == MCP_IGMP_MODE_IS_INCLUDE
                || r->type == MCP_IGMP_CHANGE_TO_INCLUDE)
            && r->sources->len == 0))
      joins = TRUE;
  }
out:
  if (err && !opt_quiet)
    g_printerr ("mcp-send: Membership Update ignored: %s\n", err->message);
  g_clear_error (&err);
  if (report)
    mcp_igmp_message_free (report);
  return joins;
}

/* AMT: reads one message (waiting for it unless @dontwait) and answers it;
 * FALSE when there was none (or on a socket error, with a message). */
static gboolean
amt_handle_one (Sender * s, gboolean dontwait)
{
  static guint8 buf[65536];
  struct sockaddr_storage from;
  socklen_t from_len = sizeof (from);
  McpAmtMessage m, out;
  GError *err = NULL;
  guint8 gw[16];
  guint16 gw_port;
  guint8 gw_family;
  gssize n;

  n = recvfrom (s->fd, buf, sizeof (buf), dontwait ? MSG_DONTWAIT : 0,
      (struct sockaddr *) &from, &from_len);
  if (n < 0) {
    if (errno == EINTR)
      return TRUE;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      g_printerr ("mcp-send: AMT receive failed: %s\n", g_strerror (errno));
    return FALSE;
  }
  if (!mcp_amt_parse (buf, (gsize) n, &m, &err)) {
    if (!opt_quiet)
      g_printerr ("mcp-send: not an AMT message: %s\n", err->message);
    g_error_free (err);
    return TRUE;
  }
  gw_family = sockaddr_parts (&from, gw, &gw_port);
  memset (&out, 0, sizeof (out));
  out.nonce = m.nonce;
  switch (m.type) {
    case MCP_AMT_RELAY_DISCOVERY:
      if (!own_address (s, &from, from_len))
        return TRUE;
      out.type = MCP_AMT_RELAY_ADVERTISEMENT;
      out.family = s->relay_family;
      memcpy (out.address, s->relay_addr, 16);
      amt_reply (s, &out, &from, from_len);
      break;
    case MCP_AMT_REQUEST:
      if (!own_address (s, &from, from_len))
        return TRUE;
      out.type = MCP_AMT_MEMBERSHIP_QUERY;
      out.mac = mcp_amt_mac (s->key, gw_family, gw, gw_port, m.nonce);
      out.g_flag = TRUE;
      out.family = gw_family;
      memcpy (out.address, gw, 16);
      out.port = gw_port;
      if (!query_packet (s, m.p_flag))
        return TRUE;
      out.inner = g_bytes_get_data (s->query[m.p_flag], &out.inner_len);
      amt_reply (s, &out, &from, from_len);
      break;
    case MCP_AMT_MEMBERSHIP_UPDATE:
      if (!mcp_amt_mac_check (s->key, gw_family, gw, gw_port, m.nonce, m.mac)) {
        if (!opt_quiet)
          g_printerr ("mcp-send: Membership Update with a MAC not ours\n");
        break;
      }
      if (!update_joins (s, &m))
        break;
      if (!s->have_src) {
        if (!own_address (s, &from, from_len))
          return TRUE;
        memcpy (s->src, s->relay_addr, 16);
        s->have_src = TRUE;
      }
      if (!s->joined && !opt_quiet)
        g_printerr ("mcp-send: a gateway joined from port %u\n", gw_port);
      s->dst = from;
      s->dst_len = from_len;
      s->joined = TRUE;
      break;
    default:
      break;
  }
  return TRUE;
}

/* AMT: answers what the gateway sent since the last look, at most every
 * AMT_POLL_NS. */
static void
amt_poll (Sender * s)
{
  guint64 now = mcps_mono_ns ();

  if (now - s->last_poll < AMT_POLL_NS)
    return;
  s->last_poll = now;
  while (amt_handle_one (s, TRUE));
}

/* AMT: binds opt_amt_relay and answers gateways until one joins the group;
 * exit status or 0. */
static gint
amt_listen (Sender * s, GInetAddress * group)
{
  struct sockaddr_storage ss;
  socklen_t len;
  gint sndbuf = 4 * 1024 * 1024, status;
  guint16 port;

  status = parse_listen (opt_amt_relay, "--amt-relay", &ss, &len);
  if (status)
    return status;
  s->amt = TRUE;
  s->family = g_inet_address_get_family (group) == G_SOCKET_FAMILY_IPV6 ? 6 : 4;
  memcpy (s->group, g_inet_address_to_bytes (group),
      g_inet_address_get_native_size (group));
  s->relay_family = sockaddr_parts (&ss, s->relay_addr, &port);
  {
    static const guint8 any[16] = { 0 };

    /* a wildcard: the address is the route's, found per gateway */
    s->have_relay_addr = memcmp (s->relay_addr, any, 16) != 0;
  }
  if (opt_bind) {
    GInetAddress *src = g_inet_address_new_from_string (opt_bind);

    if (!src || g_inet_address_get_family (src) !=
        g_inet_address_get_family (group)) {
      g_printerr ("mcp-send: --bind '%s' is not an address of the group's "
          "family\n", opt_bind);
      g_clear_object (&src);
      return EXIT_USAGE;
    }
    memcpy (s->src, g_inet_address_to_bytes (src),
        g_inet_address_get_native_size (src));
    s->have_src = TRUE;
    g_object_unref (src);
  } else if (s->family != s->relay_family) {
    g_printerr ("mcp-send: --amt-relay %s and --group %s are of different "
        "families: give the datagrams' source with --bind\n", opt_amt_relay,
        opt_group);
    return EXIT_USAGE;
  }
  s->fd = socket (ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s->fd < 0 || bind (s->fd, (struct sockaddr *) &ss, len) < 0) {
    g_printerr ("mcp-send: cannot bind to %s: %s\n", opt_amt_relay,
        g_strerror (errno));
    return EXIT_SOCKET;
  }
  setsockopt (s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof (sndbuf));
  s->src_port = bound_port (s->fd);
  if (s->src_port == 0)
    return EXIT_SOCKET;
  s->key = mcp_amt_mac_key_new ();
  while (!s->joined)
    if (!amt_handle_one (s, FALSE))
      return EXIT_SOCKET;
  return 0;
}

/* Builds and sends @n datagrams of @kind starting at @seq. */
static gboolean
send_batch (Sender * s, McptKind kind, guint64 seq, guint n)
{
  guint64 now = mcpt_now_ns (CLOCK_REALTIME);
  guint64 bytes = 0;
  guint i;

  if (s->amt)
    amt_poll (s);
  for (i = 0; i < n; i++) {
    guint8 *buf = s->bufs + (gsize) i * s->stride;
    guint len = mcpt_size_for_seq (&s->sizes, seq + i);

    mcpt_fill (buf + s->off, len, kind, s->stream_id, seq + i, now);
    if (s->amt) {
      /* the headers end where the datagram starts */
      mcp_amt_write_data_header (buf);
      mcp_ippkt_write_udp (buf + MCP_AMT_DATA_HEADER_LEN, s->family, s->src,
          s->src_port, s->group, (guint16) opt_port, (guint8) opt_ttl,
          (guint16) (seq + i), len, mcp_ippkt_sum (buf + s->off, len, 0));
    }
    s->iovs[i].iov_base = buf;
    s->iovs[i].iov_len = s->off + len;
    bytes += len;
    memset (&s->msgs[i], 0, sizeof (s->msgs[i]));
    s->msgs[i].msg_hdr.msg_name = &s->dst;
    s->msgs[i].msg_hdr.msg_namelen = s->dst_len;
    s->msgs[i].msg_hdr.msg_iov = &s->iovs[i];
    s->msgs[i].msg_hdr.msg_iovlen = 1;
  }
  if (!(s->tcp ? write_all (s, n) : send_all (s, n)))
    return FALSE;
  if (kind == MCPT_KIND_STREAM) {
    s->sent += n;
    s->bytes += bytes;
  }
  return TRUE;
}

/* Warm-up datagrams every 50 ms until @file exists; exit status or 0. */
static gint
warm_up (Sender * s, const gchar * file)
{
  guint64 start = mcps_mono_ns ();
  guint64 limit = (guint64) (opt_warmup_timeout * NS_PER_S);
  guint64 wseq = 0;

  while (access (file, F_OK) != 0) {
    if (mcps_mono_ns () - start >= limit) {
      g_printerr ("mcp-send: %s did not appear within %.1f s (sent %"
          G_GUINT64_FORMAT " warm-up datagrams)\n", file, opt_warmup_timeout,
          wseq);
      return EXIT_WARMUP_TIMEOUT;
    }
    if (!send_batch (s, MCPT_KIND_WARMUP, wseq, 1))
      return EXIT_SOCKET;
    wseq++;
    sleep_until (start + wseq * WARMUP_INTERVAL_NS);
  }
  if (!opt_quiet)
    g_printerr ("mcp-send: %s appeared after %" G_GUINT64_FORMAT
        " warm-up datagrams\n", file, wseq);
  return 0;
}

/* The real stream, paced by absolute deadlines; exit status or 0. */
static gint
send_stream (Sender * s, guint64 count, guint64 * elapsed_ns)
{
  guint64 start = mcps_mono_ns ();
  guint64 next = 0;

  while (next < count) {
    guint64 due = count;
    guint64 n;

    if (opt_rate > 0) {
      guint64 deadline = start + (guint64) (next * NS_PER_S / opt_rate);
      guint64 now = mcps_mono_ns ();

      if (now < deadline) {
        sleep_until (deadline);
        now = mcps_mono_ns ();
      }
      /* Every datagram whose deadline has passed goes out now. */
      due = (guint64) floor ((gdouble) (now - start) * opt_rate / NS_PER_S)
          + 1;
      if (due <= next)
        due = next + 1;
    }
    n = MIN (MIN (due, count) - next, BATCH_MAX);
    if (!send_batch (s, MCPT_KIND_STREAM, next, (guint) n))
      return EXIT_SOCKET;
    next += n;
  }
  *elapsed_ns = mcps_mono_ns () - start;
  return 0;
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  GInetAddress *group;
  Sender s;
  guint64 elapsed = 0;
  gdouble seconds;
  gint status;

  memset (&s, 0, sizeof (s));
  s.fd = -1;

  if (!mcps_parse_args ("mcp-send", "- send a numbered test stream to a "
          "multicast group", entries,
          "Prints 'mcp-send: sent=N bytes=B seconds=S.sss rate=R' at the "
          "end.\nExit status: 0 done, 1 socket error, 2 usage error, 3 "
          "warm-up timeout.\n", &argc, &argv))
    return EXIT_USAGE;
  if (opt_tcp_listen && opt_amt_relay) {
    g_printerr ("mcp-send: --tcp-listen or --amt-relay, not both\n");
    return EXIT_USAGE;
  }
  if (opt_tcp_listen) {
    if (opt_group || (opt_framing && !g_str_equal (opt_framing, "rfc4571")
            && !g_str_equal (opt_framing, "raw"))) {
      g_printerr ("mcp-send: --tcp-listen takes --framing rfc4571|raw, "
          "not --group\n");
      return EXIT_USAGE;
    }
    s.rfc4571 = !opt_framing || g_str_equal (opt_framing, "rfc4571");
    group = NULL;
  } else if (!opt_group || opt_port < 1 || opt_port > 65535) {
    g_printerr ("mcp-send: --group ADDR and --port N (1..65535) are "
        "required\n");
    return EXIT_USAGE;
  } else {
    group = g_inet_address_new_from_string (opt_group);
    if (!group || !g_inet_address_get_is_multicast (group)) {
      g_printerr ("mcp-send: '%s' is not an IPv4 or IPv6 multicast "
          "group\n", opt_group);
      g_clear_object (&group);
      return EXIT_USAGE;
    }
  }
  if (opt_ttl < 0 || opt_ttl > 255 || opt_count < 0 || opt_rate < 0
      || !isfinite (opt_rate) || opt_stream_id < 0
      || opt_stream_id > G_MAXUINT32 || opt_warmup_timeout < 0) {
    g_printerr ("mcp-send: --ttl must be 0..255, --count and --rate not "
        "negative, --stream-id 0..4294967295\n");
    return EXIT_USAGE;
  }
  if (!mcpt_sizes_parse (opt_sizes, &s.sizes, &err)) {
    g_printerr ("mcp-send: %s\n", err->message);
    return EXIT_USAGE;
  }
  s.stream_id = (guint32) opt_stream_id;
  if (opt_amt_relay)
    s.off = MCP_AMT_DATA_HEADER_LEN + (g_inet_address_get_family (group) ==
        G_SOCKET_FAMILY_IPV6 ? 48 : 28);
  s.stride = s.off + s.sizes.max;
  s.bufs = g_malloc ((gsize) BATCH_MAX * s.stride);

  if (opt_amt_relay)
    status = amt_listen (&s, group);
  else
    status = group ? open_socket (&s, group) : accept_client (&s);
  if (status == 0 && opt_warmup_until)
    status = warm_up (&s, opt_warmup_until);
  if (status == 0)
    status = send_stream (&s, (guint64) opt_count, &elapsed);

  if (status == 0) {
    seconds = elapsed / NS_PER_S;
    printf ("mcp-send: sent=%" G_GUINT64_FORMAT " bytes=%" G_GUINT64_FORMAT
        " seconds=%.3f rate=%.1f\n", s.sent, s.bytes, seconds,
        seconds > 0 ? s.sent / seconds : 0.0);
    fflush (stdout);
  }

  if (s.fd >= 0)
    close (s.fd);
  g_free (s.bufs);
  if (s.key)
    mcp_amt_mac_key_free (s.key);
  g_clear_pointer (&s.query[0], g_bytes_unref);
  g_clear_pointer (&s.query[1], g_bytes_unref);
  mcpt_sizes_clear (&s.sizes);
  g_clear_object (&group);
  return status;
}
