/* mcastproxy — a channel gateway's statistics for people and machines:
 * the /status page (HTML) and /metrics (Prometheus text format), both
 * made from its get-stats structure. */
#ifndef __GST_MCP_STATUS_H__
#define __GST_MCP_STATUS_H__

#include <gst/gst.h>

#include "mcp-prom.h"

G_BEGIN_DECLS

/* A page of channels and their clients, readable on a phone. */
gchar *gst_mcp_status_html (const GstStructure * stats);
/* Prometheus text exposition (version 0.0.4); zap: the histogram of the
 * times from a request to its answer. */
gchar *gst_mcp_status_metrics (const GstStructure * stats,
    const McpPromHistogram * zap);

G_END_DECLS

#endif /* __GST_MCP_STATUS_H__ */
