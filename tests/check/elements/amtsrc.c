/* mcastproxy — amtsrc element tests: the test plays the AMT relay (RFC
 * 7450) itself, on a plain UDP socket on the loopback of its private
 * network namespace, and checks every message the gateway sends. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/base/gstbasesrc.h>
#include <gst/net/gstnetaddressmeta.h>
#include <time.h>

#include "gstmcpmeta.h"
#include "mcp-amt.h"
#include "mcp-check-util.h"
#include "mcp-igmp.h"
#include "mcp-ippkt.h"

#define STATS "amtsrc-stats"
#define TEST_MAC G_GUINT64_CONSTANT (0x0123456789ab)
/* the original sender of the data, inside the tunnel */
#define SOURCE4 "198.51.100.7"
#define SOURCE6 "2001:db8::7"
#define SOURCE_PORT 40000

/* ---- the test's relay -------------------------------------------------- */

typedef struct
{
  GSocket *sock;
  guint8 family;                /* the tunnel's: 4 or 6 */
  guint port;
  GSocketAddress *gateway;      /* where the last message came from */
  guint32 discovery_nonce;
  guint32 request_nonce;
  guint32 unanswered;           /* a Request nonce the relay ignores */
  guint64 mac;
  gboolean l_flag;              /* Queries say the relay is full */
  guint16 g_port_delta;         /* added to the port of a Query's G */
  GBytes *last_update;          /* the last Update expected */
  guint8 buf[65536];
  gsize len;
  guint skipped;                /* retransmissions passed over */
} Relay;

static const gchar *
loopback (guint8 family)
{
  return family == 6 ? "::1" : "127.0.0.1";
}

static void
relay_init (Relay * r, guint8 family)
{
  GInetAddress *a = g_inet_address_new_from_string (loopback (family));
  GSocketAddress *sa = g_inet_socket_address_new (a, 0);

  memset (r, 0, sizeof (*r));
  r->family = family;
  r->sock = g_socket_new (family == 6 ? G_SOCKET_FAMILY_IPV6 :
      G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
      NULL);
  fail_unless (r->sock != NULL);
  fail_unless (g_socket_bind (r->sock, sa, FALSE, NULL));
  /* a wait for the gateway fails the test rather than hang it */
  g_socket_set_timeout (r->sock, 20);
  r->port = mcp_test_local_port (r->sock);
  r->mac = TEST_MAC;
  g_object_unref (sa);
  g_object_unref (a);
}

static void
relay_clear (Relay * r)
{
  g_clear_object (&r->gateway);
  g_clear_object (&r->sock);
  g_clear_pointer (&r->last_update, g_bytes_unref);
}

/* The next message from the gateway, whatever it is. */
static McpAmtMessage
relay_recv (Relay * r)
{
  McpAmtMessage m;
  GError *err = NULL;
  gssize n;

  g_clear_object (&r->gateway);
  n = g_socket_receive_from (r->sock, &r->gateway, (gchar *) r->buf,
      sizeof (r->buf), NULL, &err);
  fail_unless (n >= 0, "nothing from the gateway: %s", err ? err->message :
      "?");
  r->len = n;
  fail_unless (mcp_amt_parse (r->buf, r->len, &m, &err), "bad message: %s",
      err ? err->message : "?");
  return m;
}

/* Whether the message received is the last Update expected, again. */
static gboolean
relay_is_repeat (Relay * r)
{
  return r->last_update && g_bytes_get_size (r->last_update) == r->len
      && memcmp (g_bytes_get_data (r->last_update, NULL), r->buf, r->len) == 0;
}

/* The next message of that type; retransmitted Discoveries and Requests
 * before it (a loaded machine answers late) and repeats of the last Update
 * expected are passed over. */
static McpAmtMessage
relay_expect (Relay * r, McpAmtType type)
{
  for (;;) {
    McpAmtMessage m = relay_recv (r);

    if (m.type == MCP_AMT_MEMBERSHIP_UPDATE && relay_is_repeat (r)) {
      r->skipped++;
      continue;
    }
    if (m.type == type) {
      if (type == MCP_AMT_MEMBERSHIP_UPDATE) {
        g_clear_pointer (&r->last_update, g_bytes_unref);
        r->last_update = g_bytes_new (r->buf, r->len);
      }
      return m;
    }
    fail_unless ((m.type == MCP_AMT_RELAY_DISCOVERY
            && m.nonce == r->discovery_nonce) || (m.type == MCP_AMT_REQUEST
            && (m.nonce == r->request_nonce || m.nonce == r->unanswered)),
        "expected %s, got %s", mcp_amt_type_name (type),
        mcp_amt_type_name (m.type));
    r->skipped++;
  }
}

/* The next Request with a new nonce, which becomes request_nonce. */
static McpAmtMessage
relay_expect_new_request (Relay * r)
{
  for (;;) {
    McpAmtMessage m = relay_expect (r, MCP_AMT_REQUEST);

    if (m.nonce != r->request_nonce) {
      r->request_nonce = m.nonce;
      return m;
    }
    r->skipped++;
  }
}

static void
relay_send (Relay * r, const McpAmtMessage * m)
{
  GBytes *b = mcp_amt_build (m);
  gsize len;
  const gchar *data = g_bytes_get_data (b, &len);

  fail_unless_equals_int (g_socket_send_to (r->sock, r->gateway, data, len,
          NULL, NULL), len);
  g_bytes_unref (b);
}

static void
relay_send_raw (Relay * r, const guint8 * data, gsize len)
{
  fail_unless_equals_int (g_socket_send_to (r->sock, r->gateway,
          (const gchar *) data, len, NULL, NULL), len);
}

static void
addr_bytes (const gchar * text, guint8 * out)
{
  GInetAddress *a = g_inet_address_new_from_string (text);

  fail_unless (a != NULL, "%s", text);
  memset (out, 0, 16);
  memcpy (out, g_inet_address_to_bytes (a), g_inet_address_get_native_size (a));
  g_object_unref (a);
}

static void
relay_send_advertisement (Relay * r, guint32 nonce)
{
  McpAmtMessage adv = { 0 };

  adv.type = MCP_AMT_RELAY_ADVERTISEMENT;
  adv.nonce = nonce;
  adv.family = r->family;
  addr_bytes (loopback (r->family), adv.address);
  relay_send (r, &adv);
}

/* Takes a Discovery and advertises itself, with the nonce given (0: the
 * Discovery's). */
static void
relay_advertise (Relay * r, guint32 nonce)
{
  McpAmtMessage m = relay_expect (r, MCP_AMT_RELAY_DISCOVERY);

  r->discovery_nonce = m.nonce;
  relay_send_advertisement (r, nonce ? nonce : m.nonce);
}

/* A Membership Query for nonce carrying an IGMPv3 or MLDv2 general query
 * with QQI qqi s, with the gateway's address when g_flag (its port plus
 * g_port_delta), L when l_flag. */
