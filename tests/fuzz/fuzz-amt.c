/* mcastproxy fuzzing — AMT messages (mcp-amt), the IP packets they carry
 * (mcp-ippkt) and the membership messages inside those (mcp-igmp).
 *
 * Input: byte 0 the options, then the bytes:
 *   bit 0  the bytes are an IP packet (mcp_ippkt_parse), not an AMT
 *          message
 *   bit 1  the IPv4 header checksum and the UDP/ICMPv6 checksum are made
 *          right first, so that the fuzzer reaches past them
 *
 * Checks, AMT: exactly one of a message and an error (of the domain, one
 * line); the type is 1-7; what a message points into lies within the
 * input; a QUERY's or UPDATE's packet is a whole IP packet by its own
 * length; built again and parsed, the message gives the same fields (the
 * flags as the builder writes them), and built once more the same bytes.
 * IP: exactly one of a packet and an error; the payload lies within the
 * input; UDP's payload within the packet's; a UDP datagram written again
 * from the fields read parses to the same fields and payload. Membership:
 * a query or report read from a packet is checked as fuzz-igmp does not
 * need to: an IGMPv3/MLDv2 report built again from its records parses to
 * the same records.
 */
#include "config.h"

#include "mcp-amt.h"
#include "mcp-igmp.h"
#include "mcp-ippkt.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void
check_error (GError * error, GQuark domain)
{
  g_assert_nonnull (error);
  g_assert_true (error->domain == domain);
  g_assert_null (strchr (error->message, '\n'));
}

static gboolean
within (const guint8 * p, gsize len, const guint8 * data, gsize size)
{
  return p >= data && p + len <= data + size;
}

