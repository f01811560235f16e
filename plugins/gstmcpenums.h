/* mcastproxy — enumerations shared by the elements. */
#ifndef __GST_MCP_ENUMS_H__
#define __GST_MCP_ENUMS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Values are those of McpFraming. */
typedef enum
{
  GST_MCP_FRAMING_AUTO = 0,
  GST_MCP_FRAMING_MPX = 1,
  GST_MCP_FRAMING_RFC4571 = 2,
  GST_MCP_FRAMING_RAW = 3,
} GstMcpFraming;

typedef enum
{
  GST_MCP_MODE_LISTENER = 0,
  GST_MCP_MODE_CALLER = 1,
} GstMcpMode;

typedef enum
{
  GST_MCP_SLOW_CLIENT_DROP = 0,
  GST_MCP_SLOW_CLIENT_RESYNC = 1,
} GstMcpSlowClientPolicy;

/* What a new HTTP client gets first. */
typedef enum
{
  GST_MCP_BURST_NONE = 0,
  GST_MCP_BURST_KEYFRAME = 1,
} GstMcpBurst;

#define GST_TYPE_MCP_FRAMING (gst_mcp_framing_get_type ())
GType gst_mcp_framing_get_type (void);
#define GST_TYPE_MCP_MODE (gst_mcp_mode_get_type ())
GType gst_mcp_mode_get_type (void);
#define GST_TYPE_MCP_SLOW_CLIENT_POLICY (gst_mcp_slow_client_policy_get_type ())
GType gst_mcp_slow_client_policy_get_type (void);
#define GST_TYPE_MCP_BURST (gst_mcp_burst_get_type ())
GType gst_mcp_burst_get_type (void);

G_END_DECLS

#endif /* __GST_MCP_ENUMS_H__ */
