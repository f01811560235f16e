/* mcastproxy — answers to HTTP requests of players on a framing=auto
 * listener (the stream, HEAD, 404, /stats as JSON). */
#ifndef __GST_MCP_HTTP_H__
#define __GST_MCP_HTTP_H__

#include <gst/gst.h>

#include "mcp-conn.h"

G_BEGIN_DECLS

/* The http_request callback's work for an element of ours: caps is the
 * stream's caps string (or NULL); /stats (gst_mcp_stats_pipeline_json) is
 * answered from an idle source on ctx (the thread of conn), where no lock
 * is held while the elements' get-stats run. Called with conn's lock
 * held. */
void gst_mcp_http_answer (GstElement * owner, McpConn * conn,
    const McpHttpRequest * request, const gchar * caps, GMainContext * ctx);

/* A body computed on ctx's thread from an idle source, where no lock is
 * held: returns it (newly allocated) and sets *content_type. */
typedef gchar *(*GstMcpHttpBodyFunc) (GstElement * owner,
    const gchar ** content_type);

/* Answers req (GET or HEAD) with 200 and body's result, later, from an
 * idle source on ctx. Called with conn's lock held. */
void gst_mcp_http_answer_later (GstElement * owner, McpConn * conn,
    const McpHttpRequest * req, GMainContext * ctx, GstMcpHttpBodyFunc body);

G_END_DECLS

#endif /* __GST_MCP_HTTP_H__ */
