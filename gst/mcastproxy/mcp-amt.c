/* mcastproxy — AMT messages (Automatic Multicast Tunneling, RFC 7450). */
#include "config.h"

#include "mcp-amt.h"
#include "mcp-bytes.h"

#include <string.h>
#include <sys/random.h>

#define SHORT_LEN 8             /* Discovery, Request */
#define MAC_NONCE_LEN 12        /* type, flags, MAC, nonce: Query, Update */
#define GATEWAY_FIELDS_LEN 18   /* port, 128-bit address */
#define TEARDOWN_LEN (MAC_NONCE_LEN + GATEWAY_FIELDS_LEN)
#define SECRET_LEN 32

/* Request's P, Query's L and G: the RFC's bits, and the other reading's */
#define P_FLAG 0x01
#define P_FLAG_ALT 0x80
#define G_FLAG 0x01
#define L_FLAG 0x02
#define G_FLAG_ALT 0x80
#define L_FLAG_ALT 0x40

/* *INDENT-OFF* */
G_DEFINE_QUARK (mcp-amt-error-quark, mcp_amt_error);
/* *INDENT-ON* */

struct _McpAmtMacKey
{
  guint8 current[SECRET_LEN];
  guint8 previous[SECRET_LEN];
};

static guint64
get_mac (const guint8 * p)
{
  guint64 v = 0;
  gint i;

  for (i = 0; i < MCP_AMT_MAC_LEN; i++)
    v = (v << 8) | p[i];
  return v;
}

static void
put_mac (guint8 * p, guint64 v)
{
  gint i;

  for (i = MCP_AMT_MAC_LEN - 1; i >= 0; i--, v >>= 8)
    p[i] = v & 0xff;
}

/* Sets error (when asked for) and is FALSE, for the parsers to return. */
#define fail(error, code, ...) \
  (g_set_error ((error), MCP_AMT_ERROR, (code), __VA_ARGS__), FALSE)

const gchar *
mcp_amt_type_name (McpAmtType type)
{
  static const gchar *const names[] = { NULL, "Relay Discovery",
    "Relay Advertisement", "Request", "Membership Query",
    "Membership Update", "Multicast Data", "Teardown"
  };

  if (type >= 1 && type < G_N_ELEMENTS (names))
    return names[type];
  return "unknown";
}

/* The length an IP packet at p (len bytes available) says it has; 0 when
 * it cannot say (too short, not IPv4 or IPv6). */
static gsize
ip_length (const guint8 * p, gsize len)
{
  if (len >= 20 && (p[0] >> 4) == 4) {
    gsize total = (p[2] << 8) | p[3];

    return total >= 20 ? total : 0;
  }
  if (len >= 40 && (p[0] >> 4) == 6)
    return 40 + ((p[4] << 8) | p[5]);
  return 0;
}

/* The gateway's port and address from the 18 bytes at p: an IPv4 address
 * as ::ffff:a.b.c.d (what we write) or ::a.b.c.d (IPv4-compatible). */
static void
read_gateway (const guint8 * p, McpAmtMessage * msg)
{
  static const guint8 zeros[12] = { 0 };
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff
  };
  const guint8 *a = p + 2;

  msg->port = (p[0] << 8) | p[1];
  memset (msg->address, 0, sizeof (msg->address));
  /* ::ffff:a.b.c.d always; IPv4-compatible ::a.b.c.d only for a global
   * IPv4 address, never 0.x.x.x: :: and ::1 are IPv6's own */
  if (memcmp (a, mapped, 12) == 0 || (memcmp (a, zeros, 12) == 0 && a[12] != 0)) {
    msg->family = 4;
    memcpy (msg->address, a + 12, 4);
  } else {
    msg->family = 6;
    memcpy (msg->address, a, 16);
  }
}

static void
write_gateway (guint8 * p, const McpAmtMessage * msg)
{
  p[0] = msg->port >> 8;
  p[1] = msg->port & 0xff;
  memset (p + 2, 0, 16);
  if (msg->family == 4) {
    p[12] = p[13] = 0xff;
    memcpy (p + 14, msg->address, 4);
  } else {
    memcpy (p + 2, msg->address, 16);
  }
}

