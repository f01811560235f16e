/* mcastproxy — subscriptions inside a pipeline: how what the elements
 * downstream want (groups with listeners, clients' SUBSCRIBEs) reaches the
 * elements upstream that carry or capture it.
 *
 * Two carriers, both with the same content: for each peer that wants
 * something, its peer id (0: this pipeline itself, e.g. the listeners on
 * the island's LAN) and its set (mcp-subscription.h).
 *  - the custom query "mcastproxy-subscriptions", which an upstream element
 *    sends downstream when it starts: an element that answers it takes
 *    part, and its answer is the state now;
 *  - the custom upstream event of the same name, which such an element
 *    pushes upstream with its whole state whenever that changes.
 * Whoever neither asks nor is asked behaves as before subscriptions: it
 * carries everything.
 */
#ifndef __GST_MCP_SUBS_H__
#define __GST_MCP_SUBS_H__

#include <gst/gst.h>

#include "mcp-subscription.h"

G_BEGIN_DECLS

#define GST_MCP_SUBS_NAME "mcastproxy-subscriptions"

typedef struct
{
  guint64 peer_id;              /* 0: this pipeline's own listeners */
  McpSubSet *set;
} GstMcpSubsPeer;

/* A list of GstMcpSubsPeer that owns its sets. */
GArray *gst_mcp_subs_peers_new (void);
/* Adds a copy of set for peer_id (a second call for one peer adds to it). */
void gst_mcp_subs_peers_add (GArray * peers, guint64 peer_id,
    const McpSubSet * set);

/* The upstream event with peers' state (peers may be empty: nobody wants
 * anything). */
GstEvent *gst_mcp_subs_event_new (const GArray * peers);
/* The custom query to ask downstream. */
GstQuery *gst_mcp_subs_query_new (void);
/* An element downstream answers a query: is it ours? then set peers. */
gboolean gst_mcp_subs_query_is (GstQuery * query);
void gst_mcp_subs_query_set (GstQuery * query, const GArray * peers);

/* The state an event or an answered query carries, as a new list; NULL
 * when it is not ours (or the query had no answer). */
GArray *gst_mcp_subs_event_parse (GstEvent * event);
GArray *gst_mcp_subs_query_parse (GstQuery * query);

/* What the elements downstream of pad want, asked now: a new list, or NULL
 * when none of them takes part in subscriptions. */
GArray *gst_mcp_subs_ask_downstream (GstPad * srcpad);

/* The union of the sets of every peer but except_peer_id (0: none left
 * out): what one upstream source should send. A new set. */
McpSubSet *gst_mcp_subs_union (const GArray * peers, guint64 except_peer_id);

G_END_DECLS

#endif /* __GST_MCP_SUBS_H__ */