static void
relay_send_query (Relay * r, guint8 group_family, guint32 nonce, guint qqi,
    gboolean g_flag)
{
  GSocketFamily fam = group_family == 6 ? G_SOCKET_FAMILY_IPV6 :
      G_SOCKET_FAMILY_IPV4;
  McpIgmpMessage *q = mcp_igmp_query_new (fam, group_family == 6 ? 2 : 3,
      NULL);
  GBytes *query, *pkt;
  guint8 src[16], dst[16];
  McpAmtMessage m = { 0 };
  GInetSocketAddress *gw = G_INET_SOCKET_ADDRESS (r->gateway);

  q->qqi = qqi;
  query = mcp_igmp_build_query (q, NULL);
  fail_unless (query != NULL);
  addr_bytes (group_family == 6 ? "fe80::1" : "192.0.2.1", src);
  addr_bytes (group_family == 6 ? "ff02::1" : "224.0.0.1", dst);
  pkt = mcp_ippkt_wrap_membership (group_family, src, dst,
      g_bytes_get_data (query, NULL), g_bytes_get_size (query));
  m.type = MCP_AMT_MEMBERSHIP_QUERY;
  m.mac = r->mac;
  m.nonce = nonce;
  m.inner = g_bytes_get_data (pkt, &m.inner_len);
  m.g_flag = g_flag;
  m.l_flag = r->l_flag;
  if (g_flag) {
    GInetAddress *a = g_inet_socket_address_get_address (gw);

    m.family = r->family;
    memcpy (m.address, g_inet_address_to_bytes (a),
        g_inet_address_get_native_size (a));
    m.port = g_inet_socket_address_get_port (gw) + r->g_port_delta;
  }
  relay_send (r, &m);
  g_bytes_unref (pkt);
  g_bytes_unref (query);
  mcp_igmp_message_free (q);
}

/* Takes a Request (P when the group is IPv6) and answers it. */
static void
relay_answer_request (Relay * r, guint8 group_family, guint qqi,
    gboolean g_flag)
{
  McpAmtMessage m = relay_expect (r, MCP_AMT_REQUEST);

  fail_unless_equals_int (m.p_flag, group_family == 6);
  r->request_nonce = m.nonce;
  relay_send_query (r, group_family, m.nonce, qqi, g_flag);
}

/* The next message must be an Update echoing mac and nonce whose report
 * has one record: type, group, and source (NULL: none). */
static void
relay_expect_update_for (Relay * r, guint64 mac, guint32 nonce,
    guint8 group_family, McpIgmpRecordType type, const gchar * group,
    const gchar * source)
{
  McpAmtMessage m = relay_expect (r, MCP_AMT_MEMBERSHIP_UPDATE);
  McpIpPacket ip;
  McpIgmpMessage *rep;
  const McpIgmpRecord *rec;
  GError *err = NULL;
  gchar *text;

  fail_unless_equals_uint64 (m.mac, mac);
  fail_unless_equals_int (m.nonce, nonce);
  fail_unless (mcp_ippkt_parse (m.inner, m.inner_len, &ip, &err), "%s",
      err ? err->message : "");
  fail_unless_equals_int (ip.family, group_family);
  fail_unless_equals_int (ip.ttl, 1);
  fail_unless (ip.router_alert);
  {
    guint8 want[16];

    addr_bytes (group_family == 6 ? "ff02::16" : "224.0.0.22", want);
    fail_unless (memcmp (ip.dst, want, group_family == 6 ? 16 : 4) == 0);
  }
  rep = group_family == 6 ? mcp_mld_parse (ip.payload, ip.payload_len, &err)
      : mcp_igmp_parse (ip.payload, ip.payload_len, &err);
  fail_unless (rep != NULL, "%s", err ? err->message : "");
  fail_unless_equals_int (rep->kind, MCP_IGMP_REPORT);
  fail_unless_equals_int (rep->records->len, 1);
  rec = &g_array_index (rep->records, McpIgmpRecord, 0);
  fail_unless_equals_int (rec->type, type);
  text = g_inet_address_to_string (rec->group);
  fail_unless_equals_string (text, group);
  g_free (text);
  fail_unless_equals_int (rec->sources->len, source ? 1 : 0);
  if (source) {
    text = g_inet_address_to_string (g_ptr_array_index (rec->sources, 0));
    fail_unless_equals_string (text, source);
    g_free (text);
  }
  mcp_igmp_message_free (rep);
}

/* The same, echoing the relay's current MAC and nonce. */
static void
relay_expect_update (Relay * r, guint8 group_family, McpIgmpRecordType type,
    const gchar * group, const gchar * source)
{
  relay_expect_update_for (r, r->mac, r->request_nonce, group_family, type,
      group, source);
}

/* Multicast Data: datagram n (mcp_test_buffer content) of size bytes from
 * source:sport to group:dport, its UDP checksum right, or wrong when
 * corrupt. */
static GBytes *
data_message (const gchar * source, guint sport, const gchar * group,
    guint dport, guint n, gsize size, gboolean corrupt)
{
  GstBuffer *payload = mcp_test_buffer (n, size);
  guint8 src[16], dst[16], *msg;
  GstMapInfo map;
  gsize hl, len;
  guint8 family = strchr (group, ':') ? 6 : 4;

  addr_bytes (source, src);
  addr_bytes (group, dst);
  gst_buffer_map (payload, &map, GST_MAP_READ);
  msg = g_malloc (MCP_AMT_DATA_HEADER_LEN + MCP_IPPKT_UDP_HEADERS_MAX + size);
  mcp_amt_write_data_header (msg);
  hl = mcp_ippkt_write_udp (msg + MCP_AMT_DATA_HEADER_LEN, family, src,
      sport, dst, dport, 16, n, size, mcp_ippkt_sum (map.data, size, 0));
  fail_unless (hl > 0);
  if (size > 0)                 /* an empty buffer maps to NULL */
    memcpy (msg + MCP_AMT_DATA_HEADER_LEN + hl, map.data, size);
  len = MCP_AMT_DATA_HEADER_LEN + hl + size;
  if (corrupt)
    msg[len - 1] ^= 0x40;
  gst_buffer_unmap (payload, &map);
  gst_buffer_unref (payload);
  return g_bytes_new_take (msg, len);
}

static void
relay_send_data_full (Relay * r, const gchar * source, guint sport,
    const gchar * group, guint dport, guint n, gsize size, gboolean corrupt)
{
  GBytes *msg = data_message (source, sport, group, dport, n, size, corrupt);
  gsize len;
  const guint8 *data = g_bytes_get_data (msg, &len);

  relay_send_raw (r, data, len);
  g_bytes_unref (msg);
}

static void
relay_send_data (Relay * r, const gchar * source, const gchar * group,
    guint dport, guint n, gsize size)
{
  relay_send_data_full (r, source, SOURCE_PORT, group, dport, n, size, FALSE);
}

/* ---- the gateway -------------------------------------------------------- */

typedef struct
{
  GstHarness *h;
  Relay relay;
} Fixture;

/* An amtsrc toward the test's relay with the given properties (gst-launch
 * syntax), playing. */
static void
setup (Fixture * f, guint8 tunnel_family, const gchar * props)
{
  GstElement *src = gst_element_factory_make ("amtsrc", NULL);
  gchar *port;

  fail_unless (src != NULL);
  relay_init (&f->relay, tunnel_family);
  port = g_strdup_printf ("%u", f->relay.port);
  g_object_set (src, "relay", loopback (tunnel_family), NULL);
  gst_util_set_object_arg (G_OBJECT (src), "relay-port", port);
  mcp_test_set_props (src, props);
  f->h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  g_free (port);
  gst_harness_play (f->h);
}

static void
teardown (Fixture * f)
{
  gst_harness_teardown (f->h);
  relay_clear (&f->relay);
}

/* Discovery, Request, Query, Update: joined. */
static void
join (Fixture * f, guint8 group_family, const gchar * group,
    const gchar * source, gboolean g_flag)
{
  relay_advertise (&f->relay, 0);
  relay_answer_request (&f->relay, group_family, 125, g_flag);
  relay_expect_update (&f->relay, group_family, source ?
      MCP_IGMP_MODE_IS_INCLUDE : MCP_IGMP_MODE_IS_EXCLUDE, group, source);
}