gboolean
mcp_amt_parse (const guint8 * data, gsize len, McpAmtMessage * msg,
    GError ** error)
{
  McpAmtType type;
  gsize ilen;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (msg != NULL, FALSE);

  memset (msg, 0, sizeof (*msg));
  if (len == 0)
    return fail (error, MCP_AMT_ERROR_INVALID, "an empty AMT message");
  if (data[0] >> 4 != 0)
    return fail (error, MCP_AMT_ERROR_VERSION, "AMT version %u (we speak 0)",
        data[0] >> 4);
  type = data[0] & 0x0f;
  if (type < MCP_AMT_RELAY_DISCOVERY || type > MCP_AMT_TEARDOWN)
    return fail (error, MCP_AMT_ERROR_UNKNOWN_TYPE, "AMT message type %u",
        (guint) type);
  msg->type = type;

  switch (type) {
    case MCP_AMT_RELAY_DISCOVERY:
    case MCP_AMT_REQUEST:
      if (len < SHORT_LEN)
        goto truncated;
      msg->nonce = mcp_get_u32 (data + 4);
      if (type == MCP_AMT_REQUEST)
        msg->p_flag = (data[1] & (P_FLAG | P_FLAG_ALT)) != 0;
      return TRUE;
    case MCP_AMT_RELAY_ADVERTISEMENT:
      if (len < SHORT_LEN + 4)
        goto truncated;
      msg->nonce = mcp_get_u32 (data + 4);
      /* the address is as long as the message says */
      if (len >= SHORT_LEN + 16) {
        msg->family = 6;
        memcpy (msg->address, data + SHORT_LEN, 16);
      } else {
        msg->family = 4;
        memcpy (msg->address, data + SHORT_LEN, 4);
      }
      return TRUE;
    case MCP_AMT_MEMBERSHIP_QUERY:
    case MCP_AMT_MEMBERSHIP_UPDATE:
      if (len < MAC_NONCE_LEN)
        goto truncated;
      msg->mac = get_mac (data + 2);
      msg->nonce = mcp_get_u32 (data + 8);
      ilen = ip_length (data + MAC_NONCE_LEN, len - MAC_NONCE_LEN);
      if (ilen == 0 || ilen > len - MAC_NONCE_LEN)
        return fail (error, MCP_AMT_ERROR_INVALID,
            "AMT %s of %" G_GSIZE_FORMAT " bytes without a whole IP packet",
            mcp_amt_type_name (type), len);
      msg->inner = data + MAC_NONCE_LEN;
      msg->inner_len = ilen;
      if (type == MCP_AMT_MEMBERSHIP_QUERY) {
        msg->l_flag = (data[1] & (L_FLAG | L_FLAG_ALT)) != 0;
        if (len - MAC_NONCE_LEN - ilen >= GATEWAY_FIELDS_LEN) {
          msg->g_flag = TRUE;
          read_gateway (data + MAC_NONCE_LEN + ilen, msg);
        } else if (data[1] & (G_FLAG | G_FLAG_ALT)) {
          return fail (error, MCP_AMT_ERROR_INVALID,
              "AMT Membership Query with the G flag but no gateway address");
        }
      }
      return TRUE;
    case MCP_AMT_MULTICAST_DATA:
      if (len < MCP_AMT_DATA_HEADER_LEN)
        goto truncated;
      msg->inner = data + MCP_AMT_DATA_HEADER_LEN;
      msg->inner_len = len - MCP_AMT_DATA_HEADER_LEN;
      return TRUE;
    case MCP_AMT_TEARDOWN:
      if (len < TEARDOWN_LEN)
        goto truncated;
      msg->mac = get_mac (data + 2);
      msg->nonce = mcp_get_u32 (data + 8);
      read_gateway (data + MAC_NONCE_LEN, msg);
      return TRUE;
  }
  g_assert_not_reached ();

truncated:
  return fail (error, MCP_AMT_ERROR_INVALID,
      "AMT %s of %" G_GSIZE_FORMAT " bytes: cut short",
      mcp_amt_type_name (type), len);
}

