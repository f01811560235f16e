/* mcastproxy — periodic statistics messages on the bus. */
#ifndef __GST_MCP_STATS_H__
#define __GST_MCP_STATS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Returns the element's statistics as a new structure. */
typedef GstStructure *(*GstMcpStatsFunc) (GstElement * element);

typedef struct
{
  GstClockID id;
} GstMcpStatsTimer;

/* Posts func's structure as an element message every interval ns (on the
 * system clock, so also when no data flows). interval 0: nothing. */
void gst_mcp_stats_timer_start (GstMcpStatsTimer * timer, GstElement * element,
    GstClockTime interval, GstMcpStatsFunc func);
void gst_mcp_stats_timer_stop (GstMcpStatsTimer * timer);

G_END_DECLS

#endif /* __GST_MCP_STATS_H__ */
