/* mcastproxy — unit tests of AMT messages (mcp-amt), the IP packets they
 * carry (mcp-ippkt) and the IGMPv3/MLDv2 reports a gateway sends
 * (mcp_igmp_build_report).
 *
 * Messages are written out byte by byte after RFC 7450 5.1; checksums are
 * checked with a summing loop of the test's own.
 */
#include "config.h"

#include "mcp-amt.h"
#include "mcp-igmp.h"
#include "mcp-ippkt.h"

#include <string.h>

/* ---- helpers ----------------------------------------------------------- */

/* The one's complement sum of len bytes by 32-bit accumulation, folded:
 * 0xffff over data that holds its own right checksum. */
static guint16
ones_sum (const guint8 * data, gsize len, guint32 start)
{
  guint64 sum = start;
  gsize i;

  for (i = 0; i < len; i++)
    sum += (i & 1) ? data[i] : (guint32) data[i] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

static void
addr4 (guint8 * out, const gchar * text)
{
  GInetAddress *a = g_inet_address_new_from_string (text);

  g_assert_nonnull (a);
  memset (out, 0, 16);
  memcpy (out, g_inet_address_to_bytes (a), 4);
  g_object_unref (a);
}

static void
addr6 (guint8 * out, const gchar * text)
{
  GInetAddress *a = g_inet_address_new_from_string (text);

  g_assert_nonnull (a);
  memcpy (out, g_inet_address_to_bytes (a), 16);
  g_object_unref (a);
}

/* the UDP checksum of a whole IPv4 or IPv6 packet's datagram, summed over
 * the pseudo-header by the test: 0xffff when right */
static guint16
udp_sum (const guint8 * pkt, gboolean v6)
{
  gsize hl = v6 ? 40 : 20, alen = v6 ? 16 : 4;
  const guint8 *u = pkt + hl;
  gsize ulen = (u[4] << 8) | u[5];
  guint32 pseudo = ones_sum (pkt + (v6 ? 8 : 12), 2 * alen, 0);

  return ones_sum (u, ulen, pseudo + 17 + ulen);
}

/* ---- IP packets -------------------------------------------------------- */

static void
check_udp_roundtrip (guint8 family, gsize len)
{
  guint8 src[16], dst[16], hdr[MCP_IPPKT_UDP_HEADERS_MAX];
  guint8 *payload = g_malloc (len + 1), *pkt;
  McpIpPacket ip;
  const guint8 *p;
  gsize plen, hl, i;
  guint16 sport, dport;
  GError *error = NULL;

  if (family == 4) {
    addr4 (src, "10.1.2.3");
    addr4 (dst, "232.1.1.1");
  } else {
    addr6 (src, "2001:db8::5");
    addr6 (dst, "ff3e::8000:1");
  }
  for (i = 0; i < len; i++)
    payload[i] = (i * 7 + len) & 0xff;
  hl = mcp_ippkt_write_udp (hdr, family, src, 40000, dst, 5004, 9, 77, len,
      mcp_ippkt_sum (payload, len, 0));
  g_assert_cmpuint (hl, ==, family == 4 ? 28 : 48);
  pkt = g_malloc (hl + len);
  memcpy (pkt, hdr, hl);
  memcpy (pkt + hl, payload, len);

  /* the test's own sums agree */
  if (family == 4)
    g_assert_cmphex (ones_sum (pkt, 20, 0), ==, 0xffff);
  g_assert_cmphex (udp_sum (pkt, family == 6), ==, 0xffff);

  g_assert_true (mcp_ippkt_parse (pkt, hl + len, &ip, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ip.family, ==, family);
  g_assert_cmpuint (ip.protocol, ==, MCP_IPPKT_PROTO_UDP);
  g_assert_cmpuint (ip.ttl, ==, 9);
  g_assert_cmpmem (ip.src, family == 4 ? 4 : 16, src, family == 4 ? 4 : 16);
  g_assert_cmpmem (ip.dst, family == 4 ? 4 : 16, dst, family == 4 ? 4 : 16);
  g_assert_true (mcp_ippkt_udp (&ip, &sport, &dport, &p, &plen, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sport, ==, 40000);
  g_assert_cmpuint (dport, ==, 5004);
  g_assert_cmpmem (p, plen, payload, len);

  /* one bit of the payload wrong: the UDP checksum says so */
  if (len > 0) {
    pkt[hl + len / 2] ^= 0x10;
    g_assert_true (mcp_ippkt_parse (pkt, hl + len, &ip, NULL));
    g_assert_false (mcp_ippkt_udp (&ip, &sport, &dport, &p, &plen, &error));
    g_assert_error (error, MCP_IPPKT_ERROR, MCP_IPPKT_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "checksum"));
    g_clear_error (&error);
  }
  g_free (pkt);
  g_free (payload);
}

/* mcp_ippkt_sum() word by word, as RFC 1071 writes it: the 16-bit
 * big-endian words (an odd last byte as the high half of one) added to sum,
 * carries beyond 32 bits added back in. */
static guint32
ref_sum (const guint8 * data, gsize len, guint32 sum)
{
  guint64 s = sum;
  gsize i;

  for (i = 0; i + 1 < len; i += 2)
    s += ((guint32) data[i] << 8) | data[i + 1];
  if (len & 1)
    s += (guint32) data[len - 1] << 8;
  while (s >> 32)
    s = (s & 0xffffffff) + (s >> 32);
  return (guint32) s;
}

/* The word-at-a-time sum gives exactly the reference's 32-bit value (not
 * only the same checksum) at every length and alignment, from any running
 * sum, and over calls of even lengths but the last; all ones and all zeros
 * too, and a buffer long enough to cross the flush of its lanes. */
static void
test_sum (void)
{
  const gsize big = 1200000;
  guint8 *buf = g_malloc (big + 16);
  GRand *r = g_rand_new_with_seed (7450);
  static const guint32 starts[] = { 0, 1, 0xffff, 0x10000, 0xfffffffe,
    0xffffffff
  };
  gsize len, off, i, k;

  for (i = 0; i < big + 16; i++)
    buf[i] = (guint8) g_rand_int (r);
  for (len = 0; len <= 300; len++)
    for (off = 0; off < 8; off++)
      for (k = 0; k < G_N_ELEMENTS (starts); k++)
        g_assert_cmphex (mcp_ippkt_sum (buf + off, len, starts[k]), ==,
            ref_sum (buf + off, len, starts[k]));
  for (i = 0; i < 2000; i++) {
    guint32 start = g_rand_int (r);

    len = g_rand_int_range (r, 0, 65536);
    off = g_rand_int_range (r, 0, 16);
    g_assert_cmphex (mcp_ippkt_sum (buf + off, len, start), ==,
        ref_sum (buf + off, len, start));
  }
  /* chained: even pieces, then the rest */
  for (i = 0; i < 500; i++) {
    guint32 a = g_rand_int (r), b = a;
    gsize done = 0;

    off = g_rand_int_range (r, 0, 16);
    len = g_rand_int_range (r, 0, 4000);
    while (done < len) {
      gsize piece = (gsize) g_rand_int_range (r, 0, 300) * 2;

      piece = MIN (piece, len - done);
      a = mcp_ippkt_sum (buf + off + done, piece, a);
      done += piece;
    }
    b = ref_sum (buf + off, len, b);
    g_assert_cmphex (a, ==, b);
  }
  /* the largest sums: the lanes must not overflow */
  memset (buf, 0xff, big + 16);
  for (off = 0; off < 3; off++) {
    g_assert_cmphex (mcp_ippkt_sum (buf + off, big + off, 0xffffffff), ==,
        ref_sum (buf + off, big + off, 0xffffffff));
    g_assert_cmphex (mcp_ippkt_sum (buf + off, 65535, 0), ==,
        ref_sum (buf + off, 65535, 0));
  }
  memset (buf, 0, big + 16);
  g_assert_cmphex (mcp_ippkt_sum (buf + 1, big, 0), ==, 0);
  g_assert_cmphex (mcp_ippkt_sum (NULL, 0, 12345), ==, 12345);
  g_rand_free (r);
  g_free (buf);
}

static void
test_udp_roundtrip (void)
{
  static const gsize sizes[] = { 0, 1, 2, 1316, 1317, 9000, 65507 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    check_udp_roundtrip (4, sizes[i]);
    if (sizes[i] <= 65527)
      check_udp_roundtrip (6, sizes[i]);
  }
}

static void
test_udp_too_big (void)
{
  guint8 a[16] = { 0 }, hdr[MCP_IPPKT_UDP_HEADERS_MAX];

  /* 65507 is IPv4's largest UDP payload, 65527 IPv6's */
  g_assert_cmpuint (mcp_ippkt_write_udp (hdr, 4, a, 1, a, 2, 1, 0, 65508,
          0), ==, 0);
  g_assert_cmpuint (mcp_ippkt_write_udp (hdr, 6, a, 1, a, 2, 1, 0, 65528,
          0), ==, 0);
}

static GBytes *
udp4_packet (gsize len)
{
  guint8 src[16], dst[16], hdr[MCP_IPPKT_UDP_HEADERS_MAX];
  guint8 *pkt = g_malloc0 (28 + len);
  gsize hl;

  addr4 (src, "10.0.0.1");
  addr4 (dst, "239.1.1.1");
  hl = mcp_ippkt_write_udp (hdr, 4, src, 1000, dst, 2000, 1, 1, len,
      mcp_ippkt_sum (pkt + 28, len, 0));
  memcpy (pkt, hdr, hl);
  return g_bytes_new_take (pkt, 28 + len);
}

static void
expect_ip_error (const guint8 * data, gsize len, gint code, const gchar * word)
{
  McpIpPacket ip;
  GError *error = NULL;

  g_assert_false (mcp_ippkt_parse (data, len, &ip, &error));
  g_assert_error (error, MCP_IPPKT_ERROR, code);
  if (word && !strstr (error->message, word))
    g_error ("\"%s\" does not say \"%s\"", error->message, word);
  g_error_free (error);
}

static void
test_ip_malformed (void)
{
  GBytes *b = udp4_packet (10);
  gsize len;
  guint8 *p = g_bytes_unref_to_data (b, &len);
  McpIpPacket ip;
  guint16 sport, dport;
  const guint8 *pl;
  gsize pll;
  GError *error = NULL;

  expect_ip_error (p, 0, MCP_IPPKT_ERROR_INVALID, "empty");
  expect_ip_error (p, 19, MCP_IPPKT_ERROR_INVALID, "shorter");
  /* total length beyond the bytes */
  expect_ip_error (p, len - 1, MCP_IPPKT_ERROR_INVALID, "total length");
  /* version 5 */
  p[0] = 0x55;
  expect_ip_error (p, len, MCP_IPPKT_ERROR_INVALID, "version");
  /* header length below 20 */
  p[0] = 0x44;
  expect_ip_error (p, len, MCP_IPPKT_ERROR_INVALID, "header length");
  p[0] = 0x45;
  /* header checksum */
  p[8] ^= 1;
  expect_ip_error (p, len, MCP_IPPKT_ERROR_INVALID, "checksum");
  p[8] ^= 1;
  /* a fragment (more fragments): with its checksum right */
  p[6] = 0x20;
  p[10] = p[11] = 0;
  {
    guint16 c = ~ones_sum (p, 20, 0);

    p[10] = c >> 8;
    p[11] = c & 0xff;
  }
  expect_ip_error (p, len, MCP_IPPKT_ERROR_UNSUPPORTED, "fragment");
  g_free (p);

  /* UDP length beyond the packet */
  b = udp4_packet (10);
  p = g_bytes_unref_to_data (b, &len);
  p[25] = 200;
  g_assert_true (mcp_ippkt_parse (p, len, &ip, NULL));
  g_assert_false (mcp_ippkt_udp (&ip, &sport, &dport, &pl, &pll, &error));
  g_assert_error (error, MCP_IPPKT_ERROR, MCP_IPPKT_ERROR_INVALID);
  g_clear_error (&error);
  /* checksum 0 over IPv4: none, accepted */
  p[25] = 18;
  p[26] = p[27] = 0;
  g_assert_true (mcp_ippkt_udp (&ip, &sport, &dport, &pl, &pll, &error));
  g_assert_cmpuint (pll, ==, 10);
  /* padding after the packet is ignored */
  g_free (p);
}

static void
test_ipv6_extension_refused (void)
{
  guint8 pkt[48] = { 0x60, 0, 0, 0, 0, 8, 44 /* fragment */ , 64 };

  expect_ip_error (pkt, sizeof (pkt), MCP_IPPKT_ERROR_UNSUPPORTED,
      "next header 44");
  /* a hop-by-hop header longer than the packet */
  pkt[6] = 0;
  pkt[41] = 3;
  expect_ip_error (pkt, sizeof (pkt), MCP_IPPKT_ERROR_INVALID, "hop-by-hop");
}

/* ---- membership messages in IP ----------------------------------------- */

static McpIgmpRecord
record (guint8 family, McpIgmpRecordType type, const gchar * group,
    const gchar * source)
{
  McpIgmpRecord r;

  r.type = type;
  r.group = g_inet_address_new_from_string (group);
  r.sources = g_ptr_array_new_with_free_func (g_object_unref);
  if (source)
    g_ptr_array_add (r.sources, g_inet_address_new_from_string (source));
  g_assert_cmpuint (g_inet_address_get_family (r.group), ==,
      family == 4 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6);
  return r;
}

static void
clear_record (gpointer p)
{
  McpIgmpRecord *r = p;

  g_object_unref (r->group);
  g_ptr_array_unref (r->sources);
}

static void
check_report_in_ip (guint8 family)
{
  GArray *records = g_array_new (FALSE, FALSE, sizeof (McpIgmpRecord));
  GBytes *report, *pkt;
  guint8 src[16], dst[16];
  McpIpPacket ip;
  McpIgmpMessage *msg;
  const McpIgmpRecord *r;
  gchar *text;
  GError *error = NULL;

  g_array_set_clear_func (records, clear_record);
  if (family == 4) {
    McpIgmpRecord a = record (4, MCP_IGMP_MODE_IS_INCLUDE, "232.1.1.1",
        "10.9.9.9");
    McpIgmpRecord b = record (4, MCP_IGMP_MODE_IS_EXCLUDE, "239.2.2.2",
        NULL);

    g_array_append_val (records, a);
    g_array_append_val (records, b);
    addr4 (src, "10.0.0.7");
    addr4 (dst, "224.0.0.22");
  } else {
    McpIgmpRecord a = record (6, MCP_IGMP_MODE_IS_INCLUDE, "ff3e::1",
        "2001:db8::9");
    McpIgmpRecord b = record (6, MCP_IGMP_MODE_IS_EXCLUDE, "ff3e::2", NULL);

    g_array_append_val (records, a);
    g_array_append_val (records, b);
    addr6 (src, "fe80::7");
    addr6 (dst, "ff02::16");
  }
  report = mcp_igmp_build_report (family == 4 ? G_SOCKET_FAMILY_IPV4 :
      G_SOCKET_FAMILY_IPV6, records, &error);
  g_assert_no_error (error);
  pkt = mcp_ippkt_wrap_membership (family, src, dst,
      g_bytes_get_data (report, NULL), g_bytes_get_size (report));
  g_assert_nonnull (pkt);

  g_assert_true (mcp_ippkt_parse (g_bytes_get_data (pkt, NULL),
          g_bytes_get_size (pkt), &ip, &error));
  g_assert_no_error (error);
  g_assert_true (ip.router_alert);
  g_assert_cmpuint (ip.ttl, ==, 1);
  g_assert_cmpuint (ip.protocol, ==, family == 4 ? MCP_IPPKT_PROTO_IGMP :
      MCP_IPPKT_PROTO_ICMPV6);
  msg = family == 4 ? mcp_igmp_parse (ip.payload, ip.payload_len, &error) :
      mcp_mld_parse (ip.payload, ip.payload_len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (msg->kind, ==, MCP_IGMP_REPORT);
  g_assert_cmpuint (msg->records->len, ==, 2);
  r = &g_array_index (msg->records, McpIgmpRecord, 0);
  g_assert_cmpint (r->type, ==, MCP_IGMP_MODE_IS_INCLUDE);
  text = g_inet_address_to_string (r->group);
  g_assert_cmpstr (text, ==, family == 4 ? "232.1.1.1" : "ff3e::1");
  g_free (text);
  g_assert_cmpuint (r->sources->len, ==, 1);
  text = g_inet_address_to_string (g_ptr_array_index (r->sources, 0));
  g_assert_cmpstr (text, ==, family == 4 ? "10.9.9.9" : "2001:db8::9");
  g_free (text);
  r = &g_array_index (msg->records, McpIgmpRecord, 1);
  g_assert_cmpint (r->type, ==, MCP_IGMP_MODE_IS_EXCLUDE);
  g_assert_cmpuint (r->sources->len, ==, 0);
  mcp_igmp_message_free (msg);

  /* MLD: a bit wrong in the message, and the ICMPv6 checksum says so */
  if (family == 6) {
    gsize len;
    guint8 *p = g_bytes_unref_to_data (g_bytes_ref (pkt), &len);

    p[len - 1] ^= 1;
    expect_ip_error (p, len, MCP_IPPKT_ERROR_INVALID, "ICMPv6 checksum");
    g_free (p);
  }
  g_bytes_unref (pkt);
  g_bytes_unref (report);
  g_array_unref (records);
}

static void
test_report_in_ip (void)
{
  check_report_in_ip (4);
  check_report_in_ip (6);
}

static void
test_report_refused (void)
{
  GArray *records = g_array_new (FALSE, FALSE, sizeof (McpIgmpRecord));
  McpIgmpRecord a = record (4, MCP_IGMP_MODE_IS_INCLUDE, "232.1.1.1",
      "239.9.9.9");
  GError *error = NULL;

  g_array_set_clear_func (records, clear_record);
  g_array_append_val (records, a);
  g_assert_null (mcp_igmp_build_report (G_SOCKET_FAMILY_IPV4, records, &error));
  g_assert_error (error, MCP_IGMP_ERROR, MCP_IGMP_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "report with source"));
  g_clear_error (&error);
  /* an IPv4 group in an MLD report */
  g_assert_null (mcp_igmp_build_report (G_SOCKET_FAMILY_IPV6, records, &error));
  g_assert_error (error, MCP_IGMP_ERROR, MCP_IGMP_ERROR_INVALID);
  g_clear_error (&error);
  g_array_unref (records);
}

/* ---- AMT messages ------------------------------------------------------ */

static void
expect_amt_error (const guint8 * data, gsize len, gint code, const gchar * word)
{
  McpAmtMessage m;
  GError *error = NULL;

  g_assert_false (mcp_amt_parse (data, len, &m, &error));
  g_assert_error (error, MCP_AMT_ERROR, code);
  if (word && !strstr (error->message, word))
    g_error ("\"%s\" does not say \"%s\"", error->message, word);
  g_error_free (error);
}

static void
test_amt_discovery_advertisement (void)
{
  static const guint8 disc[] = { 0x01, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef };
  static const guint8 adv4[] = { 0x02, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef,
    192, 0, 2, 1
  };
  McpAmtMessage m = { 0 };
  GBytes *b;

  g_assert_true (mcp_amt_parse (disc, sizeof (disc), &m, NULL));
  g_assert_cmpint (m.type, ==, MCP_AMT_RELAY_DISCOVERY);
  g_assert_cmphex (m.nonce, ==, 0xdeadbeef);
  b = mcp_amt_build (&m);
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b), disc,
      sizeof (disc));
  g_bytes_unref (b);
  expect_amt_error (disc, 7, MCP_AMT_ERROR_INVALID, "cut short");

  g_assert_true (mcp_amt_parse (adv4, sizeof (adv4), &m, NULL));
  g_assert_cmpint (m.type, ==, MCP_AMT_RELAY_ADVERTISEMENT);
  g_assert_cmpuint (m.family, ==, 4);
  g_assert_cmpmem (m.address, 4, adv4 + 8, 4);
  b = mcp_amt_build (&m);
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b), adv4,
      sizeof (adv4));
  g_bytes_unref (b);
  expect_amt_error (adv4, 11, MCP_AMT_ERROR_INVALID, "Advertisement");

  /* IPv6 relay */
  memset (&m, 0, sizeof (m));
  m.type = MCP_AMT_RELAY_ADVERTISEMENT;
  m.family = 6;
  addr6 (m.address, "2001:db8::2268");
  m.nonce = 7;
  b = mcp_amt_build (&m);
  g_assert_cmpuint (g_bytes_get_size (b), ==, 24);
  memset (&m, 0, sizeof (m));
  g_assert_true (mcp_amt_parse (g_bytes_get_data (b, NULL),
          g_bytes_get_size (b), &m, NULL));
  g_assert_cmpuint (m.family, ==, 6);
  g_assert_cmpuint (m.nonce, ==, 7);
  g_assert_cmphex (m.address[15], ==, 0x68);
  g_bytes_unref (b);
}