GBytes *
mcp_amt_build (const McpAmtMessage * msg)
{
  guint8 *buf;
  gsize len;

  g_return_val_if_fail (msg != NULL, NULL);
  g_return_val_if_fail (msg->inner != NULL || msg->inner_len == 0, NULL);

  switch (msg->type) {
    case MCP_AMT_RELAY_DISCOVERY:
    case MCP_AMT_REQUEST:
      len = SHORT_LEN;
      buf = g_malloc0 (len);
      mcp_put_u32 (buf + 4, msg->nonce);
      if (msg->type == MCP_AMT_REQUEST && msg->p_flag)
        buf[1] = P_FLAG;
      break;
    case MCP_AMT_RELAY_ADVERTISEMENT:
      g_return_val_if_fail (msg->family == 4 || msg->family == 6, NULL);
      len = SHORT_LEN + (msg->family == 4 ? 4 : 16);
      buf = g_malloc0 (len);
      mcp_put_u32 (buf + 4, msg->nonce);
      memcpy (buf + SHORT_LEN, msg->address, len - SHORT_LEN);
      break;
    case MCP_AMT_MEMBERSHIP_QUERY:
    case MCP_AMT_MEMBERSHIP_UPDATE:
      len = MAC_NONCE_LEN + msg->inner_len;
      if (msg->type == MCP_AMT_MEMBERSHIP_QUERY && msg->g_flag)
        len += GATEWAY_FIELDS_LEN;
      buf = g_malloc0 (len);
      put_mac (buf + 2, msg->mac);
      mcp_put_u32 (buf + 8, msg->nonce);
      if (msg->inner_len)
        memcpy (buf + MAC_NONCE_LEN, msg->inner, msg->inner_len);
      if (msg->type == MCP_AMT_MEMBERSHIP_QUERY) {
        buf[1] = (msg->l_flag ? L_FLAG : 0) | (msg->g_flag ? G_FLAG : 0);
        if (msg->g_flag)
          write_gateway (buf + MAC_NONCE_LEN + msg->inner_len, msg);
      }
      break;
    case MCP_AMT_MULTICAST_DATA:
      len = MCP_AMT_DATA_HEADER_LEN + msg->inner_len;
      buf = g_malloc0 (len);
      if (msg->inner_len)
        memcpy (buf + MCP_AMT_DATA_HEADER_LEN, msg->inner, msg->inner_len);
      break;
    case MCP_AMT_TEARDOWN:
      len = TEARDOWN_LEN;
      buf = g_malloc0 (len);
      put_mac (buf + 2, msg->mac);
      mcp_put_u32 (buf + 8, msg->nonce);
      write_gateway (buf + MAC_NONCE_LEN, msg);
      break;
    default:
      g_return_val_if_reached (NULL);
  }
  buf[0] = msg->type;
  return g_bytes_new_take (buf, len);
}

void
mcp_amt_write_data_header (guint8 * out)
{
  out[0] = MCP_AMT_MULTICAST_DATA;
  out[1] = 0;
}

McpAmtMacKey *
mcp_amt_mac_key_new (void)
{
  McpAmtMacKey *key = g_new0 (McpAmtMacKey, 1);

  mcp_amt_mac_key_rotate (key);
  mcp_amt_mac_key_rotate (key);
  return key;
}

void
mcp_amt_mac_key_free (McpAmtMacKey * key)
{
  if (key) {
    memset (key, 0, sizeof (*key));
    g_free (key);
  }
}

void
mcp_amt_mac_key_rotate (McpAmtMacKey * key)
{
  memcpy (key->previous, key->current, SECRET_LEN);
  /* from the kernel's generator: GLib's is a Mersenne twister, whose state
   * a peer could learn from the nonces it also makes */
  if (getrandom (key->current, SECRET_LEN, 0) != SECRET_LEN) {
    guint i;

    /* a signal cut it short: GLib's then, rather than a weak secret */
    for (i = 0; i < SECRET_LEN; i += 4) {
      guint32 r = g_random_int ();

      memcpy (key->current + i, &r, 4);
    }
  }
}

static guint64
mac_with (const guint8 * secret, guint8 family, const guint8 * address,
    guint16 port, guint32 nonce)
{
  GHmac *hmac = g_hmac_new (G_CHECKSUM_SHA256, secret, SECRET_LEN);
  guint8 msg[1 + 16 + 2 + 4], digest[32];
  gsize alen = family == 4 ? 4 : 16, dlen = sizeof (digest);

  msg[0] = family;
  memcpy (msg + 1, address, alen);
  msg[1 + alen] = port >> 8;
  msg[2 + alen] = port & 0xff;
  mcp_put_u32 (msg + 3 + alen, nonce);
  g_hmac_update (hmac, msg, 7 + alen);
  g_hmac_get_digest (hmac, digest, &dlen);
  g_hmac_unref (hmac);
  return get_mac (digest);
}

guint64
mcp_amt_mac (const McpAmtMacKey * key, guint8 family, const guint8 * address,
    guint16 port, guint32 nonce)
{
  return mac_with (key->current, family, address, port, nonce);
}

gboolean
mcp_amt_mac_check (const McpAmtMacKey * key, guint8 family,
    const guint8 * address, guint16 port, guint32 nonce, guint64 mac)
{
  return mac == mac_with (key->current, family, address, port, nonce) ||
      mac == mac_with (key->previous, family, address, port, nonce);
}