static guint64
stat (Fixture * f, const gchar * field)
{
  return mcp_test_stat (f->h->element, STATS, field);
}

static gchar *
stat_string (Fixture * f, const gchar * field)
{
  GstStructure *s = mcp_test_stats (f->h->element, STATS);
  gchar *v = g_strdup (gst_structure_get_string (s, field));

  gst_structure_free (s);
  fail_unless (v != NULL, "no field %s", field);
  return v;
}

#define SEQ_LOW(s) ((s) & G_GUINT64_CONSTANT (0xffffffffff))

/* The next buffer is datagram n of size bytes from source:SOURCE_PORT to
 * group:port, number seq of the run. */
static void
pull_datagram (Fixture * f, guint n, gsize size, const gchar * group,
    guint port, const gchar * source, guint64 seq)
{
  GstBuffer *buf = gst_harness_pull (f->h);
  GstMcpMeta *m;
  GstNetAddressMeta *nam;
  guint8 g[16], s[16];
  guint64 now = (guint64) g_get_real_time () * 1000;
  gchar *text;
  guint8 family = strchr (group, ':') ? 6 : 4;

  fail_unless (buf != NULL, "no buffer");
  mcp_test_assert_buffer (buf, n, size);
  fail_unless (GST_BUFFER_PTS_IS_VALID (buf));
  m = gst_buffer_get_mcp_meta (buf);
  fail_unless (m != NULL, "no GstMcpMeta");
  addr_bytes (group, g);
  addr_bytes (source, s);
  fail_unless_equals_int (m->info.family, family);
  fail_unless (memcmp (m->info.group, g, 16) == 0);
  fail_unless_equals_int (m->info.port, port);
  fail_unless (memcmp (m->info.source, s, 16) == 0);
  fail_unless_equals_int (m->info.source_port, SOURCE_PORT);
  fail_unless_equals_uint64 (SEQ_LOW (m->info.seq), seq);
  fail_unless_equals_int (m->info.hops, 0);
  fail_unless (m->info.capture_time > 0 && m->info.capture_time <= now);
  fail_unless (m->info.capture_time + 60 * GST_SECOND > now);
  nam = gst_buffer_get_net_address_meta (buf);
  fail_unless (nam != NULL, "no GstNetAddressMeta");
  text = g_inet_address_to_string (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (nam->addr)));
  fail_unless_equals_string (text, source);
  g_free (text);
  fail_unless_equals_int (g_inet_socket_address_get_port
      (G_INET_SOCKET_ADDRESS (nam->addr)), SOURCE_PORT);
  gst_buffer_unref (buf);
}

static const gsize sizes[] = { 0, 1, 1316, 9000 };

/* ---- properties and states --------------------------------------------- */

GST_START_TEST (test_defaults_and_properties)
{
  GstElement *src = gst_check_setup_element ("amtsrc");
  gchar *address, *source, *relay, *disc;
  guint port, relay_port, current, tries;
  gint buffer_size;
  guint64 timeout, retransmit, peer_id, interval;
  GstCaps *caps, *want;

  g_object_get (src, "address", &address, "port", &port, "multicast-source",
      &source, "relay", &relay, "relay-port", &relay_port,
      "discovery-address", &disc, "current-port", &current, "buffer-size",
      &buffer_size, "timeout", &timeout, "retransmit-interval", &retransmit,
      "request-tries", &tries, "peer-id", &peer_id, "stats-interval",
      &interval, "caps", &caps, NULL);
  fail_unless_equals_string (address, "239.255.0.1");
  fail_unless_equals_int (port, 5004);
  fail_unless (source == NULL);
  fail_unless (relay == NULL);
  fail_unless_equals_int (relay_port, 2268);
  fail_unless_equals_string (disc, "192.52.193.1");
  fail_unless_equals_int (current, 0);
  fail_unless_equals_int (buffer_size, 4194304);
  fail_unless_equals_uint64 (timeout, 0);
  fail_unless_equals_uint64 (retransmit, GST_SECOND);
  fail_unless_equals_int (tries, 3);
  fail_unless_equals_uint64 (peer_id, 0);
  fail_unless_equals_uint64 (interval, 0);
  fail_unless (caps == NULL);
  fail_unless (gst_base_src_is_live (GST_BASE_SRC (src)));
  g_free (address);
  g_free (disc);

  want = gst_caps_from_string ("video/mpegts");
  g_object_set (src, "address", "ff3e::8000:1", "port", 6000,
      "multicast-source", "2001:db8::1", "relay", "relay.example.net",
      "relay-port", 2269, "discovery-address", "192.0.2.1", "buffer-size",
      1000, "timeout", (guint64) GST_SECOND, "retransmit-interval",
      (guint64) (10 * GST_MSECOND), "request-tries", 5, "peer-id",
      (guint64) 77, "stats-interval", (guint64) GST_SECOND, "caps", want, NULL);
  g_object_get (src, "address", &address, "port", &port, "multicast-source",
      &source, "relay", &relay, "relay-port", &relay_port,
      "discovery-address", &disc, "buffer-size", &buffer_size, "timeout",
      &timeout, "retransmit-interval", &retransmit, "request-tries", &tries,
      "peer-id", &peer_id, "stats-interval", &interval, "caps", &caps, NULL);
  fail_unless_equals_string (address, "ff3e::8000:1");
  fail_unless_equals_int (port, 6000);
  fail_unless_equals_string (source, "2001:db8::1");
  fail_unless_equals_string (relay, "relay.example.net");
  fail_unless_equals_int (relay_port, 2269);
  fail_unless_equals_string (disc, "192.0.2.1");
  fail_unless_equals_int (buffer_size, 1000);
  fail_unless_equals_uint64 (timeout, GST_SECOND);
  fail_unless_equals_uint64 (retransmit, 10 * GST_MSECOND);
  fail_unless_equals_int (tries, 5);
  fail_unless_equals_uint64 (peer_id, 77);
  fail_unless_equals_uint64 (interval, GST_SECOND);
  fail_unless (caps != NULL && gst_caps_is_equal (caps, want));
  gst_caps_unref (caps);
  gst_caps_unref (want);
  g_free (address);
  g_free (source);
  g_free (relay);
  g_free (disc);
  gst_check_teardown_element (src);
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  GstElement *src = gst_check_setup_element ("amtsrc");
  GstStructure *s;
  guint port, i;

  /* the default discovery address: not reachable here, and no matter */
  for (i = 0; i < 3; i++) {
    fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    g_object_get (src, "current-port", &port, NULL);
    fail_unless (port > 0);
    fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PAUSED),
        GST_STATE_CHANGE_NO_PREROLL);
    fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PLAYING),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (src, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    g_object_get (src, "current-port", &port, NULL);
    fail_unless_equals_int (port, 0);
  }
  s = mcp_test_stats (src, STATS);
  fail_unless_equals_string (gst_structure_get_string (s, "state"), "stopped");
  gst_structure_free (s);
  gst_check_teardown_element (src);
}

GST_END_TEST;

