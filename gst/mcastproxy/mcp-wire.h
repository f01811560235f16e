/* mcastproxy — wire formats of the TCP leg: mpx, rfc4571 and raw.
 *
 * The authoritative description is docs/protocol.md; this header mirrors it.
 * Pure code: no sockets, no GStreamer.
 */
#ifndef __MCP_WIRE_H__
#define __MCP_WIRE_H__

#include <glib.h>

#include "mcp-subscription.h"

G_BEGIN_DECLS

typedef enum
{
  MCP_FRAMING_AUTO = 0,
  MCP_FRAMING_MPX = 1,
  MCP_FRAMING_RFC4571 = 2,
  MCP_FRAMING_RAW = 3,
} McpFraming;

typedef enum
{
  MCP_ROLE_SOURCE = 1,          /* sends datagrams on this connection */
  MCP_ROLE_RECEIVER = 2,        /* receives datagrams on this connection */
  MCP_ROLE_PEER = 3,            /* both: a link between two mesh nodes */
} McpRole;

/* Message types of mpx version 1. */
typedef enum
{
  MCP_MSG_HELLO = 'H',
  MCP_MSG_DATA = 'D',
  MCP_MSG_CAPS = 'C',
  MCP_MSG_KEEPALIVE = 'K',
  MCP_MSG_AUTH = 'A',
  MCP_MSG_ERROR = 'E',
  MCP_MSG_SUBSCRIBE = 'S',
  MCP_MSG_UNSUBSCRIBE = 'U',
} McpMsgType;

/* A receiver that does not know a message type skips it when this flag is
 * set, and closes the connection otherwise. */
#define MCP_MSG_FLAG_IGNORABLE 0x01

#define MCP_MPX_MAGIC "\x89MPX"
#define MCP_MPX_MAGIC_LEN 4
#define MCP_MPX_VERSION_MAJOR 1
#define MCP_MPX_VERSION_MINOR 0
#define MCP_MPX_PREAMBLE_LEN 8
#define MCP_MPX_MSG_HEADER_LEN 8
#define MCP_MPX_HELLO_META_LEN 12
#define MCP_MPX_DATA_META_LEN 44
#define MCP_MPX_DATA_HEADER_LEN (MCP_MPX_MSG_HEADER_LEN + MCP_MPX_DATA_META_LEN)
/* DATA with the source extension: the original sender's address (16
 * bytes at 44) and port (at 60), 2 bytes reserved */
#define MCP_MPX_DATA_SOURCE_META_LEN 64
#define MCP_MPX_DATA_HEADER_MAX_LEN \
  (MCP_MPX_MSG_HEADER_LEN + MCP_MPX_DATA_SOURCE_META_LEN)
#define MCP_MPX_MAX_META_LEN 1024
#define MCP_MPX_MAX_CONTROL_LEN 65535
#define MCP_RFC4571_HEADER_LEN 2
/* An ERROR's reason: one line for a log. */
#define MCP_MPX_MAX_ERROR_LEN 512

/* Largest datagram any framing carries: the IP length field is 16 bits. */
#define MCP_MAX_DATAGRAM 65535

/* HELLO payload TLV types; unknown types are skipped. */
#define MCP_HELLO_TLV_CAPS 1
#define MCP_HELLO_TLV_NAME 2
#define MCP_HELLO_TLV_AUTH_NONCE 3
#define MCP_HELLO_TLV_FEATURES 4

/* Features a HELLO announces (TLV 4, a 32-bit big-endian mask). */
#define MCP_FEATURE_SUBSCRIPTIONS 0x1   /* sends and honours SUBSCRIBE */
#define MCP_FEATURE_SUB_ORIGINS 0x2     /* ... and its per-origin extension */

/* SUBSCRIBE and UNSUBSCRIBE: 4 bytes of metadata, byte 0 flags; the
 * per-origin extension makes it 16: origin (BE64) at 4, distance at 12 */
