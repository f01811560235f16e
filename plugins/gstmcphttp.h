/* mcastproxy — answers to HTTP requests of players on a framing=auto
 * listener (the stream, HEAD, 404, /stats as JSON). */
#ifndef __GST_MCP_HTTP_H__
#define __GST_MCP_HTTP_H__

#include <gst/gst.h>

#include "mcp-conn.h"

G_BEGIN_DECLS

/* The http_request callback's work for an element with a get-stats action
 * signal: caps is the stream's caps string (or NULL); /stats is answered
 * from an idle source on ctx (the thread of conn), where no lock is held
 * while get-stats runs. Called with conn's lock held. */
void gst_mcp_http_answer (GstElement * owner, McpConn * conn,
    const McpHttpRequest * request, const gchar * caps, GMainContext * ctx);

/* A structure as a JSON object of its fields (nested structures become
 * objects, arrays and lists arrays, numbers and booleans stay what they
 * are, anything else its serialized string). */
gchar *gst_mcp_structure_to_json (const GstStructure * s);

G_END_DECLS

#endif /* __GST_MCP_HTTP_H__ */
