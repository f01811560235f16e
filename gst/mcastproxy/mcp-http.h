/* mcastproxy — HTTP/1.x requests of players on a framing=auto listener:
 * detection from the first bytes, a bounded parser of the request head,
 * response heads, and JSON string escaping for /stats.
 *
 * Pure code: no sockets, no GStreamer. See docs/protocol.md.
 */
#ifndef __MCP_HTTP_H__
#define __MCP_HTTP_H__

#include <glib.h>

G_BEGIN_DECLS

/* A request head (request line and headers, up to and including the empty
 * line) may be at most this long; a longer one is refused. */
#define MCP_HTTP_MAX_HEAD (8 * 1024)

/* The Upgrade token of a request for a channel in mpx (docs/protocol.md):
 * an mcastproxy receiver asking a channel gateway for metadata too. */
#define MCP_HTTP_UPGRADE_MPX "mcastproxy-mpx/1"

typedef enum
{
  MCP_HTTP_DETECT_NO = 0,       /* not an HTTP request */
  MCP_HTTP_DETECT_MAYBE,        /* a prefix of one: wait for more bytes */
  MCP_HTTP_DETECT_YES,          /* starts with a method and a space */
} McpHttpDetect;

/* Looks at the first bytes a client sent: GET, HEAD, POST, PUT, DELETE,
 * OPTIONS, PATCH, TRACE or CONNECT followed by a space. */
McpHttpDetect mcp_http_detect (const guint8 * data, gsize len);

typedef struct
{
  gchar *method;
  gchar *target;                /* as sent */
  gchar *path;                  /* the target's path, without the query */
  gchar *query;                 /* after '?', or NULL */
  guint version_minor;          /* HTTP/1.<version_minor> */
  GPtrArray *names;             /* header names, as sent */
  GPtrArray *values;            /* their values, trimmed */
} McpHttpRequest;

typedef enum
{
  MCP_HTTP_PARSE_NEED_MORE = 0,
  MCP_HTTP_PARSE_DONE,
  MCP_HTTP_PARSE_ERROR,
} McpHttpParseResult;

/* Parses the head at the start of data (len bytes received so far). DONE:
 * *request is set and *head_len is the head's length (what follows is not
 * part of it). NEED_MORE: the head is incomplete and shorter than
 * MCP_HTTP_MAX_HEAD. ERROR: malformed or too long (error says why). */
McpHttpParseResult mcp_http_parse_request (const guint8 * data, gsize len,
    McpHttpRequest ** request, gsize * head_len, GError ** error);
void mcp_http_request_free (McpHttpRequest * request);
/* The first header of that name (case-insensitive), or NULL. */
const gchar *mcp_http_request_get_header (const McpHttpRequest * request,
    const gchar * name);

/* "OK", "Not Found", ...; "Error" for a status it does not know. */
const gchar *mcp_http_status_reason (guint status);

/* A response head: status line (HTTP/1.0, or HTTP/1.1 when version_minor
 * is 1), Content-Type, Content-Length when content_length >= 0,
 * Cache-Control: no-cache, Connection: close, extra (whole header lines,
 * each ending in CRLF; may be NULL) and the empty line. */
gchar *mcp_http_response_head (guint version_minor, guint status,
    const gchar * content_type, gssize content_length, const gchar * extra);
/* A whole response with a text/plain body ("<status> <reason>\n"), or a
 * JSON one (content_type given), for closing the connection after it;
 * with_body FALSE (HEAD): only the head, Content-Length still that of the
 * body. */
GBytes *mcp_http_response (guint version_minor, guint status,
    const gchar * content_type, const gchar * body, const gchar * extra,
    gboolean with_body);

/* The Content-Type a player gets for a stream with these caps (a caps
 * string, or NULL when unknown): video/mpegts → video/mp2t, everything
 * else application/octet-stream. */
const gchar *mcp_http_content_type_for_caps (const gchar * caps);

/* Appends s as a JSON string: quoted, with ", \ and control characters
 * escaped; invalid UTF-8 becomes U+FFFD. */
void mcp_json_append_string (GString * out, const gchar * s);

G_END_DECLS

#endif /* __MCP_HTTP_H__ */
