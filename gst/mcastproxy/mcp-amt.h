/* mcastproxy — AMT messages (Automatic Multicast Tunneling, RFC 7450).
 *
 * A gateway on a network without multicast asks a relay on one with it for
 * channels, over UDP (port 2268):
 *
 *   gateway                                   relay
 *   Relay Discovery (nonce)            ->
 *                                      <-     Relay Advertisement (nonce, relay address)
 *   Request (request nonce, P)         ->
 *                                      <-     Membership Query (MAC, nonce, IGMPv3/MLDv2 query [, gateway address])
 *   Membership Update (MAC, nonce, report) ->
 *                                      <-     Multicast Data (the IP packet)  ...
 *   Teardown (MAC, nonce, gateway address) ->
 *
 * The response MAC is the relay's keyed hash of the gateway's address, port
 * and request nonce (5.1.4.4): a relay keeps no state for a gateway until
 * an Update proves, by echoing MAC and nonce, that it receives at the
 * address it claims.
 *
 * Flags: the RFC's figures put Request's P flag in the last bit of the
 * second byte and Query's L and G flags in its last two bits; one
 * implementation (Linux's) puts them in its first bits. We write the RFC's
 * positions and read either, and take the Query's gateway fields from its
 * length, not from G alone.
 *
 * Pure code: no sockets, no GStreamer.
 */
#ifndef __MCP_AMT_H__
#define __MCP_AMT_H__

#include <glib.h>

G_BEGIN_DECLS

#define MCP_AMT_PORT 2268
/* the IPv4 anycast address of AMT relays (RFC 7450 7) */
#define MCP_AMT_DISCOVERY_ADDRESS "192.52.193.1"
#define MCP_AMT_MAC_LEN 6
/* Multicast Data: type and a reserved byte before the IP packet */
#define MCP_AMT_DATA_HEADER_LEN 2

#define MCP_AMT_ERROR (mcp_amt_error_quark ())
GQuark mcp_amt_error_quark (void);

typedef enum
{
  MCP_AMT_ERROR_INVALID,        /* truncated, or fields that cannot be */
  MCP_AMT_ERROR_VERSION,        /* a version other than 0 */
  MCP_AMT_ERROR_UNKNOWN_TYPE,   /* a type outside 1-7 */
} McpAmtError;

typedef enum
{
  MCP_AMT_RELAY_DISCOVERY = 1,
  MCP_AMT_RELAY_ADVERTISEMENT = 2,
  MCP_AMT_REQUEST = 3,
  MCP_AMT_MEMBERSHIP_QUERY = 4,
  MCP_AMT_MEMBERSHIP_UPDATE = 5,
  MCP_AMT_MULTICAST_DATA = 6,
  MCP_AMT_TEARDOWN = 7,
} McpAmtType;

typedef struct
{
  McpAmtType type;
  /* DISCOVERY, ADVERTISEMENT: the discovery nonce; REQUEST, QUERY, UPDATE,
   * TEARDOWN: the request nonce */
  guint32 nonce;
  /* QUERY, UPDATE, TEARDOWN: the response MAC, 48 bits */
  guint64 mac;
  /* REQUEST: the gateway wants an MLDv2 (IPv6) query, not IGMPv3 */
  gboolean p_flag;
  /* QUERY: the relay takes no more gateways (L); address and port hold
   * the gateway as the relay sees it (G) */
  gboolean l_flag;
  gboolean g_flag;
  /* ADVERTISEMENT: the relay's address; QUERY with G and TEARDOWN: the
   * gateway's. family 4 or 6; IPv4 in the first 4 bytes */
  guint8 family;
  guint8 address[16];
  /* QUERY with G, TEARDOWN: the gateway's UDP port */
  guint16 port;
  /* QUERY, UPDATE, MULTICAST_DATA: the IP packet carried, pointing into
   * the message parsed (to build: the bytes to carry) */
  const guint8 *inner;
  gsize inner_len;
} McpAmtMessage;

/* Reads one AMT message (a UDP payload). Version and type are checked, and
 * the fixed fields' length; QUERY and UPDATE must carry an IP packet whose
 * own length ends within the message (a QUERY's gateway fields follow it),
 * MULTICAST_DATA anything at all (the caller reads the packet). Bytes
 * after a fixed-size message are ignored (a known gateway sends a 9-byte
 * Request). FALSE with MCP_AMT_ERROR. */
gboolean mcp_amt_parse (const guint8 * data, gsize len, McpAmtMessage * msg,
    GError ** error);

/* The bytes of msg (inner copied after its header; for QUERY with G, the
 * gateway's address and port after inner). */
GBytes *mcp_amt_build (const McpAmtMessage * msg);

/* Writes Multicast Data's 2-byte header to out. */
void mcp_amt_write_data_header (guint8 * out);

/* "Relay Discovery" ... "Teardown"; "unknown" else. */
const gchar *mcp_amt_type_name (McpAmtType type);

/* A relay's secret for response MACs: random, replaced by rotate(), the
 * previous one still accepted until the next rotation, so that a gateway
 * caught by a rotation between its Request and its Update goes on. */
typedef struct _McpAmtMacKey McpAmtMacKey;

McpAmtMacKey *mcp_amt_mac_key_new (void);
void mcp_amt_mac_key_free (McpAmtMacKey * key);
void mcp_amt_mac_key_rotate (McpAmtMacKey * key);
/* The MAC (48 bits) of a gateway's address (family 4 or 6), UDP port and
 * request nonce, with the current secret. */
guint64 mcp_amt_mac (const McpAmtMacKey * key, guint8 family,
    const guint8 * address, guint16 port, guint32 nonce);
/* Whether mac is that of the current or the previous secret. */
gboolean mcp_amt_mac_check (const McpAmtMacKey * key, guint8 family,
    const guint8 * address, guint16 port, guint32 nonce, guint64 mac);

G_END_DECLS

#endif /* __MCP_AMT_H__ */