GST_START_TEST (test_bad_settings_are_errors)
{
  GstElement *src = gst_element_factory_make ("amtsrc", NULL);

  gst_object_ref_sink (src);
  g_object_set (src, "relay", "no-such-relay.invalid", NULL);
  mcp_test_assert_state_error (src, GST_STATE_READY,
      "Could not resolve the AMT relay \"no-such-relay.invalid\"");
  g_object_set (src, "relay", "127.0.0.1", "address", "10.1.1.1", NULL);
  mcp_test_assert_state_error (src, GST_STATE_READY,
      "Invalid multicast address");
  g_object_set (src, "address", "232.1.1.1", "multicast-source",
      "2001:db8::1", NULL);
  mcp_test_assert_state_error (src, GST_STATE_READY,
      "Invalid multicast-source");
  g_object_set (src, "multicast-source", "10.0.0.1", "relay-port", 0, NULL);
  mcp_test_assert_state_error (src, GST_STATE_READY,
      "Invalid value of property \"relay-port\"");
  gst_object_unref (src);
}

GST_END_TEST;

/* ---- the protocol and data --------------------------------------------- */

/* (S,G) INCLUDE; every size comes out exact, with mcastsrc-relay's
 * metadata; the counters say so. */
static void
check_ssm (guint8 tunnel_family, guint8 group_family)
{
  const gchar *group = group_family == 6 ? "ff3e::8000:1" : "232.1.2.3";
  const gchar *source = group_family == 6 ? SOURCE6 : SOURCE4;
  Fixture f;
  /* (no repeat of the join Update in the test's time: one Update) */
  gchar *props = g_strdup_printf ("address=%s multicast-source=%s port=5004 "
      "caps=application/x-test retransmit-interval=60000000000", group,
      source);
  gchar *text, *want;
  guint64 bytes = 0;
  guint i;
  GstCaps *caps;

  setup (&f, tunnel_family, props);
  join (&f, group_family, group, source, FALSE);
  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    relay_send_data (&f.relay, source, group, 5004, i, sizes[i]);
    pull_datagram (&f, i, sizes[i], group, 5004, source, i);
    bytes += sizes[i];
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (f.h), 0);
  fail_unless_equals_uint64 (stat (&f, "datagrams-received"),
      G_N_ELEMENTS (sizes));
  fail_unless_equals_uint64 (stat (&f, "bytes-received"), bytes);
  fail_unless_equals_uint64 (stat (&f, "datagrams-dropped"), 0);
  fail_unless_equals_uint64 (stat (&f, "queries"), 1);
  fail_unless_equals_uint64 (stat (&f, "updates"), 1);
  fail_unless_equals_uint64 (stat (&f, "query-interval-duration"),
      125 * GST_SECOND);
  text = stat_string (&f, "state");
  fail_unless_equals_string (text, "joined");
  g_free (text);
  text = stat_string (&f, "relay");
  want = g_strdup_printf (tunnel_family == 6 ? "[::1]:%u" : "127.0.0.1:%u",
      f.relay.port);
  fail_unless_equals_string (text, want);
  g_free (text);
  g_free (want);
  caps = gst_pad_get_current_caps (f.h->sinkpad);
  fail_unless (caps != NULL);
  gst_caps_unref (caps);
  teardown (&f);
  g_free (props);
}

GST_START_TEST (test_ssm_ipv4)
{
  check_ssm (4, 4);
}

GST_END_TEST;

GST_START_TEST (test_ssm_ipv6)
{
  check_ssm (6, 6);
}

GST_END_TEST;

/* an IPv6 group through an IPv4 tunnel: P flag, MLDv2 */
GST_START_TEST (test_ipv6_group_ipv4_tunnel)
{
  check_ssm (4, 6);
}

GST_END_TEST;

/* (*,G) EXCLUDE {}: data from any source. */
GST_START_TEST (test_any_source)
{
  Fixture f;

  setup (&f, 4, "address=239.1.1.1 port=5004");
  join (&f, 4, "239.1.1.1", NULL, FALSE);
  relay_send_data (&f.relay, SOURCE4, "239.1.1.1", 5004, 1, 1316);
  pull_datagram (&f, 1, 1316, "239.1.1.1", 5004, SOURCE4, 0);
  relay_send_data (&f.relay, "203.0.113.9", "239.1.1.1", 5004, 2, 100);
  pull_datagram (&f, 2, 100, "239.1.1.1", 5004, "203.0.113.9", 1);
  teardown (&f);
}

GST_END_TEST;

/* Whatever is not good data for us is dropped and counted, and good data
 * still flows. The gateway reads its socket in order, so once the good
 * datagram after them is out, the bad ones were counted. */
GST_START_TEST (test_bad_input_dropped)
{
  static const guint8 garbage[] = { 0xde, 0xad };
  static const guint8 version1[] = { 0x16, 0, 0x45, 0 };
  static const guint8 type9[] = { 0x09, 0, 0, 0, 0, 0, 0, 0 };
  static const guint8 bad_ip[] = { 0x06, 0, 0x45, 0, 0, 20 };
  Fixture f;
  GSocket *other;
  McpAmtMessage adv = { 0 };
  guint n = 0;

  setup (&f, 4, "address=232.1.1.1 multicast-source=" SOURCE4 " port=5004");
  join (&f, 4, "232.1.1.1", SOURCE4, FALSE);
  relay_send_data (&f.relay, SOURCE4, "232.1.1.1", 5004, n, 10);
  pull_datagram (&f, n, 10, "232.1.1.1", 5004, SOURCE4, n);
  n++;

  /* foreign: another port, group, source */
  relay_send_data (&f.relay, SOURCE4, "232.1.1.1", 5005, 100, 10);
  relay_send_data (&f.relay, SOURCE4, "232.1.1.2", 5004, 101, 10);
  relay_send_data (&f.relay, "198.51.100.8", "232.1.1.1", 5004, 102, 10);
  /* foreign: a stale Advertisement; a Query with no Request pending */
  adv.type = MCP_AMT_RELAY_ADVERTISEMENT;
  adv.nonce = f.relay.discovery_nonce;
  adv.family = 4;
  addr_bytes ("127.0.0.1", adv.address);
  relay_send (&f.relay, &adv);
  relay_send_query (&f.relay, 4, f.relay.request_nonce, 125, FALSE);
  /* foreign: good data, but not from the relay */
  other = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  {
    guint8 msg[2 + 28 + 4] = { 0 }, src[16], dst[16];

    addr_bytes (SOURCE4, src);
    addr_bytes ("232.1.1.1", dst);
    mcp_amt_write_data_header (msg);
    mcp_ippkt_write_udp (msg + 2, 4, src, SOURCE_PORT, dst, 5004, 16, 0, 4, 0);
    fail_unless_equals_int (g_socket_send_to (other, f.relay.gateway,
            (const gchar *) msg, sizeof (msg), NULL, NULL), sizeof (msg));
  }
  /* malformed: garbage, version 1, type 9, a broken IP packet, a bad UDP
   * checksum, a Request (a relay's message) */
  relay_send_raw (&f.relay, garbage, sizeof (garbage));
  relay_send_raw (&f.relay, version1, sizeof (version1));
  relay_send_raw (&f.relay, type9, sizeof (type9));
  relay_send_raw (&f.relay, bad_ip, sizeof (bad_ip));
  relay_send_data_full (&f.relay, SOURCE4, SOURCE_PORT, "232.1.1.1", 5004,
      103, 50, TRUE);
  {
    McpAmtMessage req = { 0 };

    req.type = MCP_AMT_REQUEST;
    req.nonce = 5;
    relay_send (&f.relay, &req);
  }

  relay_send_data (&f.relay, SOURCE4, "232.1.1.1", 5004, n, 1316);
  pull_datagram (&f, n, 1316, "232.1.1.1", 5004, SOURCE4, n);
  n++;
  fail_unless_equals_uint64 (stat (&f, "dropped-foreign"), 6);
  fail_unless_equals_uint64 (stat (&f, "dropped-malformed"), 6);
  fail_unless_equals_uint64 (stat (&f, "datagrams-dropped"), 12);
  fail_unless_equals_uint64 (stat (&f, "datagrams-received"), n);
  fail_unless_equals_int (gst_harness_buffers_in_queue (f.h), 0);
  g_object_unref (other);
  teardown (&f);
}

