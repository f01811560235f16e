/* mcastproxy — enumerations shared by the elements. */
#include "config.h"

#include "gstmcpenums.h"

GType
gst_mcp_framing_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MCP_FRAMING_AUTO,
        "Listeners tell mpx peers from plain ones by their first bytes; "
          "callers speak mpx (tcpsplitsrc falls back to raw)", "auto"},
    {GST_MCP_FRAMING_MPX, "mcastproxy framing with handshake and metadata",
        "mpx"},
    {GST_MCP_FRAMING_RFC4571, "2-byte length prefix per datagram (RFC 4571)",
        "rfc4571"},
    {GST_MCP_FRAMING_RAW, "Bytes only, no datagram boundaries", "raw"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstMcpFraming", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_mcp_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MCP_MODE_LISTENER, "Accept connections on port", "listener"},
    {GST_MCP_MODE_CALLER, "Connect to host:port, reconnecting", "caller"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstMcpMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_mcp_slow_client_policy_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MCP_SLOW_CLIENT_DROP, "Disconnect the client", "drop"},
    {GST_MCP_SLOW_CLIENT_RESYNC,
        "Skip the client to the newest datagram", "resync"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstMcpSlowClientPolicy", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_mcp_burst_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_MCP_BURST_NONE, "The live stream only", "none"},
    {GST_MCP_BURST_KEYFRAME,
        "MPEG-TS: the PAT, the PMT and everything since the last key frame, "
          "then the live stream", "keyframe"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstMcpBurst", values);
    g_once_init_leave (&type, t);
  }
  return type;
}