static void
test_amt_request (void)
{
  static const guint8 req[] = { 0x03, 0x01, 0, 0, 0, 0, 0, 42 };
  static const guint8 vlc[] = { 0x03, 0, 0, 0, 0, 0, 0, 43, 0 };
  static const guint8 alt[] = { 0x03, 0x80, 0, 0, 0, 0, 0, 44 };
  McpAmtMessage m;
  GBytes *b;

  g_assert_true (mcp_amt_parse (req, sizeof (req), &m, NULL));
  g_assert_true (m.p_flag);
  g_assert_cmpuint (m.nonce, ==, 42);
  b = mcp_amt_build (&m);
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b), req,
      sizeof (req));
  g_bytes_unref (b);
  /* 9 bytes, as VLC 4 sends it: the extra byte ignored */
  g_assert_true (mcp_amt_parse (vlc, sizeof (vlc), &m, NULL));
  g_assert_false (m.p_flag);
  g_assert_cmpuint (m.nonce, ==, 43);
  /* P in the first bit of the byte, as Linux writes it */
  g_assert_true (mcp_amt_parse (alt, sizeof (alt), &m, NULL));
  g_assert_true (m.p_flag);
  expect_amt_error (req, 4, MCP_AMT_ERROR_INVALID, "Request");
}

