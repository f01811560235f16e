/* mcastproxy — routing of subscriptions over a mesh (docs/protocol.md,
 * "Subscriptions over a mesh").
 *
 * Distance vector per origin island, with split horizon and poison by
 * withdrawal. Each neighbour (a linked node, by peer id) advertises, per
 * origin X, what X's listeners want and how many links away X is. For
 * every X the best advertisement (lowest distance, then lowest neighbour
 * id) names the next hop toward X; advertisements at max-hops or beyond
 * are ignored. To each neighbour M the node advertises every X whose next
 * hop is not M, one link further, and its own local wants at distance 0;
 * to the next hop of X nothing for X. Datagrams of a group go to the next
 * hop of each origin that wants it, so with one listening island each
 * datagram crosses only the links of one shortest path.
 *
 * A neighbour that takes no part in subscriptions (an older node) counts
 * as an origin of its own that wants everything, and a node whose local
 * wants are not known (NULL) wants everything: mixed meshes keep flooding.
 *
 * Pure code: no sockets, no GStreamer. Not thread-safe: one owner.
 */
#ifndef __MCP_SUBROUTE_H__
#define __MCP_SUBROUTE_H__

#include <glib.h>

#include "mcp-subscription.h"

G_BEGIN_DECLS

/* Distances stop here: an advertisement is one byte. */
#define MCP_SUB_ROUTE_MAX_DISTANCE 255

/* One origin's wants: as advertised by a neighbour, or as we advertise. */
typedef struct
{
  guint64 origin;
  guint distance;               /* links from the origin to the sender */
  const McpSubSet *set;         /* never empty in outputs */
} McpSubRouteAdvert;

/* The route toward one origin. */
typedef struct
{
  guint64 origin;
  guint64 next_hop;             /* neighbour id */
  guint distance;               /* as advertised by next_hop */
  const McpSubSet *set;
} McpSubRouteEntry;

typedef struct _McpSubRoute McpSubRoute;

McpSubRoute *mcp_sub_route_new (guint64 self_id);
void mcp_sub_route_free (McpSubRoute * r);
/* Advertisements at this distance or beyond are ignored (0: only the
 * one-byte limit). */
void mcp_sub_route_set_max_hops (McpSubRoute * r, guint max_hops);
/* What this node's own listeners want; NULL: not known, everything. */
void mcp_sub_route_set_local (McpSubRoute * r, const McpSubSet * set);
/* A neighbour's whole advertisement (copied); origin 0 in it means the
 * neighbour itself. takes_part FALSE: it takes no part in subscriptions
 * (adverts ignored; it wants everything). Returns TRUE when something
 * changed. */
gboolean mcp_sub_route_set_neighbour (McpSubRoute * r, guint64 neighbour,
    gboolean takes_part, const McpSubRouteAdvert * adverts, guint n_adverts);
/* The link to neighbour is gone: its advertisements with it. */
gboolean mcp_sub_route_remove_neighbour (McpSubRoute * r, guint64 neighbour);
gboolean mcp_sub_route_has_neighbour (McpSubRoute * r, guint64 neighbour);

/* Outputs, valid until the next change. */
/* The routes (McpSubRouteEntry), sorted by origin: a new array. */
GArray *mcp_sub_route_get_routes (McpSubRoute * r);
/* What to advertise to neighbour (McpSubRouteAdvert, sorted by origin,
 * ours first): a new array. */
GArray *mcp_sub_route_advertise (McpSubRoute * r, guint64 neighbour);
/* What datagrams neighbour is to get: the union of the sets of the
 * origins it is the next hop of. A new set. */
McpSubSet *mcp_sub_route_forward_set (McpSubRoute * r, guint64 neighbour);
/* Whether some other island wants anything at all (the union of every
 * route's set is not empty). */
gboolean mcp_sub_route_any (McpSubRoute * r);

G_END_DECLS

#endif /* __MCP_SUBROUTE_H__ */