GST_END_TEST;

/* Port 0 takes every port of the group; the meta says which. */
GST_START_TEST (test_any_port)
{
  Fixture f;

  setup (&f, 4, "address=239.1.1.1 port=0");
  join (&f, 4, "239.1.1.1", NULL, FALSE);
  relay_send_data (&f.relay, SOURCE4, "239.1.1.1", 5004, 1, 10);
  pull_datagram (&f, 1, 10, "239.1.1.1", 5004, SOURCE4, 0);
  relay_send_data (&f.relay, SOURCE4, "239.1.1.1", 6000, 2, 10);
  pull_datagram (&f, 2, 10, "239.1.1.1", 6000, SOURCE4, 1);
  teardown (&f);
}

GST_END_TEST;

/* Advertisements and Queries with the wrong nonce are ignored; the right
 * ones that follow are taken. */
GST_START_TEST (test_wrong_nonce)
{
  Fixture f;
  McpAmtMessage m;

  setup (&f, 4, "address=239.1.1.1 port=5004");
  m = relay_expect (&f.relay, MCP_AMT_RELAY_DISCOVERY);
  f.relay.discovery_nonce = m.nonce;
  {
    McpAmtMessage adv = { 0 };

    adv.type = MCP_AMT_RELAY_ADVERTISEMENT;
    adv.family = 4;
    addr_bytes ("127.0.0.1", adv.address);
    adv.nonce = m.nonce ^ 1;
    relay_send (&f.relay, &adv);
    adv.nonce = m.nonce;
    relay_send (&f.relay, &adv);
  }
  m = relay_expect (&f.relay, MCP_AMT_REQUEST);
  f.relay.request_nonce = m.nonce;
  relay_send_query (&f.relay, 4, m.nonce ^ 0x100, 125, FALSE);
  relay_send_query (&f.relay, 4, m.nonce, 125, FALSE);
  relay_expect_update (&f.relay, 4, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1",
      NULL);
  fail_unless_equals_uint64 (stat (&f, "dropped-foreign"), 2);
  fail_unless_equals_uint64 (stat (&f, "queries"), 1);
  teardown (&f);
}

GST_END_TEST;

/* A relay that does not answer: Discovery again with the same nonce; then
 * Requests, request-tries of them, then discovery starts over. */
GST_START_TEST (test_silent_relay_rediscovery)
{
  Fixture f;
  McpAmtMessage m;
  guint32 nonce;
  guint i;

  setup (&f, 4, "address=239.1.1.1 retransmit-interval=100000000 "
      "request-tries=3");
  m = relay_recv (&f.relay);
  fail_unless_equals_int (m.type, MCP_AMT_RELAY_DISCOVERY);
  nonce = m.nonce;
  m = relay_recv (&f.relay);
  fail_unless_equals_int (m.type, MCP_AMT_RELAY_DISCOVERY);
  fail_unless_equals_int (m.nonce, nonce);
  f.relay.discovery_nonce = nonce;
  {
    McpAmtMessage adv = { 0 };

    adv.type = MCP_AMT_RELAY_ADVERTISEMENT;
    adv.family = 4;
    addr_bytes ("127.0.0.1", adv.address);
    adv.nonce = nonce;
    relay_send (&f.relay, &adv);
  }
  /* (a Discovery may have crossed the Advertisement) */
  do {
    m = relay_recv (&f.relay);
  } while (m.type == MCP_AMT_RELAY_DISCOVERY && m.nonce == nonce);
  for (i = 0; i < 3; i++) {
    fail_unless_equals_int (m.type, MCP_AMT_REQUEST);
    if (i == 0)
      nonce = m.nonce;
    fail_unless_equals_int (m.nonce, nonce);
    m = relay_recv (&f.relay);
  }
  fail_unless_equals_int (m.type, MCP_AMT_RELAY_DISCOVERY);
  fail_unless (m.nonce != f.relay.discovery_nonce);
  fail_unless_equals_uint64 (stat (&f, "rediscoveries"), 1);
  fail_unless_equals_uint64 (stat (&f, "requests"), 3);
  /* it joins the relay found again */
  relay_send_query (&f.relay, 4, nonce, 125, FALSE);    /* too late */
  f.relay.discovery_nonce = m.nonce;
  {
    McpAmtMessage adv = { 0 };

    adv.type = MCP_AMT_RELAY_ADVERTISEMENT;
    adv.family = 4;
    addr_bytes ("127.0.0.1", adv.address);
    adv.nonce = m.nonce;
    relay_send (&f.relay, &adv);
  }
  relay_answer_request (&f.relay, 4, 125, FALSE);
  relay_expect_update (&f.relay, 4, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1",
      NULL);
  relay_send_data (&f.relay, SOURCE4, "239.1.1.1", 5004, 1, 1316);
  pull_datagram (&f, 1, 1316, "239.1.1.1", 5004, SOURCE4, 0);
  teardown (&f);
}

GST_END_TEST;

/* Before the query interval runs out: a new Request (a new nonce), and an
 * Update with the new MAC. */
GST_START_TEST (test_refresh)
{
  Fixture f;
  guint32 first_nonce;

  /* (no repeat of the join Update in the test's time) */
  setup (&f, 4, "address=239.1.1.1 retransmit-interval=60000000000");
  relay_advertise (&f.relay, 0);
  relay_answer_request (&f.relay, 4, 1, FALSE);
  relay_expect_update (&f.relay, 4, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1",
      NULL);
  fail_unless_equals_uint64 (stat (&f, "query-interval-duration"), GST_SECOND);
  first_nonce = f.relay.request_nonce;
  f.relay.mac = TEST_MAC + 1;
  relay_answer_request (&f.relay, 4, 1, FALSE);
  fail_unless (f.relay.request_nonce != first_nonce);
  relay_expect_update (&f.relay, 4, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1",
      NULL);
  fail_unless_equals_uint64 (stat (&f, "queries"), 2);
  fail_unless_equals_uint64 (stat (&f, "updates"), 2);
  teardown (&f);
}

GST_END_TEST;

/* Stop leaves: an Update CHANGE_TO_INCLUDE {}, twice, and a Teardown with
 * the gateway's address when the Query had G. */