static GBytes *
igmp_query_packet (void)
{
  McpIgmpMessage *q = mcp_igmp_query_new (G_SOCKET_FAMILY_IPV4, 3, NULL);
  GBytes *query = mcp_igmp_build_query (q, NULL), *pkt;
  guint8 src[16], dst[16];

  addr4 (src, "192.0.2.1");
  addr4 (dst, "224.0.0.1");
  pkt = mcp_ippkt_wrap_membership (4, src, dst,
      g_bytes_get_data (query, NULL), g_bytes_get_size (query));
  g_bytes_unref (query);
  mcp_igmp_message_free (q);
  return pkt;
}

static void
test_amt_query_update (void)
{
  GBytes *inner = igmp_query_packet (), *b;
  McpAmtMessage m = { 0 }, p;
  const guint8 *d;
  gsize len;

  m.type = MCP_AMT_MEMBERSHIP_QUERY;
  m.mac = 0x0102030405a6ULL;
  m.nonce = 0x11223344;
  m.inner = g_bytes_get_data (inner, &m.inner_len);
  m.g_flag = TRUE;
  m.family = 4;
  addr4 (m.address, "198.51.100.9");
  m.port = 33000;
  b = mcp_amt_build (&m);
  d = g_bytes_get_data (b, &len);
  g_assert_cmpuint (len, ==, 12 + m.inner_len + 18);
  g_assert_cmphex (d[0], ==, 0x04);
  g_assert_cmphex (d[1], ==, 0x01);     /* G */
  g_assert_cmphex (d[2], ==, 0x01);
  g_assert_cmphex (d[7], ==, 0xa6);
  /* the gateway's IPv4 address, IPv4-mapped */
  g_assert_cmphex (d[len - 6], ==, 0xff);
  g_assert_cmphex (d[len - 1], ==, 9);
  g_assert_true (mcp_amt_parse (d, len, &p, NULL));
  g_assert_cmpint (p.type, ==, MCP_AMT_MEMBERSHIP_QUERY);
  g_assert_cmphex (p.mac, ==, m.mac);
  g_assert_cmphex (p.nonce, ==, m.nonce);
  g_assert_true (p.g_flag);
  g_assert_false (p.l_flag);
  g_assert_cmpuint (p.family, ==, 4);
  g_assert_cmpuint (p.port, ==, 33000);
  g_assert_cmpmem (p.address, 4, m.address, 4);
  g_assert_cmpmem (p.inner, p.inner_len, m.inner, m.inner_len);
  /* without the gateway fields but with the G flag: refused */
  expect_amt_error (d, 12 + m.inner_len, MCP_AMT_ERROR_INVALID, "G flag");
  /* the IP packet cut short */
  expect_amt_error (d, 12 + m.inner_len - 1, MCP_AMT_ERROR_INVALID,
      "whole IP packet");
  expect_amt_error (d, 11, MCP_AMT_ERROR_INVALID, "cut short");
  g_bytes_unref (b);

  /* an Update with the same packet, and L without G */
  m.type = MCP_AMT_MEMBERSHIP_UPDATE;
  b = mcp_amt_build (&m);
  d = g_bytes_get_data (b, &len);
  g_assert_cmpuint (len, ==, 12 + m.inner_len);
  g_assert_cmphex (d[0], ==, 0x05);
  g_assert_true (mcp_amt_parse (d, len, &p, NULL));
  g_assert_cmphex (p.mac, ==, m.mac);
  g_assert_cmpmem (p.inner, p.inner_len, m.inner, m.inner_len);
  g_bytes_unref (b);
  m.type = MCP_AMT_MEMBERSHIP_QUERY;
  m.g_flag = FALSE;
  m.l_flag = TRUE;
  b = mcp_amt_build (&m);
  d = g_bytes_get_data (b, &len);
  g_assert_cmphex (d[1], ==, 0x02);
  g_assert_true (mcp_amt_parse (d, len, &p, NULL));
  g_assert_true (p.l_flag);
  g_assert_false (p.g_flag);
  g_bytes_unref (b);
  g_bytes_unref (inner);
}

