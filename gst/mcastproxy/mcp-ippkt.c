/* mcastproxy — whole IP packets, built and read by hand. */
#include "config.h"

#include "mcp-ippkt.h"
#include "mcp-bytes.h"

#include <string.h>

#define IPV4_HEADER 20
#define IPV4_RA_HEADER 24       /* with the 4-byte Router Alert */
#define IPV6_HEADER 40
#define IPV6_HBH_RA 8           /* hop-by-hop: Router Alert, PadN */
#define UDP_HEADER 8
#define NEXT_HOP_BY_HOP 0

/* *INDENT-OFF* */
G_DEFINE_QUARK (mcp-ippkt-error-quark, mcp_ippkt_error);
/* *INDENT-ON* */

/* Sets error (when asked for) and is FALSE, for the parsers to return. */
#define fail(error, code, ...) \
  (g_set_error ((error), MCP_IPPKT_ERROR, (code), __VA_ARGS__), FALSE)

/* Eight bytes a step: their four big-endian 16-bit words go to 32-bit
 * lanes of two accumulators (words 0 and 2 in one, 1 and 3 in the other),
 * so that the sum is that of the words exactly, as adding them one by one
 * gives it, whatever the alignment. A lane holds 65537 words before it can
 * overflow: the lanes go to the total every 65536 steps at the latest. */
#define SUM_STEPS_MAX 65536
#define SUM_LANES G_GUINT64_CONSTANT (0x0000ffff0000ffff)

guint32
mcp_ippkt_sum (const guint8 * data, gsize len, guint32 sum)
{
  guint64 s = sum;

  while (len >= 8) {
    gsize n = MIN (len / 8, SUM_STEPS_MAX), i;
    guint64 a = 0, b = 0;

    for (i = 0; i < n; i++) {
      guint64 w;

      memcpy (&w, data + 8 * i, 8);
      w = GUINT64_FROM_BE (w);
      a += w & SUM_LANES;
      b += (w >> 16) & SUM_LANES;
    }
    s += (a & 0xffffffff) + (a >> 32) + (b & 0xffffffff) + (b >> 32);
    data += 8 * n;
    len -= 8 * n;
  }
  for (; len >= 2; data += 2, len -= 2)
    s += mcp_get_u16 (data);
  if (len)
    s += data[0] << 8;
  while (s >> 32)
    s = (s & 0xffffffff) + (s >> 32);
  return (guint32) s;
}

