/* mcastproxy — amtrelay: an AMT relay (RFC 7450) driven by appsrc, with
 * gateways played by plain UDP sockets on loopback.
 *
 * No sleeps: the relay's control thread reads one socket in order, so a
 * gateway's Request answered by a Query proves that what it sent before
 * was handled (a barrier); "no datagram" is shown by a later datagram the
 * gateway does want arriving first; the upstream subscriptions event is
 * waited for at appsrc's src pad. */
#include "config.h"

#include <gst/app/gstappsrc.h>
#include <gst/check/gstcheck.h>
#include <string.h>

#include "gstmcpmeta.h"
#include "gstmcpsubs.h"
#include "mcp-amt.h"
#include "mcp-check-util.h"
#include "mcp-igmp.h"
#include "mcp-ippkt.h"

#define WAIT_S 20
/* one byte over the relay's control limit */
#define CONTROL_MAX_TEST 16385

/* ---- the pipeline ------------------------------------------------------ */

typedef struct
{
  GstElement *pipeline;
  GstElement *src;
  GstElement *relay;
  guint port;
  GMutex lock;
  GCond cond;
  gchar *subs;                  /* union of the last event, text form */
  GArray *peers;                /* of the last event */
  guint events;
} Relay;

static GstPadProbeReturn
upstream_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Relay *r = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GArray *peers = gst_mcp_subs_event_parse (event);

  if (peers) {
    McpSubSet *u = gst_mcp_subs_union (peers, 0);

    g_mutex_lock (&r->lock);
    g_free (r->subs);
    r->subs = mcp_sub_set_to_string (u);
    if (r->peers)
      g_array_unref (r->peers);
    r->peers = peers;
    r->events++;
    g_cond_broadcast (&r->cond);
    g_mutex_unlock (&r->lock);
    mcp_sub_set_free (u);
  }
  return GST_PAD_PROBE_OK;
}

static Relay *
relay_new (const gchar * props)
{
  Relay *r = g_new0 (Relay, 1);
  GstPad *pad;

  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  r->pipeline = gst_pipeline_new (NULL);
  r->src = gst_element_factory_make ("appsrc", NULL);
  r->relay = gst_element_factory_make ("amtrelay", NULL);
  fail_unless (r->relay != NULL);
  g_object_set (r->relay, "address", "127.0.0.1", "port", 0, NULL);
  mcp_test_set_props (r->relay, props);
  g_object_set (r->src, "format", GST_FORMAT_TIME, "is-live", TRUE, NULL);
  gst_bin_add_many (GST_BIN (r->pipeline), r->src, r->relay, NULL);
  fail_unless (gst_element_link (r->src, r->relay));
  pad = gst_element_get_static_pad (r->src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, upstream_probe,
      r, NULL);
  gst_object_unref (pad);
  fail_unless (gst_element_set_state (r->pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  fail_unless (gst_element_get_state (r->pipeline, NULL, NULL,
          GST_CLOCK_TIME_NONE) == GST_STATE_CHANGE_SUCCESS);
  g_object_get (r->relay, "current-port", &r->port, NULL);
  fail_unless (r->port != 0);
  return r;
}

static void
relay_free (Relay * r)
{
  gst_element_set_state (r->pipeline, GST_STATE_NULL);
  gst_object_unref (r->pipeline);
  g_free (r->subs);
  if (r->peers)
    g_array_unref (r->peers);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->cond);
  g_free (r);
}

/* Waits until the last upstream event's union is expect. */
static void
relay_wait_subs (Relay * r, const gchar * expect)
{
  gint64 end = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;

  g_mutex_lock (&r->lock);
  while (g_strcmp0 (r->subs, expect) != 0)
    if (!g_cond_wait_until (&r->cond, &r->lock, end))
      break;
  fail_unless_equals_string (r->subs, expect);
  g_mutex_unlock (&r->lock);
}

static guint
relay_n_peers (Relay * r)
{
  guint n;

  g_mutex_lock (&r->lock);
  n = r->peers ? r->peers->len : 0;
  g_mutex_unlock (&r->lock);
  return n;
}

static void
addr_parse (const gchar * text, guint8 * out)
{
  GInetAddress *a = g_inet_address_new_from_string (text);

  fail_unless (a != NULL, "%s", text);
  memset (out, 0, 16);
  memcpy (out, g_inet_address_to_bytes (a),
      g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV4 ? 4 : 16);
  g_object_unref (a);
}

/* Pushes datagram n of size bytes from source:40000 to group:port. */
static void
relay_push (Relay * r, guint n, gsize size, const gchar * source,
    const gchar * group, guint16 port)
{
  GstBuffer *buf = mcp_test_buffer (n, size);
  McpFrameMeta info = { 0 };

  info.family = strchr (group, ':') ? 6 : 4;
  info.port = port;
  addr_parse (group, info.group);
  addr_parse (source, info.source);
  info.source_port = 40000;
  gst_buffer_add_mcp_meta (buf, &info);
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (r->src),
          buf), GST_FLOW_OK);
}

static guint
relay_gateways (Relay * r)
{
  GstStructure *s = mcp_test_stats (r->relay, "amtrelay-stats");
  guint v = mcp_test_stat_u32 (s, "gateways");

  gst_structure_free (s);
  return v;
}

static guint64
relay_stat (Relay * r, const gchar * field)
{
  GstStructure *s = mcp_test_stats (r->relay, "amtrelay-stats");
  guint64 v = mcp_test_stat_field (s, field);

  gst_structure_free (s);
  return v;
}

/* ---- gateways ---------------------------------------------------------- */

typedef struct
{
  GSocket *socket;
  GSocketAddress *relay;
  guint8 family;
  guint8 addr[16];
  guint16 port;
  guint32 nonce;
  guint64 mac;                  /* of the last Query */
  guint32 update_nonce;         /* of the last Update, which a Teardown names */
  guint64 update_mac;
  guint8 buf[70000];
} Gw;

static Gw *
gw_new_at (Relay * r, const gchar * local)
{
  Gw *g = g_new0 (Gw, 1);
  GInetAddress *la = g_inet_address_new_from_string (local);
  GInetAddress *ra = g_inet_address_new_from_string
      (g_inet_address_get_family (la) == G_SOCKET_FAMILY_IPV4 ?
      "127.0.0.1" : "::1");
  GSocketAddress *sa = g_inet_socket_address_new (la, 0), *bound;
  GError *err = NULL;

  g->socket = g_socket_new (g_inet_address_get_family (la),
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &err);
  fail_unless (g->socket != NULL);
  fail_unless (g_socket_bind (g->socket, sa, FALSE, &err), "%s",
      err ? err->message : "");
  g_socket_set_timeout (g->socket, WAIT_S);
  /* a whole burst of datagrams waits here while the test reads */
  g_socket_set_option (g->socket, SOL_SOCKET, SO_RCVBUF, 4 << 20, NULL);
  bound = g_socket_get_local_address (g->socket, NULL);
  g->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g->family = g_inet_address_get_family (la) == G_SOCKET_FAMILY_IPV4 ? 4 : 6;
  addr_parse (local, g->addr);
  g->relay = g_inet_socket_address_new (ra, r->port);
  g->nonce = g_random_int ();
  g_object_unref (bound);
  g_object_unref (sa);
  g_object_unref (la);
  g_object_unref (ra);
  return g;
}