static void
test_amt_teardown_data (void)
{
  McpAmtMessage m = { 0 }, p;
  GBytes *b;
  const guint8 *d;
  gsize len;
  static const guint8 data[] = { 0x06, 0, 0x45, 1, 2 };

  m.type = MCP_AMT_TEARDOWN;
  m.mac = 0xffffffffffffULL;
  m.nonce = 5;
  m.family = 6;
  addr6 (m.address, "2001:db8::77");
  m.port = 2269;
  b = mcp_amt_build (&m);
  d = g_bytes_get_data (b, &len);
  g_assert_cmpuint (len, ==, 30);
  g_assert_true (mcp_amt_parse (d, len, &p, NULL));
  g_assert_cmphex (p.mac, ==, 0xffffffffffffULL);
  g_assert_cmpuint (p.family, ==, 6);
  g_assert_cmpuint (p.port, ==, 2269);
  g_assert_cmpmem (p.address, 16, m.address, 16);
  expect_amt_error (d, 29, MCP_AMT_ERROR_INVALID, "Teardown");
  g_bytes_unref (b);

  /* an IPv4 gateway written as IPv4-compatible (::a.b.c.d) reads as IPv4 */
  m.family = 4;
  addr4 (m.address, "10.0.0.1");
  b = mcp_amt_build (&m);
  {
    guint8 *c = g_memdup2 (g_bytes_get_data (b, NULL), 30);

    c[22] = c[23] = 0;
    g_assert_true (mcp_amt_parse (c, 30, &p, NULL));
    g_assert_cmpuint (p.family, ==, 4);
    g_assert_cmpmem (p.address, 4, m.address, 4);
    g_free (c);
  }
  g_bytes_unref (b);

  /* ::1 is IPv6's loopback, not the IPv4-compatible 0.0.0.1 */
  m.family = 6;
  addr6 (m.address, "::1");
  b = mcp_amt_build (&m);
  g_assert_true (mcp_amt_parse (g_bytes_get_data (b, NULL), 30, &p, NULL));
  g_assert_cmpuint (p.family, ==, 6);
  g_assert_cmpmem (p.address, 16, m.address, 16);
  g_bytes_unref (b);

  g_assert_true (mcp_amt_parse (data, sizeof (data), &p, NULL));
  g_assert_cmpint (p.type, ==, MCP_AMT_MULTICAST_DATA);
  g_assert_cmpuint (p.inner_len, ==, 3);
  g_assert_true (p.inner == data + 2);
  expect_amt_error (data, 1, MCP_AMT_ERROR_INVALID, "Multicast Data");
}

