/* mcastproxy — the element messages an operator's log is made of
 * (docs/elements.md, "Bus messages"): clients that come and go, and the
 * multicast memberships taken and dropped. Built here so that every
 * element names them and their fields alike, and posted from a queue so
 * that whoever notices one under a lock can still post it outside. */
#ifndef __GST_MCP_EVENTS_H__
#define __GST_MCP_EVENTS_H__

#include <gst/gst.h>

#include "mcp-membership.h"

G_BEGIN_DECLS

/* "mcastproxy-client-added": address; "mcastproxy-client-removed":
 * address and reason. The caller may add fields (channel, ...). */
GstStructure *gst_mcp_event_client_added (const gchar * address);
GstStructure *gst_mcp_event_client_removed (const gchar * address,
    const gchar * reason);

/* Messages of one element, posted in the order they were pushed. */
typedef struct
{
  GstElement *owner;
  GMutex lock;
  GQueue queue;                 /* GstStructure */
  gboolean posting;             /* a thread is posting the queue */
  GMainContext *context;        /* NULL: the owner flushes */
  GSource *idle;                /* a flush scheduled there */
} GstMcpEvents;

void gst_mcp_events_init (GstMcpEvents * ev, GstElement * owner);
/* Drops what was not posted. */
void gst_mcp_events_clear (GstMcpEvents * ev);
/* From now on a push schedules a flush on context (a networking thread's,
 * whose callbacks run under the element's locks); NULL: no more (what is
 * scheduled is unscheduled), the owner flushes. */
void gst_mcp_events_set_context (GstMcpEvents * ev, GMainContext * context);
/* Queues s (taken), for the next flush. Any thread, any lock held. */
void gst_mcp_events_push (GstMcpEvents * ev, GstStructure * s);
/* Posts what is queued, in order, as element messages. With no lock of
 * the element held. Should another thread be posting, it posts these too
 * (after its own), so the order holds and neither waits. */
void gst_mcp_events_flush (GstMcpEvents * ev);

/* For mcp_membership_set_notify() on a driver's table (data: the
 * GstMcpEvents): queues "mcastproxy-joined" (group, source, interface,
 * port) or "mcastproxy-left" (the same and reason) for the membership, its
 * port the one the socket is bound to. */
void gst_mcp_events_membership (const McpMembershipChange * change,
    gpointer data);

G_END_DECLS

#endif /* __GST_MCP_EVENTS_H__ */