static void
check_stop (guint8 family, gboolean g_flag)
{
  const gchar *group = family == 6 ? "ff3e::1" : "239.1.1.1";
  /* (no repeat of the join Update in the test's time) */
  gchar *props = g_strdup_printf ("address=%s "
      "retransmit-interval=60000000000", group);
  Fixture f;
  McpAmtMessage m;

  setup (&f, family, props);
  join (&f, family, group, NULL, g_flag);
  fail_unless_equals_int (gst_element_set_state (f.h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  relay_expect_update (&f.relay, family, MCP_IGMP_CHANGE_TO_INCLUDE, group,
      NULL);
  m = relay_recv (&f.relay);
  fail_unless_equals_int (m.type, MCP_AMT_MEMBERSHIP_UPDATE);
  fail_unless (relay_is_repeat (&f.relay), "the leave is not repeated");
  if (g_flag) {
    GInetSocketAddress *gw;
    guint8 want[16];

    m = relay_expect (&f.relay, MCP_AMT_TEARDOWN);
    gw = G_INET_SOCKET_ADDRESS (f.relay.gateway);
    fail_unless_equals_uint64 (m.mac, f.relay.mac);
    fail_unless_equals_int (m.nonce, f.relay.request_nonce);
    fail_unless_equals_int (m.family, family);
    addr_bytes (loopback (family), want);
    fail_unless (memcmp (m.address, want, 16) == 0);
    fail_unless_equals_int (m.port, g_inet_socket_address_get_port (gw));
  }
  fail_unless_equals_uint64 (mcp_test_stat (f.h->element, STATS,
          "teardowns"), g_flag ? 1 : 0);
  fail_unless_equals_uint64 (mcp_test_stat (f.h->element, STATS, "updates"), 3);
  teardown (&f);
  g_free (props);
}

GST_START_TEST (test_stop_leaves)
{
  check_stop (4, FALSE);
}

GST_END_TEST;

GST_START_TEST (test_stop_tears_down)
{
  check_stop (4, TRUE);
  check_stop (6, TRUE);
}

GST_END_TEST;

/* timeout: a silence of data after a datagram posts one message, as on
 * mcastsrc-relay; the element goes on. */
GST_START_TEST (test_timeout_message)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  Fixture f;
  guint64 before, v = 0;
  guint posted = 0;

  setup (&f, 4, "address=239.1.1.1 timeout=200000000");
  gst_element_set_bus (f.h->element, bus);
  join (&f, 4, "239.1.1.1", NULL, FALSE);
  relay_send_data (&f.relay, SOURCE4, "239.1.1.1", 5004, 1, 10);
  pull_datagram (&f, 1, 10, "239.1.1.1", 5004, SOURCE4, 0);
  /* (a loaded machine may have been silent that long before the join) */
  before = stat (&f, "timeouts");
  while (posted < before + 1) {
    msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
        GST_MESSAGE_ELEMENT);
    fail_unless (msg != NULL, "no mcastproxy-timeout message");
    if (gst_message_has_name (msg, "mcastproxy-timeout")) {
      fail_unless (gst_structure_get_uint64 (gst_message_get_structure (msg),
              "timeout", &v));
      fail_unless_equals_uint64 (v, 200 * GST_MSECOND);
      posted++;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_uint64 (stat (&f, "timeouts"), before + 1);
  /* and data still comes */
  relay_send_data (&f.relay, SOURCE4, "239.1.1.1", 5004, 2, 10);
  pull_datagram (&f, 2, 10, "239.1.1.1", 5004, SOURCE4, 1);
  gst_element_set_bus (f.h->element, NULL);
  gst_object_unref (bus);
  teardown (&f);
}

GST_END_TEST;

/* A relay that does not answer Discovery (a wrong port, here): after
 * request-tries of them one warning names it, and discovery goes on; once
 * it answers, an info message says so and the gateway joins. */
GST_START_TEST (test_unanswered_discovery_told)
{
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *want;
  Fixture f;
  guint i;

  setup (&f, 4, "address=239.1.1.1 retransmit-interval=20000000 "
      "request-tries=3");
  gst_element_set_bus (f.h->element, bus);
  for (i = 0; i < 3; i++)
    fail_unless_equals_int (relay_recv (&f.relay).type,
        MCP_AMT_RELAY_DISCOVERY);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning");
  gst_message_parse_warning (msg, &err, NULL);
  want = g_strdup_printf ("No answer from the AMT relay 127.0.0.1:%u to 3 "
      "Relay Discovery messages; still trying", f.relay.port);
  fail_unless_equals_string (err->message, want);
  g_free (want);
  g_clear_error (&err);
  gst_message_unref (msg);
  /* told once: the next ones pass in silence */
  for (i = 0; i < 2; i++)
    fail_unless_equals_int (relay_recv (&f.relay).type,
        MCP_AMT_RELAY_DISCOVERY);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);
  join (&f, 4, "239.1.1.1", NULL, FALSE);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, GST_MESSAGE_INFO);
  fail_unless (msg != NULL, "no info message");
  gst_message_parse_info (msg, &err, NULL);
  want = g_strdup_printf ("The AMT relay answered: 127.0.0.1:%u", f.relay.port);
  fail_unless_equals_string (err->message, want);
  g_free (want);
  g_clear_error (&err);
  gst_message_unref (msg);
  gst_element_set_bus (f.h->element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  teardown (&f);
}

GST_END_TEST;

/* A relay that is full (L flag): no Update; a new Request after a backoff
 * that doubles; after request-tries refusals, discovery again; a relay
 * that takes us then is joined. */
GST_START_TEST (test_relay_full)
{
  Fixture f;
  McpAmtMessage m;
  gint64 refused = 0;
  gchar *state;
  guint i;

  setup (&f, 4, "address=239.1.1.1 retransmit-interval=100000000 "
      "request-tries=3");
  relay_advertise (&f.relay, 0);
  f.relay.l_flag = TRUE;
  for (i = 0; i < 3; i++) {
    m = relay_expect_new_request (&f.relay);
    if (i > 0)
      fail_unless (g_get_monotonic_time () - refused >= (100000 << i),
          "Request %u came %" G_GINT64_FORMAT " us after the refusal", i,
          g_get_monotonic_time () - refused);
    refused = g_get_monotonic_time ();
    relay_send_query (&f.relay, 4, m.nonce, 125, FALSE);
  }
  /* (an Update before it fails here) */
  m = relay_expect (&f.relay, MCP_AMT_RELAY_DISCOVERY);
  fail_unless (m.nonce != f.relay.discovery_nonce);
  fail_unless (g_get_monotonic_time () - refused >= 800000);
  fail_unless_equals_uint64 (stat (&f, "relay-full"), 3);
  fail_unless_equals_uint64 (stat (&f, "queries"), 3);
  fail_unless_equals_uint64 (stat (&f, "updates"), 0);
  fail_unless_equals_uint64 (stat (&f, "rediscoveries"), 1);
  state = stat_string (&f, "state");
  fail_unless_equals_string (state, "discovering");
  g_free (state);

  /* the relay found takes us */
  f.relay.l_flag = FALSE;
  f.relay.discovery_nonce = m.nonce;
  relay_send_advertisement (&f.relay, m.nonce);
  m = relay_expect_new_request (&f.relay);
  relay_send_query (&f.relay, 4, m.nonce, 125, FALSE);
  relay_expect_update (&f.relay, 4, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1",
      NULL);
  relay_send_data (&f.relay, SOURCE4, "239.1.1.1", 5004, 1, 100);
  pull_datagram (&f, 1, 100, "239.1.1.1", 5004, SOURCE4, 0);
  state = stat_string (&f, "state");
  fail_unless_equals_string (state, "joined");
  g_free (state);
  fail_unless_equals_uint64 (stat (&f, "relay-full"), 3);
  teardown (&f);
}

GST_END_TEST;

/* The join Update is repeated twice, retransmit-interval apart: a relay
 * that lost the first still gets it. */
GST_START_TEST (test_join_update_repeated)
{
  Fixture f;
  McpAmtMessage m;
  gint64 queried;
  guint i;

  setup (&f, 4, "address=239.1.1.1 retransmit-interval=100000000");
  relay_advertise (&f.relay, 0);
  m = relay_expect_new_request (&f.relay);
  queried = g_get_monotonic_time ();
  relay_send_query (&f.relay, 4, m.nonce, 125, FALSE);
  /* the relay loses this one... */
  relay_expect_update (&f.relay, 4, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1",
      NULL);
  /* ... and gets the repeats */
  for (i = 1; i <= 2; i++) {
    do {
      m = relay_recv (&f.relay);
    } while (m.type == MCP_AMT_REQUEST && m.nonce == f.relay.request_nonce);
    fail_unless_equals_int (m.type, MCP_AMT_MEMBERSHIP_UPDATE);
    fail_unless (relay_is_repeat (&f.relay), "repeat %u differs", i);
    fail_unless (g_get_monotonic_time () - queried >= i * 100000,
        "repeat %u came %" G_GINT64_FORMAT " us after the Query", i,
        g_get_monotonic_time () - queried);
  }
  relay_send_data (&f.relay, SOURCE4, "239.1.1.1", 5004, 1, 100);
  pull_datagram (&f, 1, 100, "239.1.1.1", 5004, SOURCE4, 0);
  /* two repeats and no more, and the leave twice at stop */
  fail_unless_equals_int (gst_element_set_state (f.h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  relay_expect_update (&f.relay, 4, MCP_IGMP_CHANGE_TO_INCLUDE, "239.1.1.1",
      NULL);
  fail_unless_equals_uint64 (stat (&f, "updates"), 5);
  teardown (&f);
}

GST_END_TEST;

/* A Query whose G fields name another address or port than the last one
 * (a NAT rebinding): a Teardown of the old one, with the old MAC and
 * nonce, before the Update. */
GST_START_TEST (test_nat_rebinding)
{
  Fixture f;
  McpAmtMessage m;
  guint32 old_nonce;
  guint16 port;
  guint8 want[16];

  setup (&f, 4, "address=239.1.1.1 retransmit-interval=60000000000");
  relay_advertise (&f.relay, 0);
  relay_answer_request (&f.relay, 4, 1, TRUE);
  relay_expect_update (&f.relay, 4, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1",
      NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
      (f.relay.gateway));
  addr_bytes ("127.0.0.1", want);
  /* a refresh that sees the same address: no Teardown (it would fail the
   * expectation of the Update) */
  f.relay.mac = TEST_MAC + 1;
  relay_answer_request (&f.relay, 4, 1, TRUE);
  relay_expect_update (&f.relay, 4, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1",
      NULL);
  fail_unless_equals_uint64 (stat (&f, "teardowns"), 0);

  /* the next one sees another port */
  old_nonce = f.relay.request_nonce;
  f.relay.mac = TEST_MAC + 2;
  f.relay.g_port_delta = 1;
  relay_answer_request (&f.relay, 4, 1, TRUE);
  m = relay_expect (&f.relay, MCP_AMT_TEARDOWN);
  fail_unless_equals_uint64 (m.mac, TEST_MAC + 1);
  fail_unless_equals_int (m.nonce, old_nonce);
  fail_unless_equals_int (m.family, 4);
  fail_unless (memcmp (m.address, want, 16) == 0);
  fail_unless_equals_int (m.port, port);
  relay_expect_update (&f.relay, 4, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1",
      NULL);
  fail_unless_equals_uint64 (stat (&f, "teardowns"), 1);

  /* the Teardown at stop names the new one */
  fail_unless_equals_int (gst_element_set_state (f.h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  relay_expect_update (&f.relay, 4, MCP_IGMP_CHANGE_TO_INCLUDE, "239.1.1.1",
      NULL);
  m = relay_expect (&f.relay, MCP_AMT_TEARDOWN);
  fail_unless_equals_uint64 (m.mac, TEST_MAC + 2);
  fail_unless_equals_int (m.nonce, f.relay.request_nonce);
  fail_unless_equals_int (m.port, (guint16) (port + 1));
  fail_unless_equals_uint64 (stat (&f, "teardowns"), 2);
  teardown (&f);
}

GST_END_TEST;

/* A relay given up is told that we leave (and, after G, a Teardown)
 * before discovery starts over. */
GST_START_TEST (test_rediscovery_leaves_old_relay)
{
  Fixture f;
  McpAmtMessage m;
  guint32 old_nonce;
  guint16 port;

  setup (&f, 4, "address=239.1.1.1 retransmit-interval=200000000 "
      "request-tries=2");
  relay_advertise (&f.relay, 0);
  relay_answer_request (&f.relay, 4, 1, TRUE);
  relay_expect_update (&f.relay, 4, MCP_IGMP_MODE_IS_EXCLUDE, "239.1.1.1",
      NULL);
  old_nonce = f.relay.request_nonce;
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
      (f.relay.gateway));
  /* the relay answers no refresh */
  m = relay_expect_new_request (&f.relay);
  f.relay.unanswered = m.nonce;
  relay_expect_update_for (&f.relay, TEST_MAC, old_nonce, 4,
      MCP_IGMP_CHANGE_TO_INCLUDE, "239.1.1.1", NULL);
  m = relay_expect (&f.relay, MCP_AMT_TEARDOWN);
  fail_unless_equals_uint64 (m.mac, TEST_MAC);
  fail_unless_equals_int (m.nonce, old_nonce);
  fail_unless_equals_int (m.port, port);
  m = relay_expect (&f.relay, MCP_AMT_RELAY_DISCOVERY);
  fail_unless (m.nonce != f.relay.discovery_nonce);
  fail_unless_equals_uint64 (stat (&f, "rediscoveries"), 1);
  fail_unless_equals_uint64 (stat (&f, "teardowns"), 1);
  teardown (&f);
}

GST_END_TEST;

/* One message sent to the tunnel's port as fast as a thread can, until
 * stop or 10 s. */
typedef struct
{
  GSocket *sock;
  GSocketAddress *to;
  GBytes *msg;
  gint stop;
} Flood;

static gpointer
flood_run (gpointer data)
{
  Flood *fl = data;
  GOutputVector v;
  GOutputMessage msgs[32];
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  guint i;

  v.buffer = g_bytes_get_data (fl->msg, &v.size);
  memset (msgs, 0, sizeof (msgs));
  for (i = 0; i < G_N_ELEMENTS (msgs); i++) {
    msgs[i].address = fl->to;
    msgs[i].vectors = &v;
    msgs[i].num_vectors = 1;
  }
  while (!g_atomic_int_get (&fl->stop) && g_get_monotonic_time () < end)
    g_socket_send_messages (fl->sock, msgs, G_N_ELEMENTS (msgs), 0, NULL, NULL);
  return NULL;
}

/* Makes the element slow at dropping what is not from the relay (200 us a
 * message, where its debug log says so), so that the flood outpaces it
 * whatever the machine and its socket never empties. */
static void
slow_drop_log (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  if (level == GST_LEVEL_DEBUG
      && strcmp (gst_debug_category_get_name (category), "amtsrc") == 0
      && strstr (gst_debug_message_get (message), "not from the relay"))
    g_usleep (200);
}

/* A flood of messages to drop keeps the socket readable: stopping still
 * takes effect at once. */
GST_START_TEST (test_stop_during_flood)
{
  Fixture f;
  Flood fl = { 0 };
  GThread *thread;
  gint64 start, took;

  setup (&f, 4, "address=239.1.1.1 retransmit-interval=60000000000");
  join (&f, 4, "239.1.1.1", NULL, FALSE);
  gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (slow_drop_log, NULL, NULL);
  gst_debug_set_threshold_for_name ("amtsrc", GST_LEVEL_DEBUG);
  /* good data, but from another socket than the relay's */
  fl.sock = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  fl.to = g_object_ref (f.relay.gateway);
  fl.msg = data_message (SOURCE4, SOURCE_PORT, "239.1.1.1", 5004, 0, 16, FALSE);
  thread = g_thread_new ("flood", flood_run, &fl);
  /* (polled: the element is busy dropping it) */
  while (stat (&f, "dropped-foreign") < 100)
    g_usleep (1000);
  start = g_get_monotonic_time ();
  fail_unless_equals_int (gst_element_set_state (f.h->element,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  took = g_get_monotonic_time () - start;
  g_atomic_int_set (&fl.stop, 1);
  g_thread_join (thread);
  gst_debug_unset_threshold_for_name ("amtsrc");
  gst_debug_remove_log_function (slow_drop_log);
  gst_debug_add_log_function (gst_debug_log_default, NULL, NULL);
  fail_unless (took < 5 * G_USEC_PER_SEC, "stopping took %" G_GINT64_FORMAT
      " us", took);
  g_object_unref (fl.to);
  g_object_unref (fl.sock);
  g_bytes_unref (fl.msg);
  teardown (&f);
}

GST_END_TEST;

static gint64
cpu_time_us (void)
{
  struct timespec ts;

  fail_unless (clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts) == 0);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* timeout = GST_CLOCK_TIME_NONE means never: no message, and the element
 * sleeps while it waits (here for the repeat of its Update) rather than
 * spin. */
GST_START_TEST (test_timeout_never)
{
  Fixture f;
  McpAmtMessage m;
  gint64 cpu, wall;

  setup (&f, 4, "address=239.1.1.1 timeout=18446744073709551615 "
      "retransmit-interval=300000000");
  join (&f, 4, "239.1.1.1", NULL, FALSE);
  cpu = cpu_time_us ();
  wall = g_get_monotonic_time ();
  do {
    m = relay_recv (&f.relay);
  } while (m.type == MCP_AMT_REQUEST && m.nonce == f.relay.request_nonce);
  fail_unless_equals_int (m.type, MCP_AMT_MEMBERSHIP_UPDATE);
  fail_unless (relay_is_repeat (&f.relay));
  cpu = cpu_time_us () - cpu;
  wall = g_get_monotonic_time () - wall;
  fail_unless (cpu * 4 < wall, "%" G_GINT64_FORMAT " us of CPU in %"
      G_GINT64_FORMAT " us: the element spins", cpu, wall);
  relay_send_data (&f.relay, SOURCE4, "239.1.1.1", 5004, 1, 100);
  pull_datagram (&f, 1, 100, "239.1.1.1", 5004, SOURCE4, 0);
  fail_unless_equals_uint64 (stat (&f, "timeouts"), 0);
  teardown (&f);
}

GST_END_TEST;

/* ---- URI ------------------------------------------------------------------ */

GST_START_TEST (test_uri)
{
  GError *err = NULL;
  GstElement *e = gst_element_make_from_uri (GST_URI_SRC,
      "amt://198.51.100.7@232.1.2.3:5004?relay=amt.example.net&relay-port=2269",
      NULL, &err);
  gchar *address, *source, *relay, *uri;
  guint port, relay_port;

  fail_unless (e != NULL, "%s", err ? err->message : "?");
  fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (e)),
      "amtsrc");
  g_object_get (e, "address", &address, "port", &port, "multicast-source",
      &source, "relay", &relay, "relay-port", &relay_port, NULL);
  fail_unless_equals_string (address, "232.1.2.3");
  fail_unless_equals_int (port, 5004);
  fail_unless_equals_string (source, "198.51.100.7");
  fail_unless_equals_string (relay, "amt.example.net");
  fail_unless_equals_int (relay_port, 2269);
  uri = gst_uri_handler_get_uri (GST_URI_HANDLER (e));
  fail_unless_equals_string (uri, "amt://198.51.100.7@232.1.2.3:5004"
      "?relay=amt.example.net&relay-port=2269");
  g_free (uri);
  g_free (address);
  g_free (source);
  g_free (relay);

  /* IPv6, any source */
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (e),
          "amt://[ff3e::1]:6000?relay=192.0.2.1", &err));
  g_object_get (e, "address", &address, "port", &port, "multicast-source",
      &source, NULL);
  fail_unless_equals_string (address, "ff3e::1");
  fail_unless_equals_int (port, 6000);
  fail_unless (source == NULL);
  g_free (address);
  uri = gst_uri_handler_get_uri (GST_URI_HANDLER (e));
  fail_unless_equals_string (uri, "amt://[ff3e::1]:6000?relay=192.0.2.1"
      "&relay-port=2269");
  g_free (uri);

  /* not a group */
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (e),
          "amt://10.0.0.1:5004?relay=192.0.2.1", &err));
  fail_unless (g_error_matches (err, GST_URI_ERROR, GST_URI_ERROR_BAD_URI));
  g_clear_error (&err);
  gst_object_unref (e);
}