static void
test_amt_version_type (void)
{
  static const guint8 v1[] = { 0x11, 0, 0, 0, 0, 0, 0, 0 };
  static const guint8 t0[] = { 0x00, 0, 0, 0, 0, 0, 0, 0 };
  static const guint8 t8[] = { 0x08, 0, 0, 0, 0, 0, 0, 0 };

  expect_amt_error (v1, sizeof (v1), MCP_AMT_ERROR_VERSION, "version 1");
  expect_amt_error (t0, sizeof (t0), MCP_AMT_ERROR_UNKNOWN_TYPE, "type 0");
  expect_amt_error (t8, sizeof (t8), MCP_AMT_ERROR_UNKNOWN_TYPE, "type 8");
  expect_amt_error (t8, 0, MCP_AMT_ERROR_INVALID, "empty");
}

static void
test_amt_mac (void)
{
  McpAmtMacKey *key = mcp_amt_mac_key_new (), *other = mcp_amt_mac_key_new ();
  guint8 a[16], b[16];
  guint64 mac;

  addr4 (a, "198.51.100.1");
  addr4 (b, "198.51.100.2");
  mac = mcp_amt_mac (key, 4, a, 40000, 99);
  g_assert_cmphex (mac >> 48, ==, 0);
  g_assert_true (mcp_amt_mac_check (key, 4, a, 40000, 99, mac));
  /* another address, port, nonce or secret: another MAC */
  g_assert_false (mcp_amt_mac_check (key, 4, b, 40000, 99, mac));
  g_assert_false (mcp_amt_mac_check (key, 4, a, 40001, 99, mac));
  g_assert_false (mcp_amt_mac_check (key, 4, a, 40000, 100, mac));
  g_assert_false (mcp_amt_mac_check (other, 4, a, 40000, 99, mac));
  /* one rotation: still good; two: gone */
  mcp_amt_mac_key_rotate (key);
  g_assert_true (mcp_amt_mac_check (key, 4, a, 40000, 99, mac));
  g_assert_cmphex (mcp_amt_mac (key, 4, a, 40000, 99), !=, mac);
  mcp_amt_mac_key_rotate (key);
  g_assert_false (mcp_amt_mac_check (key, 4, a, 40000, 99, mac));
  mcp_amt_mac_key_free (key);
  mcp_amt_mac_key_free (other);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ippkt/sum", test_sum);
  g_test_add_func ("/ippkt/udp-roundtrip", test_udp_roundtrip);
  g_test_add_func ("/ippkt/udp-too-big", test_udp_too_big);
  g_test_add_func ("/ippkt/malformed", test_ip_malformed);
  g_test_add_func ("/ippkt/ipv6-extension", test_ipv6_extension_refused);
  g_test_add_func ("/ippkt/report-in-ip", test_report_in_ip);
  g_test_add_func ("/igmp/report-refused", test_report_refused);
  g_test_add_func ("/amt/discovery-advertisement",
      test_amt_discovery_advertisement);
  g_test_add_func ("/amt/request", test_amt_request);
  g_test_add_func ("/amt/query-update", test_amt_query_update);
  g_test_add_func ("/amt/teardown-data", test_amt_teardown_data);
  g_test_add_func ("/amt/version-type", test_amt_version_type);
  g_test_add_func ("/amt/mac", test_amt_mac);
  return g_test_run ();
}