static Gw *
gw_new (Relay * r)
{
  return gw_new_at (r, "127.0.0.1");
}

static void
gw_free (Gw * g)
{
  g_object_unref (g->socket);
  g_object_unref (g->relay);
  g_free (g);
}

static void
gw_send_raw (Gw * g, const guint8 * data, gsize len)
{
  GError *err = NULL;

  fail_unless_equals_int (g_socket_send_to (g->socket, g->relay,
          (const gchar *) data, len, NULL, &err), len);
}

static void
gw_send (Gw * g, const McpAmtMessage * m)
{
  GBytes *b = mcp_amt_build (m);

  gw_send_raw (g, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  g_bytes_unref (b);
}

/* Receives one AMT message into m (pointing into g->buf). */
static void
gw_recv (Gw * g, McpAmtMessage * m)
{
  GError *err = NULL;
  gssize n = g_socket_receive (g->socket, (gchar *) g->buf, sizeof (g->buf),
      NULL, &err);

  fail_unless (n >= 0, "gateway receives nothing: %s", err ? err->message : "");
  fail_unless (mcp_amt_parse (g->buf, n, m, &err), "%s",
      err ? err->message : "");
}

/* Request -> Query; keeps the MAC and nonce. With p_flag, an MLDv2 query. */
static void
gw_request (Gw * g, gboolean p_flag, McpAmtMessage * query)
{
  McpAmtMessage m = { 0 }, q;

  g->nonce++;
  m.type = MCP_AMT_REQUEST;
  m.nonce = g->nonce;
  m.p_flag = p_flag;
  gw_send (g, &m);
  gw_recv (g, &q);
  fail_unless_equals_int (q.type, MCP_AMT_MEMBERSHIP_QUERY);
  fail_unless_equals_uint64 (q.nonce, g->nonce);
  g->mac = q.mac;
  if (query)
    *query = q;
}

/* A report of one record as an Update with the last Query's MAC and
 * nonce (or those given). */
static void
gw_update_with (Gw * g, McpIgmpRecordType type, const gchar * group,
    const gchar * source, guint64 mac, guint32 nonce)
{
  GArray *records = g_array_new (FALSE, FALSE, sizeof (McpIgmpRecord));
  McpIgmpRecord rec;
  GBytes *report, *pkt;
  guint8 dst[16];
  McpAmtMessage m = { 0 };
  gboolean v6 = strchr (group, ':') != NULL;
  guint8 src[16];

  rec.type = type;
  rec.group = g_inet_address_new_from_string (group);
  rec.sources = g_ptr_array_new_with_free_func (g_object_unref);
  if (source)
    g_ptr_array_add (rec.sources, g_inet_address_new_from_string (source));
  g_array_append_val (records, rec);
  report = mcp_igmp_build_report (v6 ? G_SOCKET_FAMILY_IPV6 :
      G_SOCKET_FAMILY_IPV4, records, NULL);
  fail_unless (report != NULL);
  addr_parse (v6 ? "ff02::16" : "224.0.0.22", dst);
  addr_parse (v6 ? "fe80::1" : "10.255.0.1", src);
  pkt = mcp_ippkt_wrap_membership (v6 ? 6 : 4, src, dst,
      g_bytes_get_data (report, NULL), g_bytes_get_size (report));
  m.type = MCP_AMT_MEMBERSHIP_UPDATE;
  m.mac = mac;
  m.nonce = nonce;
  m.inner = g_bytes_get_data (pkt, &m.inner_len);
  gw_send (g, &m);
  g->update_mac = mac;
  g->update_nonce = nonce;
  g_bytes_unref (pkt);
  g_bytes_unref (report);
  g_object_unref (rec.group);
  g_ptr_array_unref (rec.sources);
  g_array_unref (records);
}

static void
gw_update (Gw * g, McpIgmpRecordType type, const gchar * group,
    const gchar * source)
{
  gw_update_with (g, type, group, source, g->mac, g->nonce);
}

/* Request, Update, then another Request as a barrier: the Update is
 * handled when this returns. */
static void
gw_join (Gw * g, McpIgmpRecordType type, const gchar * group,
    const gchar * source)
{
  gw_request (g, strchr (group, ':') != NULL, NULL);
  gw_update (g, type, group, source);
  gw_request (g, strchr (group, ':') != NULL, NULL);
}

/* A Teardown with the MAC and nonce given: a gateway names those of its
 * last Update. */
static void
gw_teardown_with (Gw * g, guint64 mac, guint32 nonce)
{
  McpAmtMessage m = { 0 };

  m.type = MCP_AMT_TEARDOWN;
  m.mac = mac;
  m.nonce = nonce;
  m.family = g->family;
  memcpy (m.address, g->addr, 16);
  m.port = g->port;
  gw_send (g, &m);
}

static void
gw_teardown (Gw * g)
{
  gw_teardown_with (g, g->update_mac, g->update_nonce);
}

/* Receives Multicast Data and checks it: datagram n of size bytes from
 * source:40000 to group:port, checksums right. */
static void
gw_expect_data (Gw * g, guint n, gsize size, const gchar * source,
    const gchar * group, guint16 port)
{
  McpAmtMessage m;
  McpIpPacket ip;
  guint16 sport, dport;
  const guint8 *payload;
  gsize plen;
  guint8 s[16], d[16];
  GError *err = NULL;

  gw_recv (g, &m);
  fail_unless_equals_int (m.type, MCP_AMT_MULTICAST_DATA);
  fail_unless (mcp_ippkt_parse (m.inner, m.inner_len, &ip, &err), "%s",
      err ? err->message : "");
  fail_unless_equals_int (ip.protocol, MCP_IPPKT_PROTO_UDP);
  fail_unless_equals_int (ip.ttl, 64);
  fail_unless (mcp_ippkt_udp (&ip, &sport, &dport, &payload, &plen, &err),
      "%s", err ? err->message : "");
  addr_parse (source, s);
  addr_parse (group, d);
  fail_unless_equals_int (ip.family, strchr (group, ':') ? 6 : 4);
  fail_unless (memcmp (ip.src, s, 16) == 0 || (ip.family == 4
          && memcmp (ip.src, s, 4) == 0));
  fail_unless (memcmp (ip.dst, d, ip.family == 4 ? 4 : 16) == 0);
  fail_unless_equals_int (sport, 40000);
  fail_unless_equals_int (dport, port);
  fail_unless_equals_uint64 (plen, size);
  fail_unless (mcp_test_check_bytes (n, payload, plen),
      "content of datagram %u differs", n);
}

/* ---- tests ------------------------------------------------------------- */

GST_START_TEST (test_defaults)
{
  GstElement *e = gst_element_factory_make ("amtrelay", NULL);
  GstStructure *s;
  guint port, ttl, max;
  guint64 qi, timeout;
  gchar *address;

  g_object_get (e, "address", &address, "port", &port, "ttl", &ttl,
      "query-interval", &qi, "gateway-timeout", &timeout, "max-gateways",
      &max, NULL);
  fail_unless_equals_string (address, "0.0.0.0");
  fail_unless_equals_int (port, 2268);
  fail_unless_equals_int (ttl, 64);
  fail_unless_equals_uint64 (qi, 125 * GST_SECOND);
  fail_unless_equals_uint64 (timeout, 0);
  fail_unless_equals_int (max, 1000);
  g_object_get (e, "max-gateways-per-host", &max, NULL);
  fail_unless_equals_int (max, 16);
  g_object_get (e, "max-groups", &max, NULL);
  fail_unless_equals_int (max, 16);
  g_object_get (e, "max-sources", &max, NULL);
  fail_unless_equals_int (max, 16);
  g_object_get (e, "mac-rotate-interval", &qi, NULL);
  fail_unless_equals_uint64 (qi, 600 * GST_SECOND);
  g_free (address);
  mcp_test_set_props (e, "address=::1 port=0 ttl=9 query-interval=60000000000 "
      "allow=10.0.0.0/8 discovery-rate=5 request-rate=7 max-groups=3 "
      "max-gateways-per-host=0");
  g_object_get (e, "address", &address, "ttl", &ttl, "query-interval", &qi,
      "max-groups", &max, NULL);
  fail_unless_equals_string (address, "::1");
  fail_unless_equals_int (ttl, 9);
  fail_unless_equals_uint64 (qi, 60 * GST_SECOND);
  fail_unless_equals_int (max, 3);
  g_object_get (e, "max-gateways-per-host", &max, NULL);
  fail_unless_equals_int (max, 0);
  g_free (address);
  /* stats before any start: named, zeros, no gateways */
  s = mcp_test_stats (e, "amtrelay-stats");
  fail_unless_equals_uint64 (mcp_test_stat_field (s, "updates"), 0);
  fail_unless_equals_int (mcp_test_stat_count (s, "gateway-list"), 0);
  gst_structure_free (s);
  /* NULL -> READY binds; READY -> NULL closes */
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (e, "current-port", &port, NULL);
  fail_unless (port != 0);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  g_object_get (e, "current-port", &port, NULL);
  fail_unless_equals_int (port, 0);
  gst_object_unref (e);
}

GST_END_TEST;

/* A wildcard address without advertise-address cannot be advertised. */
GST_START_TEST (test_wildcard_needs_advertise)
{
  GstElement *e = gst_element_factory_make ("amtrelay", NULL);

  g_object_set (e, "port", 0, NULL);
  mcp_test_assert_state_error (e, GST_STATE_READY, "wildcard");
  g_object_set (e, "advertise-address", "192.0.2.1", NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_discovery)
{
  Relay *r = relay_new ("advertise-address=192.0.2.7");
  Gw *g = gw_new (r);
  McpAmtMessage m = { 0 }, a;
  guint8 expect[16];

  m.type = MCP_AMT_RELAY_DISCOVERY;
  m.nonce = 0xdeadbeef;
  gw_send (g, &m);
  gw_recv (g, &a);
  fail_unless_equals_int (a.type, MCP_AMT_RELAY_ADVERTISEMENT);
  fail_unless_equals_uint64 (a.nonce, 0xdeadbeef);
  fail_unless_equals_int (a.family, 4);
  addr_parse ("192.0.2.7", expect);
  fail_unless (memcmp (a.address, expect, 4) == 0);
  fail_unless_equals_uint64 (relay_stat (r, "discoveries"), 1);
  gw_free (g);
  relay_free (r);
}

GST_END_TEST;

/* A second socket on discovery-address answers Discovery only. */
/* g turns to the relay's discovery address, 127.0.0.2: a Request there is
 * dropped (malformed: not counted among the relay's requests, which stay
 * at requests), a Discovery is answered with the unicast address
 * 127.0.0.1. */
static void
check_discovery_address (Relay * r, Gw * g, guint64 requests)
{
  GInetAddress *da = g_inet_address_new_from_string ("127.0.0.2");
  McpAmtMessage m = { 0 }, a;
  guint8 expect[16];

  g_object_unref (g->relay);
  g->relay = g_inet_socket_address_new (da, r->port);
  g_object_unref (da);
  m.type = MCP_AMT_REQUEST;
  m.nonce = 5;
  gw_send (g, &m);
  m.type = MCP_AMT_RELAY_DISCOVERY;
  m.nonce = 6;
  gw_send (g, &m);
  gw_recv (g, &a);
  fail_unless_equals_int (a.type, MCP_AMT_RELAY_ADVERTISEMENT);
  fail_unless_equals_uint64 (a.nonce, 6);
  addr_parse ("127.0.0.1", expect);
  fail_unless (memcmp (a.address, expect, 4) == 0);
  fail_unless_equals_uint64 (relay_stat (r, "malformed"), 1);
  fail_unless_equals_uint64 (relay_stat (r, "requests"), requests);
}

GST_START_TEST (test_discovery_address)
{
  Relay *r = relay_new ("discovery-address=127.0.0.2");
  Gw *g = gw_new (r);

  check_discovery_address (r, g, 0);
  gw_free (g);
  relay_free (r);
}

GST_END_TEST;

static void
check_query (Gw * g, const McpAmtMessage * q, gboolean mld, guint qqi)
{
  McpIpPacket ip;
  McpIgmpMessage *msg;
  GError *err = NULL;

  fail_unless (q->g_flag);
  fail_unless (!q->l_flag);
  if (g->family == 6 && q->family == 4) {
    /* ::1 reads as the IPv4-compatible ::0.0.0.1 (mcp_amt_parse) */
    fail_unless (memcmp (g->addr, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0);
    fail_unless (memcmp (q->address, g->addr + 12, 4) == 0);
  } else {
    fail_unless_equals_int (q->family, g->family);
    fail_unless (memcmp (q->address, g->addr, g->family == 4 ? 4 : 16) == 0);
  }
  fail_unless_equals_int (q->port, g->port);
  fail_unless (mcp_ippkt_parse (q->inner, q->inner_len, &ip, &err), "%s",
      err ? err->message : "");
  fail_unless_equals_int (ip.family, mld ? 6 : 4);
  fail_unless_equals_int (ip.ttl, 1);
  fail_unless (ip.router_alert);
  msg = mld ? mcp_mld_parse (ip.payload, ip.payload_len, &err) :
      mcp_igmp_parse (ip.payload, ip.payload_len, &err);
  fail_unless (msg != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (msg->kind, MCP_IGMP_QUERY);
  fail_unless_equals_int (msg->version, mld ? 2 : 3);
  fail_unless (msg->group == NULL);
  fail_unless_equals_int (msg->qqi, qqi);
  mcp_igmp_message_free (msg);
}

GST_START_TEST (test_request_query)
{
  Relay *r = relay_new ("query-interval=60000000000");
  Gw *g = gw_new (r);
  McpAmtMessage q;

  gw_request (g, FALSE, &q);
  check_query (g, &q, FALSE, 60);
  /* P flag: MLDv2, even over IPv4 */
  gw_request (g, TRUE, &q);
  check_query (g, &q, TRUE, 60);
  fail_unless_equals_uint64 (relay_stat (r, "requests"), 2);
  fail_unless_equals_uint64 (relay_stat (r, "queries"), 2);
  /* no state kept for a Request */
  fail_unless_equals_int (relay_gateways (r), 0);
  gw_free (g);
  relay_free (r);
}

GST_END_TEST;

/* A gateway that joined (S1,G) source-specific gets S1's datagrams only;
 * one that joined G for any source (EXCLUDE {}) gets all; exact bytes at
 * every size; a datagram too large for AMT is dropped and counted. */
GST_START_TEST (test_ssm_and_asm)
{
  Relay *r = relay_new ("");
  Gw *a = gw_new (r), *b = gw_new (r);
  GstStructure *s;
  guint i, n = 0;

  gw_join (a, MCP_IGMP_MODE_IS_INCLUDE, "232.1.1.1", "10.0.0.1");
  relay_wait_subs (r, "10.0.0.1@232.1.1.1:1-65535");
  gw_join (b, MCP_IGMP_CHANGE_TO_EXCLUDE, "232.1.1.1", NULL);
  relay_wait_subs (r, "232.1.1.1:1-65535 10.0.0.1@232.1.1.1:1-65535");
  fail_unless_equals_int (relay_n_peers (r), 2);

  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    gsize size = mcp_test_sizes[i];

    /* from another sender: b only */
    relay_push (r, n, size, "10.0.0.2", "232.1.1.1", 5004);
    relay_push (r, n + 1, size, "10.0.0.1", "232.1.1.1", 5004);
    /* another group: nobody */
    relay_push (r, n + 2, size, "10.0.0.1", "232.1.1.2", 5004);
    if (size > 65477) {
      n += 3;
      continue;
    }
    gw_expect_data (b, n, size, "10.0.0.2", "232.1.1.1", 5004);
    gw_expect_data (b, n + 1, size, "10.0.0.1", "232.1.1.1", 5004);
    gw_expect_data (a, n + 1, size, "10.0.0.1", "232.1.1.1", 5004);
    n += 3;
  }
  /* the largest that fits: 65535-byte inner packet minus... over IPv4 */
  relay_push (r, 100, 65477, "10.0.0.1", "232.1.1.1", 5004);
  gw_expect_data (a, 100, 65477, "10.0.0.1", "232.1.1.1", 5004);
  gw_expect_data (b, 100, 65477, "10.0.0.1", "232.1.1.1", 5004);
  relay_push (r, 101, 65478, "10.0.0.1", "232.1.1.1", 5004);
  relay_push (r, 102, 1, "10.0.0.1", "232.1.1.1", 5004);
  gw_expect_data (a, 102, 1, "10.0.0.1", "232.1.1.1", 5004);
  gw_expect_data (b, 102, 1, "10.0.0.1", "232.1.1.1", 5004);

  s = mcp_test_stats (r->relay, "amtrelay-stats");
  /* 65507 (to both, and to b only) and 65478; what nobody wants is not
   * counted */
  fail_unless_equals_uint64 (mcp_test_stat_field (s, "dropped-oversize"), 3);
  fail_unless_equals_uint64 (mcp_test_stat_field (s, "datagrams-sent"),
      3 * (MCP_N_TEST_SIZES - 1) + 4);
  fail_unless_equals_int (mcp_test_stat_u32 (s, "gateways"), 2);
  fail_unless_equals_int (mcp_test_stat_u32 (s, "clients"), 2);
  fail_unless_equals_string (gst_structure_get_string (mcp_test_stat_item (s,
              "gateway-list", 0), "address"), "127.0.0.1");
  fail_unless_equals_int (mcp_test_stat_count (s, "gateway-list"), 2);
  gst_structure_free (s);
  gw_free (a);
  gw_free (b);
  relay_free (r);
}

GST_END_TEST;

/* Whatever a misbehaving gateway sends is dropped and counted, gets it
 * nothing, and costs a well-behaved one nothing. */
GST_START_TEST (test_bad_input)
{
  Relay *r = relay_new ("");
  Gw *good = gw_new (r), *bad = gw_new (r);
  McpAmtMessage q;
  guint64 old_mac;
  guint32 old_nonce;
  guint8 big[CONTROL_MAX_TEST];
  static const guint8 v1[] = { 0x13, 0, 0, 0, 0, 0, 0, 1 };
  static const guint8 t8[] = { 0x08, 0, 0, 0, 0, 0, 0, 1 };
  static const guint8 t6[] = { 0x06, 0, 0x45, 0 };
  static const guint8 trunc[] = { 0x03, 0, 0 };

  gw_join (good, MCP_IGMP_CHANGE_TO_EXCLUDE, "239.1.1.1", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535");

  /* a forged MAC */
  gw_request (bad, FALSE, &q);
  gw_update_with (bad, MCP_IGMP_CHANGE_TO_EXCLUDE, "239.1.1.1", NULL,
      q.mac ^ 1, q.nonce);
  /* a stale nonce: the MAC of an earlier Request with a later nonce */
  old_mac = bad->mac;
  old_nonce = bad->nonce;
  gw_request (bad, FALSE, NULL);
  gw_update_with (bad, MCP_IGMP_CHANGE_TO_EXCLUDE, "239.1.1.1", NULL,
      old_mac, bad->nonce);
  (void) old_nonce;
  /* truncated, oversized, unknown type, version 1, a type a relay never
   * takes */
  gw_send_raw (bad, trunc, sizeof (trunc));
  memset (big, 0, sizeof (big));
  big[0] = 0x03;
  gw_send_raw (bad, big, sizeof (big));
  gw_send_raw (bad, t8, sizeof (t8));
  gw_send_raw (bad, v1, sizeof (v1));
  gw_send_raw (bad, t6, sizeof (t6));
  /* an Update with a right MAC and a broken report */
  {
    McpAmtMessage m = { 0 };
    guint8 junk[24] = { 0x45 };

    m.type = MCP_AMT_MEMBERSHIP_UPDATE;
    m.mac = bad->mac;
    m.nonce = bad->nonce;
    m.inner = junk;
    m.inner_len = sizeof (junk);
    junk[3] = sizeof (junk);
    gw_send (bad, &m);
  }
  /* barrier: all of it handled */
  gw_request (bad, FALSE, NULL);
  fail_unless_equals_uint64 (relay_stat (r, "bad-mac"), 2);
  fail_unless_equals_uint64 (relay_stat (r, "malformed"), 6);
  fail_unless_equals_int (relay_gateways (r), 1);

  /* the good one gets data; the bad one none: its first datagram is the
   * one of the group it then joins properly */
  relay_push (r, 1, 1316, "10.0.0.1", "239.1.1.1", 5004);
  gw_expect_data (good, 1, 1316, "10.0.0.1", "239.1.1.1", 5004);
  gw_join (bad, MCP_IGMP_CHANGE_TO_EXCLUDE, "239.2.2.2", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535 239.2.2.2:1-65535");
  relay_push (r, 2, 100, "10.0.0.1", "239.2.2.2", 5004);
  gw_expect_data (bad, 2, 100, "10.0.0.1", "239.2.2.2", 5004);
  relay_push (r, 3, 1316, "10.0.0.1", "239.1.1.1", 5004);
  gw_expect_data (good, 3, 1316, "10.0.0.1", "239.1.1.1", 5004);
  gw_free (good);
  gw_free (bad);
  relay_free (r);
}

GST_END_TEST;

/* Leave, Teardown and silence each remove what a gateway wanted, and
 * upstream is told. */
GST_START_TEST (test_leave_teardown_expiry)
{
  Relay *r = relay_new ("gateway-timeout=300000000");
  Gw *g = gw_new (r);

  gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535");
  /* leave: TO_IN {} */
  gw_request (g, FALSE, NULL);
  gw_update (g, MCP_IGMP_CHANGE_TO_INCLUDE, "239.1.1.1", NULL);
  relay_wait_subs (r, "");

  gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535");
  gw_teardown (g);
  relay_wait_subs (r, "");
  gw_request (g, FALSE, NULL);
  fail_unless_equals_uint64 (relay_stat (r, "teardowns"), 1);
  fail_unless_equals_int (relay_gateways (r), 0);

  /* no Update for gateway-timeout */
  gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535");
  relay_wait_subs (r, "");
  fail_unless_equals_uint64 (relay_stat (r, "expired"), 1);
  fail_unless_equals_int (relay_gateways (r), 0);
  gw_free (g);
  relay_free (r);
}

GST_END_TEST;

/* max-gateways: the next gateway's queries carry L and its Update is
 * refused; max-groups bounds one gateway. */
GST_START_TEST (test_limits)
{
  Relay *r = relay_new ("max-gateways=1 max-groups=1");
  Gw *a = gw_new (r), *b = gw_new (r);
  McpAmtMessage q;

  gw_join (a, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535");
  /* a known gateway is not told L */
  gw_request (a, FALSE, &q);
  fail_unless (!q.l_flag);
  gw_request (b, FALSE, &q);
  fail_unless (q.l_flag);
  gw_update (b, MCP_IGMP_MODE_IS_EXCLUDE, "239.2.2.2", NULL);
  gw_request (b, FALSE, NULL);
  fail_unless_equals_uint64 (relay_stat (r, "refused-limit"), 1);
  fail_unless_equals_int (relay_gateways (r), 1);
  /* a second group for a: refused, the first kept */
  gw_request (a, FALSE, NULL);
  gw_update (a, MCP_IGMP_MODE_IS_EXCLUDE, "239.3.3.3", NULL);
  gw_request (a, FALSE, NULL);
  fail_unless_equals_uint64 (relay_stat (r, "refused-limit"), 2);
  relay_push (r, 1, 10, "10.0.0.1", "239.3.3.3", 5004);
  relay_push (r, 2, 10, "10.0.0.1", "239.1.1.1", 5004);
  gw_expect_data (a, 2, 10, "10.0.0.1", "239.1.1.1", 5004);
  gw_free (a);
  gw_free (b);
  relay_free (r);
}

GST_END_TEST;

GST_START_TEST (test_allow)
{
  Relay *r = relay_new ("allow=127.0.0.1/32");
  Gw *in = gw_new (r), *out = gw_new_at (r, "127.0.0.2");
  McpAmtMessage m = { 0 };

  m.type = MCP_AMT_REQUEST;
  m.nonce = 1;
  gw_send (out, &m);
  m.type = MCP_AMT_RELAY_DISCOVERY;
  gw_send (out, &m);
  gw_request (in, FALSE, NULL);
  fail_unless_equals_uint64 (relay_stat (r, "refused-allow-list"), 2);
  fail_unless_equals_uint64 (relay_stat (r, "requests"), 1);
  gw_free (in);
  gw_free (out);
  relay_free (r);
}

GST_END_TEST;

/* allow, max-groups and max-sources changed while PLAYING, as a reload
 * does: a gateway known before stays although allow no longer covers it,
 * and its next Update gets the new limits; a new one outside allow is
 * refused; a list that does not parse leaves the old one, with a
 * warning. */
GST_START_TEST (test_changed_while_playing)
{
  Relay *r = relay_new ("max-groups=1 max-sources=1");
  Gw *a = gw_new (r), *b = gw_new_at (r, "127.0.0.2");
  GstBus *bus = gst_element_get_bus (r->pipeline);
  McpAmtMessage m = { 0 };
  GstMessage *msg;
  GError *err = NULL;
  gchar *allow;

  gw_join (a, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535");

  g_object_set (r->relay, "allow", "10.0.0.0/8", "max-groups", 2, NULL);
  m.type = MCP_AMT_REQUEST;
  m.nonce = 1;
  gw_send (b, &m);
  mcp_test_wait_stat (r->relay, "amtrelay-stats", "refused-allow-list", 1);
  /* Updates with the nonce of a's last Request (a known gateway may only
   * ask a few times a second) */
  gw_update (a, MCP_IGMP_MODE_IS_EXCLUDE, "239.2.2.2", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535 239.2.2.2:1-65535");
  fail_unless_equals_uint64 (relay_stat (r, "refused-limit"), 0);
  relay_push (r, 1, 1316, "10.0.0.1", "239.2.2.2", 5004);
  gw_expect_data (a, 1, 1316, "10.0.0.1", "239.2.2.2", 5004);

  /* lowered: what a holds stays, the next group is refused */
  g_object_set (r->relay, "max-groups", 1, NULL);
  gw_update (a, MCP_IGMP_MODE_IS_EXCLUDE, "239.3.3.3", NULL);
  mcp_test_wait_stat (r->relay, "amtrelay-stats", "refused-limit", 1);
  relay_push (r, 2, 1316, "10.0.0.1", "239.3.3.3", 5004);
  relay_push (r, 3, 1316, "10.0.0.1", "239.1.1.1", 5004);
  gw_expect_data (a, 3, 1316, "10.0.0.1", "239.1.1.1", 5004);

  g_object_set (r->relay, "allow", "10.0.0.0/8,127.0.0.0/33", NULL);
  msg = gst_bus_timed_pop_filtered (bus, WAIT_S * GST_SECOND,
      GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, "Ignored a new value of property "
          "\"allow\"") != NULL, "%s", err->message);
  fail_unless (strstr (err->message, "127.0.0.0/33") != NULL, "%s",
      err->message);
  g_clear_error (&err);
  gst_message_unref (msg);
  g_object_get (r->relay, "allow", &allow, NULL);
  fail_unless_equals_string (allow, "10.0.0.0/8");
  g_free (allow);

  /* b's network allowed again: served */
  g_object_set (r->relay, "allow", "127.0.0.2", NULL);
  gw_request (b, FALSE, NULL);
  fail_unless_equals_uint64 (relay_stat (r, "refused-allow-list"), 1);
  fail_unless_equals_int (relay_gateways (r), 1);
  gst_object_unref (bus);
  gw_free (a);
  gw_free (b);
  relay_free (r);
}

GST_END_TEST;

/* request-rate: a burst of Requests gets about rate answers a second; a
 * Discovery (not limited here) is the barrier. */
GST_START_TEST (test_rate)
{
  Relay *r = relay_new ("request-rate=2 discovery-rate=0");
  Gw *g = gw_new (r);
  McpAmtMessage m = { 0 }, a;
  gint64 start = g_get_monotonic_time ();
  guint i, queries = 0;
  guint64 answered, refused, allowed;

  for (i = 0; i < 20; i++) {
    m.type = MCP_AMT_REQUEST;
    m.nonce = i;
    gw_send (g, &m);
  }
  m.type = MCP_AMT_RELAY_DISCOVERY;
  m.nonce = 99;
  gw_send (g, &m);
  for (;;) {
    gw_recv (g, &a);
    if (a.type == MCP_AMT_RELAY_ADVERTISEMENT)
      break;
    queries++;
  }
  answered = relay_stat (r, "queries");
  refused = relay_stat (r, "refused-rate");
  fail_unless_equals_uint64 (answered, queries);
  fail_unless_equals_uint64 (answered + refused, 20);
  /* the burst of 2, and what time since refilled */
  allowed = 2 + 2 * (g_get_monotonic_time () - start) / G_USEC_PER_SEC + 1;
  fail_unless (answered >= 2 && answered <= allowed, "%" G_GUINT64_FORMAT
      " answered", answered);
  gw_free (g);
  relay_free (r);
}

GST_END_TEST;

/* IPv6 all the way: an IPv6 relay, MLDv2 (P flag), an IPv6 SSM group. */
GST_START_TEST (test_ipv6)
{
  Relay *r;
  Gw *g;
  McpAmtMessage q;

  r = relay_new ("address=::1");
  g = gw_new_at (r, "::1");
  gw_request (g, TRUE, &q);
  check_query (g, &q, TRUE, 125);
  gw_update (g, MCP_IGMP_MODE_IS_INCLUDE, "ff3e::8000:1", "2001:db8::1");
  gw_request (g, TRUE, NULL);
  relay_wait_subs (r, "[2001:db8::1]@[ff3e::8000:1]:1-65535");
  relay_push (r, 1, 1316, "2001:db8::2", "ff3e::8000:1", 5004);
  relay_push (r, 2, 1316, "2001:db8::1", "ff3e::8000:1", 5004);
  gw_expect_data (g, 2, 1316, "2001:db8::1", "ff3e::8000:1", 5004);
  relay_push (r, 3, 9000, "2001:db8::1", "ff3e::8000:1", 5004);
  gw_expect_data (g, 3, 9000, "2001:db8::1", "ff3e::8000:1", 5004);
  gw_teardown (g);
  relay_wait_subs (r, "");
  gw_free (g);
  relay_free (r);
}

GST_END_TEST;

/* The subscriptions query a capture sends at start: one peer per
 * gateway. */
GST_START_TEST (test_query_answer)
{
  Relay *r = relay_new ("");
  Gw *a = gw_new (r), *b = gw_new (r);
  GstPad *pad = gst_element_get_static_pad (r->src, "src");
  GArray *peers;
  McpSubSet *u;
  gchar *text;

  gw_join (a, MCP_IGMP_MODE_IS_INCLUDE, "232.1.1.1", "10.0.0.1");
  gw_join (b, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  peers = gst_mcp_subs_ask_downstream (pad);
  fail_unless (peers != NULL);
  fail_unless_equals_int (peers->len, 2);
  u = gst_mcp_subs_union (peers, 0);
  text = mcp_sub_set_to_string (u);
  fail_unless_equals_string (text,
      "10.0.0.1@232.1.1.1:1-65535 239.1.1.1:1-65535");
  g_free (text);
  mcp_sub_set_free (u);
  g_array_unref (peers);
  gst_object_unref (pad);
  gw_free (a);
  gw_free (b);
  relay_free (r);
}

GST_END_TEST;

/* max-gateways-per-host: a host's next gateway (another port) is told L
 * and refused; another address is not; a place freed is taken. */
GST_START_TEST (test_limit_per_host)
{
  Relay *r = relay_new ("max-gateways-per-host=2");
  Gw *a = gw_new (r), *b = gw_new (r), *c = gw_new (r);
  Gw *other = gw_new_at (r, "127.0.0.2");
  McpAmtMessage q;

  gw_join (a, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  gw_join (b, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.2", NULL);
  gw_request (c, FALSE, &q);
  fail_unless (q.l_flag);
  gw_update (c, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.3", NULL);
  gw_request (c, FALSE, NULL);
  fail_unless_equals_uint64 (relay_stat (r, "refused-limit"), 1);
  fail_unless_equals_int (relay_gateways (r), 2);
  /* a known gateway of a full host is not told L */
  gw_request (a, FALSE, &q);
  fail_unless (!q.l_flag);
  /* another host */
  gw_request (other, FALSE, &q);
  fail_unless (!q.l_flag);
  gw_join (other, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.4", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535 239.1.1.2:1-65535 "
      "239.1.1.4:1-65535");
  /* b leaves: c gets its place */
  gw_teardown (b);
  gw_join (c, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.3", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535 239.1.1.3:1-65535 "
      "239.1.1.4:1-65535");
  fail_unless_equals_int (relay_gateways (r), 3);
  fail_unless_equals_uint64 (relay_stat (r, "refused-limit"), 1);
  gw_free (a);
  gw_free (b);
  gw_free (c);
  gw_free (other);
  relay_free (r);
}

GST_END_TEST;

/* Reads Queries until the Advertisement that answers a Discovery sent
 * last: how many of the Requests sent before were answered. */
static guint
gw_count_queries (Gw * g)
{
  McpAmtMessage m = { 0 }, a;
  guint queries = 0;

  m.type = MCP_AMT_RELAY_DISCOVERY;
  m.nonce = 0x5eed;
  gw_send (g, &m);
  for (;;) {
    gw_recv (g, &a);
    if (a.type == MCP_AMT_RELAY_ADVERTISEMENT)
      break;
    fail_unless_equals_int (a.type, MCP_AMT_MEMBERSHIP_QUERY);
    queries++;
  }
  return queries;
}

static void
gw_send_requests (Gw * g, guint n)
{
  McpAmtMessage m = { 0 };
  guint i;

  for (i = 0; i < n; i++) {
    m.type = MCP_AMT_REQUEST;
    m.nonce = ++g->nonce;
    gw_send (g, &m);
  }
}

static gint warnings;

static void
count_warnings (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  if (level == GST_LEVEL_WARNING
      && g_str_equal (gst_debug_category_get_name (category), "amtrelay"))
    g_atomic_int_inc (&warnings);
}

/* What peers cause at will is not a WARNING per packet: refused gateways
 * and Updates over the limits make one each a minute, the rest INFO. */
GST_START_TEST (test_warnings_bounded)
{
  Relay *r = relay_new ("max-gateways=1 max-groups=1");
  Gw *a = gw_new (r), *b[5];
  guint i;

  gst_debug_set_active (TRUE);
  gst_debug_set_threshold_for_name ("amtrelay", GST_LEVEL_WARNING);
  gst_debug_add_log_function (count_warnings, NULL, NULL);
  gw_join (a, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  gw_request (a, FALSE, NULL);
  for (i = 0; i < 5; i++) {
    gchar *group = g_strdup_printf ("239.2.2.%u", i);

    b[i] = gw_new (r);
    gw_join (b[i], MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
    /* over max-groups */
    gw_update (a, MCP_IGMP_MODE_IS_EXCLUDE, group, NULL);
    g_free (group);
  }
  gw_request (a, FALSE, NULL);
  fail_unless_equals_uint64 (relay_stat (r, "refused-limit"), 10);
  gst_debug_remove_log_function (count_warnings);
  gst_debug_set_threshold_for_name ("amtrelay", GST_LEVEL_NONE);
  fail_unless_equals_int (g_atomic_int_get (&warnings), 2);
  for (i = 0; i < 5; i++)
    gw_free (b[i]);
  gw_free (a);
  relay_free (r);
}

GST_END_TEST;

/* A flood of strangers' Requests empties request-rate's bucket; a gateway
 * with state is answered all the same, within a few a second of its own. */
GST_START_TEST (test_rate_known_gateway)
{
  Relay *r = relay_new ("request-rate=1 discovery-rate=0");
  Gw *g = gw_new (r), *stranger = gw_new (r);
  gint64 start;
  guint answered;

  /* the first Request takes the bucket's one token; the barrier after the
   * Update comes from a gateway with state */
  gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535");
  start = g_get_monotonic_time ();
  gw_send_requests (stranger, 20);
  answered = gw_count_queries (stranger);
  fail_unless (answered <= 1 + (g_get_monotonic_time () - start) /
      G_USEC_PER_SEC, "%u answered", answered);
  /* the bucket is empty (unless seconds went by): g is answered */
  gw_request (g, FALSE, NULL);
  gw_update (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  gw_request (g, FALSE, NULL);
  fail_unless ((gint64) relay_stat (r, "refused-rate") >= 19 -
      (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
  /* but g cannot flood either: a burst of 4, then 2 a second */
  start = g_get_monotonic_time ();
  gw_send_requests (g, 20);
  answered = gw_count_queries (g);
  fail_unless (answered <= 4 + 2 * (g_get_monotonic_time () - start) /
      G_USEC_PER_SEC + 2, "%u answered", answered);
  fail_unless_equals_int (relay_gateways (r), 1);
  gw_free (g);
  gw_free (stranger);
  relay_free (r);
}

GST_END_TEST;

/* A Teardown with the MAC and nonce of an Update before the last one is
 * dropped (counted as bad-mac): what the gateway wants now stays. */
GST_START_TEST (test_stale_teardown)
{
  Relay *r = relay_new ("");
  Gw *g = gw_new (r);
  guint64 old_mac;
  guint32 old_nonce;

  gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535");
  old_mac = g->update_mac;
  old_nonce = g->update_nonce;
  /* a refresh: a new Request and Update */
  gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  fail_unless (g->update_nonce != old_nonce);
  gw_teardown_with (g, old_mac, old_nonce);
  gw_request (g, FALSE, NULL);
  fail_unless_equals_uint64 (relay_stat (r, "bad-mac"), 1);
  fail_unless_equals_uint64 (relay_stat (r, "teardowns"), 0);
  fail_unless_equals_int (relay_gateways (r), 1);
  relay_push (r, 1, 1316, "10.0.0.1", "239.1.1.1", 5004);
  gw_expect_data (g, 1, 1316, "10.0.0.1", "239.1.1.1", 5004);
  /* the current one removes it */
  gw_teardown (g);
  relay_wait_subs (r, "");
  fail_unless_equals_uint64 (relay_stat (r, "teardowns"), 1);
  fail_unless_equals_int (relay_gateways (r), 0);
  gw_free (g);
  relay_free (r);
}

GST_END_TEST;

/* A burst of changes makes few upstream events: at most one per 100 ms,
 * the last one with the state after the burst. */
GST_START_TEST (test_coalesce)
{
  Relay *r = relay_new ("");
  Gw *g = gw_new (r), *more[15];
  GString *expect = g_string_new (NULL);
  gint64 start, elapsed;
  guint events, i;

  gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.0.0.1", NULL);
  relay_wait_subs (r, "239.0.0.1:1-65535");
  g_string_append (expect, "239.0.0.1:1-65535");
  g_mutex_lock (&r->lock);
  events = r->events;
  g_mutex_unlock (&r->lock);
  start = g_get_monotonic_time ();
  for (i = 0; i < 15; i++) {
    gchar *group = g_strdup_printf ("239.0.0.%u", i + 2);

    more[i] = gw_new (r);
    gw_request (more[i], FALSE, NULL);
    gw_update (more[i], MCP_IGMP_MODE_IS_EXCLUDE, group, NULL);
    g_string_append_printf (expect, " %s:1-65535", group);
    g_free (group);
  }
  relay_wait_subs (r, expect->str);
  elapsed = g_get_monotonic_time () - start;
  g_mutex_lock (&r->lock);
  events = r->events - events;
  g_mutex_unlock (&r->lock);
  /* one at once, one per 100 ms since, one after the last change */
  fail_unless (events <= 2 + elapsed / 100000, "%u events in %"
      G_GINT64_FORMAT " us for 15 changes", events, elapsed);
  fail_unless_equals_int (relay_n_peers (r), 16);
  for (i = 0; i < 15; i++)
    gw_free (more[i]);
  gw_free (g);
  g_string_free (expect, TRUE);
  relay_free (r);
}

GST_END_TEST;

/* A wildcard address and discovery-address share the port: Requests on
 * the wildcard socket, Discovery only on discovery-address. */
GST_START_TEST (test_wildcard_and_discovery_address)
{
  Relay *r = relay_new ("address=0.0.0.0 advertise-address=127.0.0.1 "
      "discovery-address=127.0.0.2");
  Gw *g = gw_new (r);

  gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  relay_wait_subs (r, "239.1.1.1:1-65535");
  check_discovery_address (r, g, 2);
  gw_free (g);
  relay_free (r);
}

GST_END_TEST;

/* mac-rotate-interval of 2^32 ms and more: no wrap to a busy rotation
 * (which would fail the Update's MAC), the secret kept. */
GST_START_TEST (test_long_rotate_interval)
{
  const gchar *values[] = { "4294967296000000", "18446744073709551615" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (values); i++) {
    gchar *props = g_strdup_printf ("mac-rotate-interval=%s", values[i]);
    Relay *r = relay_new (props);
    Gw *g = gw_new (r);

    gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
    relay_wait_subs (r, "239.1.1.1:1-65535");
    fail_unless_equals_uint64 (relay_stat (r, "bad-mac"), 0);
    gw_free (g);
    relay_free (r);
    g_free (props);
  }
}

GST_END_TEST;

/* 100 gateways on one channel at 1,000 datagrams/s each, none lost: a
 * thread of the test reads every gateway's socket while the test pushes
 * 1,000 datagrams of 1316 bytes at 1 ms intervals (pacing, not
 * synchronisation: the end is waited for on the counts). */
#define MANY 100
#define MANY_DATAGRAMS 1000

typedef struct
{
  Gw **gws;
  guint counts[MANY];
  gboolean stop;
  GMutex lock;
  GCond cond;
  guint bad;
} Many;

static gpointer
many_reader (gpointer data)
{
  Many *m = data;
  GPollFD fds[MANY];
  guint8 *buf = g_malloc (70000);
  guint i;

  for (i = 0; i < MANY; i++) {
    fds[i].fd = g_socket_get_fd (m->gws[i]->socket);
    fds[i].events = G_IO_IN;
    g_socket_set_blocking (m->gws[i]->socket, FALSE);
  }
  while (!g_atomic_int_get (&m->stop)) {
    if (g_poll (fds, MANY, 100) <= 0)
      continue;
    for (i = 0; i < MANY; i++) {
      gssize n;

      if (!(fds[i].revents & G_IO_IN))
        continue;
      while ((n = g_socket_receive (m->gws[i]->socket, (gchar *) buf, 70000,
                  NULL, NULL)) > 0) {
        g_mutex_lock (&m->lock);
        if (n != 2 + 28 + 1316 || buf[0] != 6)
          m->bad++;
        m->counts[i]++;
        g_cond_broadcast (&m->cond);
        g_mutex_unlock (&m->lock);
      }
    }
  }
  g_free (buf);
  return NULL;
}

GST_START_TEST (test_many_gateways)
{
  Relay *r = relay_new ("max-gateways-per-host=0");
  Gw *gws[MANY];
  Many m = { 0 };
  GThread *thread;
  gint64 start, end;
  guint i, lowest;

  for (i = 0; i < MANY; i++) {
    gws[i] = gw_new (r);
    gw_join (gws[i], MCP_IGMP_CHANGE_TO_EXCLUDE, "239.1.1.1", NULL);
  }
  relay_wait_subs (r, "239.1.1.1:1-65535");
  fail_unless_equals_int (relay_gateways (r), MANY);
  m.gws = gws;
  g_mutex_init (&m.lock);
  g_cond_init (&m.cond);
  thread = g_thread_new ("gateways", many_reader, &m);
  start = g_get_monotonic_time ();
  for (i = 0; i < MANY_DATAGRAMS; i++) {
    gint64 due = start + i * 1000;

    if (g_get_monotonic_time () < due)
      g_usleep (due - g_get_monotonic_time ());
    relay_push (r, i, 1316, "10.0.0.1", "239.1.1.1", 5004);
  }
  end = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  g_mutex_lock (&m.lock);
  for (;;) {
    for (i = 0, lowest = G_MAXUINT; i < MANY; i++)
      lowest = MIN (lowest, m.counts[i]);
    if (lowest >= MANY_DATAGRAMS || !g_cond_wait_until (&m.cond, &m.lock, end))
      break;
  }
  g_mutex_unlock (&m.lock);
  g_atomic_int_set (&m.stop, TRUE);
  g_thread_join (thread);
  fail_unless_equals_int (m.bad, 0);
  fail_unless_equals_int (lowest, MANY_DATAGRAMS);
  fail_unless_equals_uint64 (relay_stat (r, "datagrams-sent"),
      MANY * MANY_DATAGRAMS);
  fail_unless_equals_uint64 (relay_stat (r, "datagrams-dropped"), 0);
  g_mutex_clear (&m.lock);
  g_cond_clear (&m.cond);
  for (i = 0; i < MANY; i++)
    gw_free (gws[i]);
  relay_free (r);
}

GST_END_TEST;

/* The operator's log: a gateway is a client from its first valid Update
 * (mcastproxy-client-added) until its Teardown, its expiry or the stop
 * (mcastproxy-client-removed with why), on the pipeline's bus in order.
 * A leave, a refresh or a forged Update changes nothing there. */
#define GW_ADDED "mcastproxy-client-added, address=(string)\"%s\""
#define GW_REMOVED "mcastproxy-client-removed, address=(string)\"%s\", " \
    "reason=(string)%s"

GST_START_TEST (test_gateway_messages)
{
  Relay *r = relay_new ("gateway-timeout=300000000");
  GstBus *bus = gst_pipeline_get_bus (GST_PIPELINE (r->pipeline));
  Gw *g = gw_new (r), *g2 = gw_new (r);
  gchar *name = g_strdup_printf ("127.0.0.1:%u", g->port);
  gchar *name2 = g_strdup_printf ("127.0.0.1:%u", g2->port);

  /* a forged Update makes no gateway */
  gw_request (g, FALSE, NULL);
  gw_update_with (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL, g->mac + 1,
      g->nonce);
  gw_request (g, FALSE, NULL);
  mcp_test_assert_no_event (bus);

  gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  mcp_test_expect_event (bus, GW_ADDED, name);
  /* another group, and the host leaving the first: the same gateway (the
   * Updates go with the last Query, within its Request rate) */
  gw_update (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.2", NULL);
  gw_update (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.2", NULL);
  gw_update (g, MCP_IGMP_CHANGE_TO_INCLUDE, "239.1.1.1", NULL);
  relay_wait_subs (r, "239.1.1.2:1-65535");
  mcp_test_assert_no_event (bus);

  gw_teardown (g);
  mcp_test_expect_event (bus, GW_REMOVED, name, "teardown");
  relay_wait_subs (r, "");

  /* no Update for gateway-timeout */
  gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  mcp_test_expect_event (bus, GW_ADDED, name);
  mcp_test_expect_event (bus, GW_REMOVED, name, "expired");
  fail_unless_equals_uint64 (relay_stat (r, "expired"), 1);

  /* those kept when it stops (kept for long) */
  g_object_set (r->relay, "gateway-timeout", G_GUINT64_CONSTANT (0), NULL);
  gw_join (g, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  gw_join (g2, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1", NULL);
  mcp_test_expect_event (bus, GW_ADDED, name);
  mcp_test_expect_event (bus, GW_ADDED, name2);
  /* (told at READY->NULL, when a pipeline flushes its bus: unless told
   * not to) */
  g_object_set (r->pipeline, "auto-flush-bus", FALSE, NULL);
  fail_unless (gst_element_set_state (r->pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  mcp_test_expect_event (bus, GW_REMOVED, name, "stopping");
  mcp_test_expect_event (bus, GW_REMOVED, name2, "stopping");
  mcp_test_assert_no_event (bus);

  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  g_free (name);
  g_free (name2);
  gw_free (g);
  gw_free (g2);
  relay_free (r);
}

GST_END_TEST;

static Suite *
amtrelay_suite (void)
{
  Suite *s = suite_create ("amtrelay");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_defaults);
  tcase_add_test (tc, test_wildcard_needs_advertise);
  tcase_add_test (tc, test_discovery);
  tcase_add_test (tc, test_discovery_address);
  tcase_add_test (tc, test_request_query);
  tcase_add_test (tc, test_ssm_and_asm);
  tcase_add_test (tc, test_bad_input);
  tcase_add_test (tc, test_leave_teardown_expiry);
  tcase_add_test (tc, test_limits);
  tcase_add_test (tc, test_allow);
  tcase_add_test (tc, test_changed_while_playing);
  tcase_add_test (tc, test_rate);
  tcase_add_test (tc, test_ipv6);
  tcase_add_test (tc, test_query_answer);
  tcase_add_test (tc, test_many_gateways);
  tcase_add_test (tc, test_limit_per_host);
  tcase_add_test (tc, test_rate_known_gateway);
  tcase_add_test (tc, test_warnings_bounded);
  tcase_add_test (tc, test_stale_teardown);
  tcase_add_test (tc, test_coalesce);
  tcase_add_test (tc, test_wildcard_and_discovery_address);
  tcase_add_test (tc, test_long_rotate_interval);
  tcase_add_test (tc, test_gateway_messages);
  return s;
}

GST_CHECK_MAIN (amtrelay);
