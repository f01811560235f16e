/* mcastproxy — the URI handlers of the elements: mcast:// for the multicast
 * ends, tcpsplit:// for the TCP ends, parsed into and formatted from the
 * element's properties. */
#ifndef __GST_MCP_URI_H__
#define __GST_MCP_URI_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* mcast://[SOURCE@]GROUP:PORT?PROPERTY=VALUE&...: GROUP is the "address"
 * property (an IPv6 group in brackets), SOURCE "multicast-source". */
#define GST_MCP_URI_SCHEME_MCAST "mcast"
/* tcpsplit://[HOST]:PORT?PROPERTY=VALUE&...: "host" and "port". */
#define GST_MCP_URI_SCHEME_TCPSPLIT "tcpsplit"
/* amt://[SOURCE@]GROUP:PORT?relay=HOST&...: as mcast://, received through
 * an AMT relay (VLC's scheme). */
#define GST_MCP_URI_SCHEME_AMT "amt"

/* Interface initialisers for G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
 * ...): the element only names the one matching its scheme and direction. */
void gst_mcp_uri_mcast_src_init (gpointer g_iface, gpointer iface_data);
void gst_mcp_uri_mcast_sink_init (gpointer g_iface, gpointer iface_data);
void gst_mcp_uri_tcpsplit_src_init (gpointer g_iface, gpointer iface_data);
void gst_mcp_uri_tcpsplit_sink_init (gpointer g_iface, gpointer iface_data);
void gst_mcp_uri_amt_src_init (gpointer g_iface, gpointer iface_data);

/* What the handlers do, for an element of either scheme: sets the
 * element's properties from uri (all or none), or returns FALSE with a
 * GST_URI_ERROR saying what is wrong; and formats the element's settings as
 * a URI that gst_mcp_uri_set() takes back (write-only properties, such as
 * auth-secret, never appear). */
gboolean gst_mcp_uri_set (GstElement * element, const gchar * scheme,
    const gchar * uri, GError ** error);
gchar *gst_mcp_uri_get (GstElement * element, const gchar * scheme);

G_END_DECLS

#endif /* __GST_MCP_URI_H__ */