static void
put_u16 (guint8 * p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

/* The checksums of an IP packet made right, where the fields say where
 * they are. */
static void
fix_checksums (guint8 * p, gsize len)
{
  gsize ihl, off, tlen;
  guint32 sum;
  guint8 proto;

  if (len >= 20 && (p[0] >> 4) == 4) {
    ihl = (p[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > len)
      return;
    put_u16 (p + 10, 0);
    put_u16 (p + 10, mcp_ippkt_fold (mcp_ippkt_sum (p, ihl, 0)));
    tlen = (p[2] << 8) | p[3];
    if (tlen > len || tlen < ihl)
      return;
    proto = p[9];
    off = ihl;
    sum = mcp_ippkt_sum (p + 12, 8, 0);
  } else if (len >= 40 && (p[0] >> 4) == 6) {
    tlen = 40 + ((p[4] << 8) | p[5]);
    if (tlen > len)
      return;
    proto = p[6];
    off = 40;
    if (proto == 0 && off + 8 <= tlen) {
      proto = p[off];
      off += (p[off + 1] + 1) * 8;
    }
    sum = mcp_ippkt_sum (p + 8, 32, 0);
  } else {
    return;
  }
  if (off > tlen)
    return;
  if (proto == MCP_IPPKT_PROTO_UDP && off + 8 <= tlen) {
    gsize ulen = (p[off + 4] << 8) | p[off + 5];

    if (ulen < 8 || off + ulen > tlen)
      return;
    put_u16 (p + off + 6, 0);
    put_u16 (p + off + 6, mcp_ippkt_fold (mcp_ippkt_sum (p + off, ulen,
                sum + proto + ulen)));
  } else if (proto == MCP_IPPKT_PROTO_ICMPV6 && off + 4 <= tlen) {
    put_u16 (p + off + 2, 0);
    put_u16 (p + off + 2, mcp_ippkt_fold (mcp_ippkt_sum (p + off,
                tlen - off, sum + proto + (tlen - off))));
  }
}

static void
check_records_equal (GArray * a, GArray * b)
{
  guint i, j;

  g_assert_cmpuint (a->len, ==, b->len);
  for (i = 0; i < a->len; i++) {
    McpIgmpRecord *x = &g_array_index (a, McpIgmpRecord, i);
    McpIgmpRecord *y = &g_array_index (b, McpIgmpRecord, i);

    g_assert_cmpint (x->type, ==, y->type);
    g_assert_true (g_inet_address_equal (x->group, y->group));
    g_assert_cmpuint (x->sources->len, ==, y->sources->len);
    for (j = 0; j < x->sources->len; j++)
      g_assert_true (g_inet_address_equal (g_ptr_array_index (x->sources, j),
              g_ptr_array_index (y->sources, j)));
  }
}

/* A membership message in a packet: an IGMPv3 or MLDv2 report survives
 * being built again from its records. */
static void
check_membership (const McpIpPacket * ip)
{
  McpIgmpMessage *msg, *again;
  GBytes *b;
  GSocketFamily family;
  GError *error = NULL;

  if (ip->family == 4 && ip->protocol == MCP_IPPKT_PROTO_IGMP) {
    family = G_SOCKET_FAMILY_IPV4;
    msg = mcp_igmp_parse (ip->payload, ip->payload_len, &error);
  } else if (ip->family == 6 && ip->protocol == MCP_IPPKT_PROTO_ICMPV6) {
    family = G_SOCKET_FAMILY_IPV6;
    msg = mcp_mld_parse (ip->payload, ip->payload_len, &error);
  } else {
    return;
  }
  if (!msg) {
    check_error (error, MCP_IGMP_ERROR);
    g_error_free (error);
    return;
  }
  if (msg->kind == MCP_IGMP_REPORT &&
      msg->version == (family == G_SOCKET_FAMILY_IPV4 ? 3 : 2)) {
    b = mcp_igmp_build_report (family, msg->records, &error);
    g_assert_no_error (error);
    again = family == G_SOCKET_FAMILY_IPV4 ?
        mcp_igmp_parse (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
        &error) : mcp_mld_parse (g_bytes_get_data (b, NULL),
        g_bytes_get_size (b), &error);
    g_assert_no_error (error);
    /* records of unknown types are skipped by the parser, never built */
    check_records_equal (msg->records, again->records);
    mcp_igmp_message_free (again);
    g_bytes_unref (b);
  }
  mcp_igmp_message_free (msg);
}

static void
fuzz_ip (const guint8 * data, gsize size)
{
  McpIpPacket ip, ip2;
  const guint8 *payload, *payload2;
  gsize plen, plen2, hl;
  guint16 sport, dport, sport2, dport2;
  guint8 hdr[MCP_IPPKT_UDP_HEADERS_MAX], *again;
  GError *error = NULL;

  if (!mcp_ippkt_parse (data, size, &ip, &error)) {
    check_error (error, MCP_IPPKT_ERROR);
    g_error_free (error);
    return;
  }
  g_assert_true (ip.family == 4 || ip.family == 6);
  g_assert_true (within (ip.payload, ip.payload_len, data, size));
  check_membership (&ip);
  if (ip.protocol != MCP_IPPKT_PROTO_UDP)
    return;
  if (!mcp_ippkt_udp (&ip, &sport, &dport, &payload, &plen, &error)) {
    check_error (error, MCP_IPPKT_ERROR);
    g_error_free (error);
    return;
  }
  g_assert_true (within (payload, plen, ip.payload, ip.payload_len));
  hl = mcp_ippkt_write_udp (hdr, ip.family, ip.src, sport, ip.dst, dport,
      ip.ttl, 0, plen, mcp_ippkt_sum (payload, plen, 0));
  g_assert_cmpuint (hl, >, 0);
  again = g_malloc (hl + plen);
  memcpy (again, hdr, hl);
  if (plen)
    memcpy (again + hl, payload, plen);
  g_assert_true (mcp_ippkt_parse (again, hl + plen, &ip2, &error));
  g_assert_no_error (error);
  g_assert_true (mcp_ippkt_udp (&ip2, &sport2, &dport2, &payload2, &plen2,
          &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ip2.family, ==, ip.family);
  g_assert_cmpmem (ip2.src, 16, ip.src, 16);
  g_assert_cmpmem (ip2.dst, 16, ip.dst, 16);
  g_assert_cmpuint (ip2.ttl, ==, ip.ttl);
  g_assert_cmpuint (sport2, ==, sport);
  g_assert_cmpuint (dport2, ==, dport);
  g_assert_cmpmem (payload2, plen2, payload, plen);
  g_free (again);
}

static void
check_same (const McpAmtMessage * a, const McpAmtMessage * b)
{
  g_assert_cmpint (a->type, ==, b->type);
  g_assert_cmpuint (a->nonce, ==, b->nonce);
  g_assert_cmphex (a->mac, ==, b->mac);
  g_assert_cmpint (a->p_flag, ==, b->p_flag);
  g_assert_cmpint (a->l_flag, ==, b->l_flag);
  g_assert_cmpint (a->g_flag, ==, b->g_flag);
  g_assert_cmpuint (a->family, ==, b->family);
  g_assert_cmpmem (a->address, 16, b->address, 16);
  g_assert_cmpuint (a->port, ==, b->port);
  g_assert_cmpmem (a->inner, a->inner_len, b->inner, b->inner_len);
}

static void
fuzz_amt (const guint8 * data, gsize size)
{
  McpAmtMessage m, m2, m3;
  GBytes *b, *b2;
  GError *error = NULL;

  if (!mcp_amt_parse (data, size, &m, &error)) {
    check_error (error, MCP_AMT_ERROR);
    g_error_free (error);
    return;
  }
  g_assert_cmpint (m.type, >=, MCP_AMT_RELAY_DISCOVERY);
  g_assert_cmpint (m.type, <=, MCP_AMT_TEARDOWN);
  g_assert_cmphex (m.mac >> 48, ==, 0);
  if (m.inner_len)
    g_assert_true (within (m.inner, m.inner_len, data, size));
  if (m.type == MCP_AMT_MEMBERSHIP_QUERY || m.type == MCP_AMT_MEMBERSHIP_UPDATE) {
    McpIpPacket ip;

    g_assert_cmpuint (m.inner_len, >=, 20);
    if (mcp_ippkt_parse (m.inner, m.inner_len, &ip, NULL))
      check_membership (&ip);
  }
  if (m.type == MCP_AMT_RELAY_ADVERTISEMENT || m.g_flag ||
      m.type == MCP_AMT_TEARDOWN)
    g_assert_true (m.family == 4 || m.family == 6);
  if (m.family == 4) {
    static const guint8 zeros[12] = { 0 };

    g_assert_cmpmem (m.address + 4, 12, zeros, 12);
  }

  b = mcp_amt_build (&m);
  g_assert_true (mcp_amt_parse (g_bytes_get_data (b, NULL),
          g_bytes_get_size (b), &m2, &error));
  g_assert_no_error (error);
  check_same (&m, &m2);
  b2 = mcp_amt_build (&m2);
  g_assert_true (mcp_amt_parse (g_bytes_get_data (b2, NULL),
          g_bytes_get_size (b2), &m3, &error));
  g_assert_no_error (error);
  check_same (&m2, &m3);
  g_bytes_unref (b);
  g_bytes_unref (b2);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  guint8 opts, *copy;

  if (size < 1)
    return 0;
  opts = data[0];
  copy = g_memdup2 (data + 1, size - 1);
  size--;
  if (opts & 1) {
    if (opts & 2)
      fix_checksums (copy, size);
    fuzz_ip (copy, size);
  } else {
    if ((opts & 2) && size > 12)
      fix_checksums (copy + 12, size - 12);
    fuzz_amt (copy, size);
  }
  g_free (copy);
  return 0;
}