#define MCP_MPX_SUB_META_LEN 4
#define MCP_MPX_SUB_ORIGIN_META_LEN 16
#define MCP_SUB_FLAG_REPLACE 0x01       /* SUBSCRIBE: the whole state */

/* Authentication (docs/protocol.md): a HELLO's nonce and an AUTH proof. */
#define MCP_AUTH_NONCE_LEN 32
#define MCP_AUTH_PROOF_LEN 32

/* Per-datagram metadata carried by mpx DATA messages. */
typedef struct
{
  guint64 origin_id;            /* peer id of the point where it entered */
  guint64 seq;                  /* per-origin sequence number */
  guint64 capture_time;         /* ns since the Unix epoch, 0 = unknown */
  guint8 hops;                  /* mpx links crossed before this one */
  guint8 family;                /* 0 = no group, 4 = IPv4, 6 = IPv6 */
  guint16 port;                 /* destination port of the original datagram */
  guint8 group[16];             /* destination group; IPv4 in the first 4 bytes */
  /* The original sender, of the group's family; all zero: not known
   * (always so when family is 0). */
  guint8 source[16];            /* IPv4 in the first 4 bytes */
  guint16 source_port;
} McpFrameMeta;

/* Whether meta names the original sender. */
gboolean mcp_frame_meta_has_source (const McpFrameMeta * meta);

typedef struct
{
  guint8 version_major;
  guint8 version_minor;
  McpRole role;
  guint8 flags;
  guint64 peer_id;
  const gchar *caps;            /* NULL when not sent */
  const gchar *name;            /* NULL when not sent */
  gboolean has_auth_nonce;      /* the sender offers authentication */
  guint8 auth_nonce[MCP_AUTH_NONCE_LEN];
  guint32 features;             /* MCP_FEATURE_*; 0 when not sent */
} McpHello;

typedef enum
{
  MCP_DECODE_NEED_MORE = 0,
  MCP_DECODE_HELLO,
  MCP_DECODE_DATA,
  MCP_DECODE_CAPS,
  MCP_DECODE_KEEPALIVE,
  MCP_DECODE_AUTH,              /* the peer's proof (mpx) */
  MCP_DECODE_PEER_ERROR,        /* the peer says why it is closing (mpx) */
  MCP_DECODE_SUBSCRIBE,         /* entries in payload (mpx) */
  MCP_DECODE_UNSUBSCRIBE,       /* entries in payload (mpx) */
  MCP_DECODE_ERROR,
} McpDecodeResult;

/* One decoded message. Pointers are into the decoder and stay valid until
 * the next call to mcp_decoder_reserve(), mcp_decoder_push(),
 * mcp_decoder_set_framing() or mcp_decoder_free(). */
typedef struct
{
  McpFrameMeta meta;            /* DATA (zeroed for rfc4571 and raw) */
  const guint8 *payload;        /* DATA: the datagram bytes */
  gsize payload_len;
  McpHello hello;               /* HELLO */
  const gchar *caps;            /* CAPS */
  guint8 auth_proof[MCP_AUTH_PROOF_LEN];        /* AUTH */
  const gchar *reason;          /* ERROR */
  gboolean sub_replace;         /* SUBSCRIBE: the payload is the whole state
                                 * (of sub_origin) */
  guint64 sub_origin;           /* SUBSCRIBE, UNSUBSCRIBE: whose listeners
                                 * want the entries; 0: the sender's own
                                 * (also when the extension is absent) */
  guint8 sub_distance;          /* links from sub_origin; 0 when absent */
} McpMessage;

#define MCP_WIRE_ERROR (mcp_wire_error_quark ())
GQuark mcp_wire_error_quark (void);

typedef enum
{
  MCP_WIRE_ERROR_BAD_MAGIC,
  MCP_WIRE_ERROR_BAD_VERSION,
  MCP_WIRE_ERROR_BAD_LENGTH,
  MCP_WIRE_ERROR_TRUNCATED,
  MCP_WIRE_ERROR_UNKNOWN_TYPE,
  MCP_WIRE_ERROR_PROTOCOL,
} McpWireError;

