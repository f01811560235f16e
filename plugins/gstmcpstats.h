/* mcastproxy — statistics: periodic messages on the bus, the rules of the
 * one vocabulary every element's get-stats follows (docs/elements.md,
 * "Statistics"), and the JSON of /stats. */
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

/* What a field is, by its name: an id ("...-id", 64 bits: a string in
 * JSON, which would round it as a double), a duration in ns ("...-time",
 * "...-duration": seconds in JSON, the name ending in "-seconds"), or
 * anything else. */
typedef enum
{
  GST_MCP_FIELD_PLAIN,
  GST_MCP_FIELD_ID,
  GST_MCP_FIELD_DURATION,
} GstMcpFieldKind;

GstMcpFieldKind gst_mcp_stats_field_kind (const gchar * name);

/* A structure as a JSON object of its fields, by the rules above (nested
 * structures become objects, arrays and lists arrays, numbers and
 * booleans stay what they are, enums their nick, anything else its
 * serialized string). */
gchar *gst_mcp_structure_to_json (const GstStructure * s);

/* The statistics of every mcastproxy element in the pipeline (the
 * top-level bin) that element is in, as one JSON object:
 *   {"version": "0.1.0", "uptime-seconds": 12.5,
 *    "elements": {"NAME": {"factory": "tcpsplitsink", ...get-stats...}}}
 * sources first. uptime: since the plugin was loaded in this process. */
gchar *gst_mcp_stats_pipeline_json (GstElement * element);

/* From plugin_init: the start of uptime. */
void gst_mcp_stats_init (void);

G_END_DECLS

#endif /* __GST_MCP_STATS_H__ */
