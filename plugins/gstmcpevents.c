/* mcastproxy — element messages for the operator's log (see
 * gstmcpevents.h). */
#include "config.h"

#include "gstmcpevents.h"

#include "mcp-mcast.h"

GstStructure *
gst_mcp_event_client_added (const gchar * address)
{
  return gst_structure_new ("mcastproxy-client-added",
      "address", G_TYPE_STRING, address, NULL);
}

GstStructure *
gst_mcp_event_client_removed (const gchar * address, const gchar * reason)
{
  return gst_structure_new ("mcastproxy-client-removed",
      "address", G_TYPE_STRING, address, "reason", G_TYPE_STRING, reason, NULL);
}

void
gst_mcp_events_init (GstMcpEvents * ev, GstElement * owner)
{
  ev->owner = owner;
  g_mutex_init (&ev->lock);
  g_queue_init (&ev->queue);
  ev->posting = FALSE;
  ev->context = NULL;
  ev->idle = NULL;
}

void
gst_mcp_events_clear (GstMcpEvents * ev)
{
  gst_mcp_events_set_context (ev, NULL);
  g_queue_clear_full (&ev->queue, (GDestroyNotify) gst_structure_free);
  g_mutex_clear (&ev->lock);
}

/* Under ev->lock. */
static void
unschedule (GstMcpEvents * ev)
{
  if (ev->idle) {
    g_source_destroy (ev->idle);
    g_clear_pointer (&ev->idle, g_source_unref);
  }
}

void
gst_mcp_events_set_context (GstMcpEvents * ev, GMainContext * context)
{
  g_mutex_lock (&ev->lock);
  unschedule (ev);
  ev->context = context;
  g_mutex_unlock (&ev->lock);
}

static gboolean
flush_idle (gpointer data)
{
  GstMcpEvents *ev = data;

  g_mutex_lock (&ev->lock);
  g_clear_pointer (&ev->idle, g_source_unref);
  g_mutex_unlock (&ev->lock);
  gst_mcp_events_flush (ev);
  return G_SOURCE_REMOVE;
}

void
gst_mcp_events_push (GstMcpEvents * ev, GstStructure * s)
{
  g_mutex_lock (&ev->lock);
  g_queue_push_tail (&ev->queue, s);
  if (ev->context && !ev->idle) {
    ev->idle = g_idle_source_new ();
    g_source_set_callback (ev->idle, flush_idle, ev, NULL);
    g_source_attach (ev->idle, ev->context);
  }
  g_mutex_unlock (&ev->lock);
}

void
gst_mcp_events_flush (GstMcpEvents * ev)
{
  g_mutex_lock (&ev->lock);
  if (ev->posting) {
    g_mutex_unlock (&ev->lock);
    return;
  }
  ev->posting = TRUE;
  for (;;) {
    GstStructure *s = g_queue_pop_head (&ev->queue);

    if (!s)
      break;
    g_mutex_unlock (&ev->lock);
    gst_element_post_message (ev->owner,
        gst_message_new_element (GST_OBJECT (ev->owner), s));
    g_mutex_lock (&ev->lock);
  }
  ev->posting = FALSE;
  g_mutex_unlock (&ev->lock);
}

void
gst_mcp_events_membership (const McpMembershipChange * change, gpointer data)
{
  GstMcpEvents *ev = data;
  gchar *group = g_inet_address_to_string (change->group);
  gchar *source = change->source ?
      g_inet_address_to_string (change->source) : g_strdup ("");
  GstStructure *s;

  s = gst_structure_new (change->joined ? "mcastproxy-joined" :
      "mcastproxy-left",
      "group", G_TYPE_STRING, group,
      "source", G_TYPE_STRING, source,
      "interface", G_TYPE_STRING, change->ifname ? change->ifname : "",
      "port", G_TYPE_UINT, (guint) mcp_socket_get_local_port (change->socket),
      NULL);
  if (!change->joined)
    gst_structure_set (s, "reason", G_TYPE_STRING, change->reason, NULL);
  gst_mcp_events_push (ev, s);
  g_free (group);
  g_free (source);
}
