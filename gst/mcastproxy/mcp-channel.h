/* mcastproxy — channel URLs of a udpxy/msd_lite style gateway, and M3U
 * playlists rewritten to point at it.
 *
 * A player asks for http://gw:4022/udp/239.1.1.1:5000 and gets that
 * group's payload. Pure code: no sockets, no GStreamer.
 */
#ifndef __MCP_CHANNEL_H__
#define __MCP_CHANNEL_H__

#include <gio/gio.h>

G_BEGIN_DECLS

#define MCP_CHANNEL_ERROR (mcp_channel_error_quark ())
GQuark mcp_channel_error_quark (void);

typedef enum
{
  MCP_CHANNEL_ERROR_INVALID,    /* a path under /udp/ or /rtp/ that is wrong */
} McpChannelError;

typedef enum
{
  MCP_CHANNEL_UDP,              /* the datagrams as they are */
  MCP_CHANNEL_RTP,              /* RTP: the payload of each packet */
} McpChannelKind;

typedef struct
{
  McpChannelKind kind;
  GInetAddress *group;          /* multicast */
  guint16 port;                 /* 1 to 65535 */
  GInetAddress *source;         /* unicast, the group's family; NULL: any */
} McpChannelSpec;

typedef enum
{
  MCP_CHANNEL_PARSE_OK,
  MCP_CHANNEL_PARSE_NOT_CHANNEL,        /* path not under /udp/ or /rtp/ */
  MCP_CHANNEL_PARSE_ERROR,
} McpChannelParseResult;

/* A request path without its query: "/udp/239.1.1.1:5000", "/rtp/G:P",
 * "/udp/SOURCE@GROUP:PORT", "/udp/@G:P" (any source), IPv6 addresses in
 * brackets ("/udp/[ff3e::1]:5000"; a source may go without), one optional
 * trailing "/", percent-encoding anywhere after the prefix. On OK spec is
 * filled (clear it with mcp_channel_spec_clear); on ERROR error says in
 * one line what is wrong; on NOT_CHANNEL neither is touched. */
McpChannelParseResult mcp_channel_parse (const gchar * path,
    McpChannelSpec * spec, GError ** error);

/* Drops the addresses; the spec can be filled again. */
void mcp_channel_spec_clear (McpChannelSpec * spec);

/* The canonical path: "/udp/239.1.1.1:5000", "/rtp/10.0.0.1@232.1.1.1:5000",
 * "/udp/[ff3e::1]:5000", "/udp/[2001:db8::1]@[ff3e::1]:5000". */
gchar *mcp_channel_to_path (const McpChannelSpec * spec);

/* Rewrites an M3U playlist for players behind the gateway. A line is a
 * channel line when, without blanks around it, it starts with "udp://" or
 * "rtp://" (any case); its URL (udp://@G:P, udp://G:P, udp://S@G:P,
 * rtp://@G:P, IPv6 in brackets; a path or query after it is dropped, but
 * for ffmpeg's "sources=S", which names the source) becomes base followed
 * by the canonical path, the blanks around it kept. A channel line that
 * does not parse stays as it is and is counted in n_bad. Every other line
 * stays byte for byte, and so do the line ends (LF or CRLF), a missing
 * final newline included. The playlist is text: it ends at len or at a
 * NUL byte, whichever comes first. n_rewritten, n_bad: may be NULL. */
gchar *mcp_playlist_rewrite (const gchar * playlist, gsize len,
    const gchar * base, guint * n_rewritten, guint * n_bad);
/* The same, with suffix (NULL: none; e.g. "?token=...") after each
 * rewritten URL. */
gchar *mcp_playlist_rewrite_full (const gchar * playlist, gsize len,
    const gchar * base, const gchar * suffix, guint * n_rewritten,
    guint * n_bad);

/* The base URL for rewritten playlists, "http://HOST[:PORT]" ("https://"
 * with tls), from a request's Host header: a host name, an IPv4 address or
 * an [IPv6] address, with an optional :PORT. A header that is NULL, empty,
 * or anything else (blanks inside, control characters, "/", "@", quotes,
 * a bad port) is not used: then fallback_host (a name or an address;
 * NULL: "localhost") and fallback_port make the URL. */
gchar *mcp_channel_base_url (const gchar * host_header, gboolean tls,
    const gchar * fallback_host, guint16 fallback_port);

G_END_DECLS

#endif /* __MCP_CHANNEL_H__ */
