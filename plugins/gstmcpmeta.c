/* mcastproxy — per-datagram metadata travelling with buffers. */
#include "config.h"

#include "gstmcpmeta.h"

#include "mcp-address.h"

#include <gio/gio.h>
#include <string.h>

GType
gst_mcp_meta_api_get_type (void)
{
  static GType type = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstMcpMetaAPI", tags);

    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
mcp_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  memset (&((GstMcpMeta *) meta)->info, 0, sizeof (McpFrameMeta));
  return TRUE;
}

static gboolean
mcp_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * src,
    GQuark type, gpointer data)
{
  /* The datagram stays the same datagram through copies and regions. */
  gst_buffer_add_mcp_meta (dest, &((GstMcpMeta *) meta)->info);
  return TRUE;
}

const GstMetaInfo *
gst_mcp_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter (&info)) {
    const GstMetaInfo *i = gst_meta_register (GST_MCP_META_API_TYPE,
        "GstMcpMeta", sizeof (GstMcpMeta), mcp_meta_init, NULL,
        mcp_meta_transform);

    g_once_init_leave (&info, i);
  }
  return info;
}

GstMcpMeta *
gst_buffer_add_mcp_meta (GstBuffer * buffer, const McpFrameMeta * info)
{
  GstMcpMeta *meta = (GstMcpMeta *) gst_buffer_add_meta (buffer,
      gst_mcp_meta_get_info (), NULL);

  meta->info = *info;
  return meta;
}

void
gst_mcp_meta_set_group (McpFrameMeta * info, GInetAddress * group, guint16 port)
{
  gsize len = g_inet_address_get_native_size (group);

  memset (info->group, 0, sizeof (info->group));
  memcpy (info->group, g_inet_address_to_bytes (group), MIN (len, 16));
  info->family = len == 16 ? 6 : 4;
  info->port = port;
}

void
gst_mcp_meta_set_source (McpFrameMeta * info,
    const struct sockaddr_storage *from)
{
  const guint8 *addr;
  guint16 port;
  guint8 family;

  memset (info->source, 0, sizeof (info->source));
  info->source_port = 0;
  if (!mcp_sockaddr_ip (from, &family, &addr, &port) || family != info->family)
    return;
  memcpy (info->source, addr, family == 6 ? 16 : 4);
  info->source_port = port;
}

GstBuffer *
gst_mcp_buffer_new_datagram (const guint8 * data, gsize len)
{
  return len ? gst_buffer_new_memdup (data, len) : gst_buffer_new ();
}

GstClockTime
gst_mcp_running_time_now (GstElement * element)
{
  GstClock *clock = gst_element_get_clock (element);
  GstClockTime now = GST_CLOCK_TIME_NONE, base;

  if (clock) {
    base = gst_element_get_base_time (element);
    now = gst_clock_get_time (clock);
    now = now > base ? now - base : 0;
    gst_object_unref (clock);
  }
  return now;
}