GST_END_TEST;

/* A stream through uridecodebin-like use: the URI's element joins and
 * delivers. */
GST_START_TEST (test_uri_stream)
{
  Fixture f;
  GstElement *src;
  GError *err = NULL;
  gchar *uri;

  relay_init (&f.relay, 4);
  uri = g_strdup_printf ("amt://" SOURCE4 "@232.9.9.9:5004?relay=127.0.0.1"
      "&relay-port=%u", f.relay.port);
  src = gst_element_make_from_uri (GST_URI_SRC, uri, NULL, &err);
  fail_unless (src != NULL, "%s", err ? err->message : "?");
  f.h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  gst_harness_play (f.h);
  join (&f, 4, "232.9.9.9", SOURCE4, FALSE);
  relay_send_data (&f.relay, SOURCE4, "232.9.9.9", 5004, 3, 1316);
  pull_datagram (&f, 3, 1316, "232.9.9.9", 5004, SOURCE4, 0);
  teardown (&f);
  g_free (uri);
}

GST_END_TEST;

static Suite *
amtsrc_suite (void)
{
  Suite *s = suite_create ("amtsrc");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_defaults_and_properties);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_bad_settings_are_errors);
  tcase_add_test (tc, test_ssm_ipv4);
  tcase_add_test (tc, test_ssm_ipv6);
  tcase_add_test (tc, test_ipv6_group_ipv4_tunnel);
  tcase_add_test (tc, test_any_source);
  tcase_add_test (tc, test_any_port);
  tcase_add_test (tc, test_bad_input_dropped);
  tcase_add_test (tc, test_wrong_nonce);
  tcase_add_test (tc, test_silent_relay_rediscovery);
  tcase_add_test (tc, test_refresh);
  tcase_add_test (tc, test_stop_leaves);
  tcase_add_test (tc, test_stop_tears_down);
  tcase_add_test (tc, test_timeout_message);
  tcase_add_test (tc, test_unanswered_discovery_told);
  tcase_add_test (tc, test_relay_full);
  tcase_add_test (tc, test_join_update_repeated);
  tcase_add_test (tc, test_nat_rebinding);
  tcase_add_test (tc, test_rediscovery_leaves_old_relay);
  tcase_add_test (tc, test_stop_during_flood);
  tcase_add_test (tc, test_timeout_never);
  tcase_add_test (tc, test_uri);
  tcase_add_test (tc, test_uri_stream);
  return s;
}

GST_CHECK_MAIN (amtsrc);