const gchar *mcp_framing_to_string (McpFraming framing);
const gchar *mcp_role_to_string (McpRole role);

/* Encoding. */
GBytes *mcp_mpx_build_hello (McpRole role, guint64 peer_id, const gchar * caps,
    const gchar * name);
/* The same with an authentication nonce (MCP_AUTH_NONCE_LEN bytes; NULL:
 * none) and features (MCP_FEATURE_*; 0: the field is left out). */
GBytes *mcp_mpx_build_hello_full (McpRole role, guint64 peer_id,
    const gchar * caps, const gchar * name, const guint8 * auth_nonce,
    guint32 features);
GBytes *mcp_mpx_build_auth (const guint8 * proof);
/* Why this end closes the connection; with_preamble when it is the first
 * thing sent (a refusal before any HELLO). */
GBytes *mcp_mpx_build_error (const gchar * reason, gboolean with_preamble);
GBytes *mcp_mpx_build_caps (const gchar * caps);
GBytes *mcp_mpx_build_keepalive (void);
/* SUBSCRIBE (or UNSUBSCRIBE) messages carrying every entry of set, as many
 * as it takes (IGNORABLE: older peers skip them). replace: the first one
 * says that the set is the whole state (SUBSCRIBE only); an empty set then
 * still makes one message. */
GBytes *mcp_mpx_build_subscribe (const McpSubSet * set, gboolean unsubscribe,
    gboolean replace);
/* The same with the per-origin extension (16 bytes of metadata): the
 * entries are what origin's listeners want, distance links away; replace
 * replaces that origin's state only. */
GBytes *mcp_mpx_build_subscribe_origin (const McpSubSet * set,
    gboolean unsubscribe, gboolean replace, guint64 origin, guint8 distance);
/* Writes the DATA header for a payload of payload_len bytes, which must not
 * exceed MCP_MAX_DATAGRAM, and returns its length: MCP_MPX_DATA_HEADER_LEN,
 * or with the source extension when meta names the sender
 * MCP_MPX_DATA_HEADER_MAX_LEN (out must have room for that). */
gsize mcp_mpx_write_data_header (guint8 * out, const McpFrameMeta * meta,
    gsize payload_len);
void mcp_rfc4571_write_header (guint8 * out, gsize payload_len);

/* Incremental decoding. */
typedef struct _McpDecoder McpDecoder;

McpDecoder *mcp_decoder_new (McpFraming framing);
void mcp_decoder_free (McpDecoder * dec);
/* AUTO until the first bytes told mpx from raw. */
McpFraming mcp_decoder_get_framing (McpDecoder * dec);
/* Settles an undecided AUTO decoder (e.g. the peer stayed silent). */
void mcp_decoder_set_framing (McpDecoder * dec, McpFraming framing);
/* Space for at least min_len more bytes; fill it, then commit what was
 * written. Lets a socket read straight into the decoder. */
guint8 *mcp_decoder_reserve (McpDecoder * dec, gsize min_len, gsize * avail);
void mcp_decoder_commit (McpDecoder * dec, gsize len);
void mcp_decoder_push (McpDecoder * dec, const guint8 * data, gsize len);
/* Bytes received but not yet returned as a message. */
gsize mcp_decoder_pending (McpDecoder * dec);
/* Those bytes, to look at before decoding (valid until the next reserve,
 * push or skip); skip drops len of them (at most mcp_decoder_pending()). */
const guint8 *mcp_decoder_peek (McpDecoder * dec, gsize * len);
void mcp_decoder_skip (McpDecoder * dec, gsize len);
McpDecodeResult mcp_decoder_next (McpDecoder * dec, McpMessage * msg,
    GError ** error);
/* The peer closed the stream: an error when it stopped inside a message. */
gboolean mcp_decoder_finish (McpDecoder * dec, GError ** error);

G_END_DECLS

#endif /* __MCP_WIRE_H__ */