guint16
mcp_ippkt_fold (guint32 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/* The pseudo-header's sum (RFC 768, RFC 8200 8.1) for a transport message
 * of len bytes. */
static guint32
pseudo_sum (guint8 family, const guint8 * src, const guint8 * dst,
    guint8 protocol, gsize len)
{
  gsize alen = family == 4 ? 4 : 16;
  guint32 sum = mcp_ippkt_sum (src, alen, 0);

  sum = mcp_ippkt_sum (dst, alen, sum);
  /* IPv4: zero, protocol, 16-bit length; IPv6: 32-bit length, 3 zeros,
   * next header: the same sum for any length below 65536 */
  return sum + protocol + (guint32) (len & 0xffff) + (guint32) (len >> 16);
}

static gboolean
parse_v4 (const guint8 * data, gsize len, McpIpPacket * pkt, GError ** error)
{
  gsize ihl, total, off;

  if (len < IPV4_HEADER)
    return fail (error, MCP_IPPKT_ERROR_INVALID,
        "IPv4 packet of %" G_GSIZE_FORMAT " bytes: shorter than a header", len);
  ihl = (data[0] & 0x0f) * 4;
  total = mcp_get_u16 (data + 2);
  if (ihl < IPV4_HEADER || ihl > len)
    return fail (error, MCP_IPPKT_ERROR_INVALID,
        "IPv4 header length %" G_GSIZE_FORMAT " in a packet of %"
        G_GSIZE_FORMAT " bytes", ihl, len);
  if (total < ihl || total > len)
    return fail (error, MCP_IPPKT_ERROR_INVALID,
        "IPv4 total length %" G_GSIZE_FORMAT " in a packet of %"
        G_GSIZE_FORMAT " bytes with a %" G_GSIZE_FORMAT "-byte header",
        total, len, ihl);
  if (mcp_ippkt_fold (mcp_ippkt_sum (data, ihl, 0)) != 0)
    return fail (error, MCP_IPPKT_ERROR_INVALID, "IPv4 header checksum wrong");
  /* more fragments, or a fragment offset */
  if ((mcp_get_u16 (data + 6) & 0x3fff) != 0)
    return fail (error, MCP_IPPKT_ERROR_UNSUPPORTED,
        "an IPv4 fragment: not carried");
  memset (pkt, 0, sizeof (*pkt));
  pkt->family = 4;
  pkt->ttl = data[8];
  pkt->protocol = data[9];
  memcpy (pkt->src, data + 12, 4);
  memcpy (pkt->dst, data + 16, 4);
  /* options: look for Router Alert (148), stop at End (0) */
  for (off = IPV4_HEADER; off < ihl;) {
    guint8 type = data[off];

    if (type == 0)
      break;
    if (type == 1) {
      off++;
      continue;
    }
    if (off + 1 >= ihl || data[off + 1] < 2 || off + data[off + 1] > ihl)
      return fail (error, MCP_IPPKT_ERROR_INVALID, "IPv4 options malformed");
    if (type == 148)
      pkt->router_alert = TRUE;
    off += data[off + 1];
  }
  pkt->payload = data + ihl;
  pkt->payload_len = total - ihl;
  return TRUE;
}

/* Router Alert among hop-by-hop options opts of len bytes; FALSE when they
 * are malformed. */
static gboolean
hbh_options (const guint8 * opts, gsize len, gboolean * router_alert)
{
  gsize off = 0;

  while (off < len) {
    if (opts[off] == 0) {       /* Pad1 */
      off++;
      continue;
    }
    if (off + 2 > len || off + 2 + opts[off + 1] > len)
      return FALSE;
    if (opts[off] == 5)
      *router_alert = TRUE;
    off += 2 + opts[off + 1];
  }
  return TRUE;
}

static gboolean
parse_v6 (const guint8 * data, gsize len, McpIpPacket * pkt, GError ** error)
{
  gsize plen, off = IPV6_HEADER;
  guint8 next;

  if (len < IPV6_HEADER)
    return fail (error, MCP_IPPKT_ERROR_INVALID,
        "IPv6 packet of %" G_GSIZE_FORMAT " bytes: shorter than a header", len);
  plen = mcp_get_u16 (data + 4);
  if (IPV6_HEADER + plen > len)
    return fail (error, MCP_IPPKT_ERROR_INVALID,
        "IPv6 payload length %" G_GSIZE_FORMAT " in a packet of %"
        G_GSIZE_FORMAT " bytes", plen, len);
  memset (pkt, 0, sizeof (*pkt));
  pkt->family = 6;
  next = data[6];
  pkt->ttl = data[7];
  memcpy (pkt->src, data + 8, 16);
  memcpy (pkt->dst, data + 24, 16);
  len = IPV6_HEADER + plen;
  if (next == NEXT_HOP_BY_HOP) {
    gsize hlen;

    if (off + 8 > len)
      return fail (error, MCP_IPPKT_ERROR_INVALID,
          "IPv6 hop-by-hop header cut short");
    hlen = (data[off + 1] + 1) * 8;
    if (off + hlen > len)
      return fail (error, MCP_IPPKT_ERROR_INVALID,
          "IPv6 hop-by-hop header of %" G_GSIZE_FORMAT " bytes cut short",
          hlen);
    if (!hbh_options (data + off + 2, hlen - 2, &pkt->router_alert))
      return fail (error, MCP_IPPKT_ERROR_INVALID,
          "IPv6 hop-by-hop options malformed");
    next = data[off];
    off += hlen;
  }
  if (next != MCP_IPPKT_PROTO_UDP && next != MCP_IPPKT_PROTO_ICMPV6)
    return fail (error, MCP_IPPKT_ERROR_UNSUPPORTED,
        "IPv6 next header %u: only UDP and ICMPv6 are carried", next);
  pkt->protocol = next;
  pkt->payload = data + off;
  pkt->payload_len = len - off;
  if (next == MCP_IPPKT_PROTO_ICMPV6 &&
      mcp_ippkt_fold (mcp_ippkt_sum (pkt->payload, pkt->payload_len,
              pseudo_sum (6, pkt->src, pkt->dst, next, pkt->payload_len))) != 0)
    return fail (error, MCP_IPPKT_ERROR_INVALID, "ICMPv6 checksum wrong");
  return TRUE;
}

gboolean
mcp_ippkt_parse (const guint8 * data, gsize len, McpIpPacket * pkt,
    GError ** error)
{
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (pkt != NULL, FALSE);

  if (len == 0)
    return fail (error, MCP_IPPKT_ERROR_INVALID, "an empty IP packet");
  switch (data[0] >> 4) {
    case 4:
      return parse_v4 (data, len, pkt, error);
    case 6:
      return parse_v6 (data, len, pkt, error);
    default:
      return fail (error, MCP_IPPKT_ERROR_INVALID, "IP version %u",
          data[0] >> 4);
  }
}

gboolean
mcp_ippkt_udp (const McpIpPacket * pkt, guint16 * src_port,
    guint16 * dst_port, const guint8 ** payload, gsize * payload_len,
    GError ** error)
{
  const guint8 *u = pkt->payload;
  gsize ulen;
  guint16 csum;

  if (pkt->protocol != MCP_IPPKT_PROTO_UDP)
    return fail (error, MCP_IPPKT_ERROR_UNSUPPORTED,
        "IP protocol %u, not UDP", pkt->protocol);
  if (pkt->payload_len < UDP_HEADER)
    return fail (error, MCP_IPPKT_ERROR_INVALID,
        "UDP datagram of %" G_GSIZE_FORMAT " bytes: shorter than a header",
        pkt->payload_len);
  ulen = mcp_get_u16 (u + 4);
  if (ulen < UDP_HEADER || ulen > pkt->payload_len)
    return fail (error, MCP_IPPKT_ERROR_INVALID,
        "UDP length %" G_GSIZE_FORMAT " in %" G_GSIZE_FORMAT " bytes", ulen,
        pkt->payload_len);
  csum = mcp_get_u16 (u + 6);
  if (csum == 0 && pkt->family == 6)
    return fail (error, MCP_IPPKT_ERROR_INVALID,
        "UDP over IPv6 without a checksum");
  if (csum != 0 && mcp_ippkt_fold (mcp_ippkt_sum (u, ulen,
              pseudo_sum (pkt->family, pkt->src, pkt->dst,
                  MCP_IPPKT_PROTO_UDP, ulen))) != 0)
    return fail (error, MCP_IPPKT_ERROR_INVALID, "UDP checksum wrong");
  *src_port = mcp_get_u16 (u);
  *dst_port = mcp_get_u16 (u + 2);
  *payload = u + UDP_HEADER;
  *payload_len = ulen - UDP_HEADER;
  return TRUE;
}

gsize
mcp_ippkt_write_udp (guint8 * out, guint8 family, const guint8 * src,
    guint16 src_port, const guint8 * dst, guint16 dst_port, guint8 ttl,
    guint16 ip_id, gsize len, guint32 payload_sum)
{
  gsize ulen = UDP_HEADER + len, hlen;
  guint64 sum;
  guint8 *u;
  guint16 csum;

  g_return_val_if_fail (family == 4 || family == 6, 0);

  if (family == 4) {
    if (IPV4_HEADER + ulen > MCP_IPPKT_MAX)
      return 0;
    hlen = IPV4_HEADER;
    memset (out, 0, IPV4_HEADER);
    out[0] = 0x45;
    mcp_put_u16 (out + 2, IPV4_HEADER + ulen);
    mcp_put_u16 (out + 4, ip_id);
    out[6] = 0x40;              /* don't fragment */
    out[8] = ttl;
    out[9] = MCP_IPPKT_PROTO_UDP;
    memcpy (out + 12, src, 4);
    memcpy (out + 16, dst, 4);
    mcp_put_u16 (out + 10, mcp_ippkt_fold (mcp_ippkt_sum (out, IPV4_HEADER,
                0)));
  } else {
    if (ulen > MCP_IPPKT_MAX)
      return 0;
    hlen = IPV6_HEADER;
    memset (out, 0, IPV6_HEADER);
    out[0] = 0x60;
    mcp_put_u16 (out + 4, ulen);
    out[6] = MCP_IPPKT_PROTO_UDP;
    out[7] = ttl;
    memcpy (out + 8, src, 16);
    memcpy (out + 24, dst, 16);
  }
  u = out + hlen;
  mcp_put_u16 (u, src_port);
  mcp_put_u16 (u + 2, dst_port);
  mcp_put_u16 (u + 4, ulen);
  mcp_put_u16 (u + 6, 0);
  /* the header's sum with the payload's, which may carry out */
  sum = (guint64) mcp_ippkt_sum (u, UDP_HEADER,
      pseudo_sum (family, src, dst, MCP_IPPKT_PROTO_UDP, ulen)) + payload_sum;
  while (sum >> 32)
    sum = (sum & 0xffffffff) + (sum >> 32);
  csum = mcp_ippkt_fold ((guint32) sum);
  /* RFC 768: a computed 0 is sent as all ones */
  mcp_put_u16 (u + 6, csum == 0 ? 0xffff : csum);
  return hlen + UDP_HEADER;
}

GBytes *
mcp_ippkt_wrap_membership (guint8 family, const guint8 * src,
    const guint8 * dst, const guint8 * msg, gsize len)
{
  guint8 *buf;
  gsize hlen, total;

  g_return_val_if_fail (family == 4 || family == 6, NULL);

  if (family == 4) {
    hlen = IPV4_RA_HEADER;
    total = hlen + len;
    if (total > MCP_IPPKT_MAX)
      return NULL;
    buf = g_malloc0 (total);
    buf[0] = 0x46;
    buf[1] = 0xc0;              /* internetwork control, as hosts send it */
    mcp_put_u16 (buf + 2, total);
    buf[8] = 1;
    buf[9] = MCP_IPPKT_PROTO_IGMP;
    memcpy (buf + 12, src, 4);
    memcpy (buf + 16, dst, 4);
    buf[20] = 148;              /* Router Alert, RFC 2113 */
    buf[21] = 4;
    mcp_put_u16 (buf + 10, mcp_ippkt_fold (mcp_ippkt_sum (buf, hlen, 0)));
    memcpy (buf + hlen, msg, len);
  } else {
    guint8 *m;

    hlen = IPV6_HEADER + IPV6_HBH_RA;
    if (IPV6_HBH_RA + len > MCP_IPPKT_MAX || len < 4)
      return NULL;
    total = hlen + len;
    buf = g_malloc0 (total);
    buf[0] = 0x60;
    mcp_put_u16 (buf + 4, IPV6_HBH_RA + len);
    buf[6] = NEXT_HOP_BY_HOP;
    buf[7] = 1;
    memcpy (buf + 8, src, 16);
    memcpy (buf + 24, dst, 16);
    /* next header ICMPv6, length 0 (8 bytes), Router Alert (RFC 2711)
     * value 0 (MLD), PadN of 0 */
    buf[40] = MCP_IPPKT_PROTO_ICMPV6;
    buf[41] = 0;
    buf[42] = 5;
    buf[43] = 2;
    buf[46] = 1;
    buf[47] = 0;
    m = buf + hlen;
    memcpy (m, msg, len);
    mcp_put_u16 (m + 2, 0);
    mcp_put_u16 (m + 2, mcp_ippkt_fold (mcp_ippkt_sum (m, len,
                pseudo_sum (6, src, dst, MCP_IPPKT_PROTO_ICMPV6, len))));
  }
  return g_bytes_new_take (buf, total);
}
