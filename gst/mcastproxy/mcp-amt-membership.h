/* mcastproxy — what one AMT gateway wants, as a relay keeps it.
 *
 * An AMT gateway (RFC 7450) reports, in each Membership Update, the IGMPv3
 * or MLDv2 state of the hosts behind it. A relay keeps, per gateway and
 * group, the filter mode and sources that the records say, as a host's
 * state (RFC 3376 5.1) with no per-source timers: the gateway as a whole
 * expires when its Updates stop.
 *
 *   IS_IN(B), TO_IN(B)   INCLUDE(B); B empty: the group is left
 *   IS_EX(B), TO_EX(B)   EXCLUDE(B); B empty: any source
 *   ALLOW(B)             INCLUDE(A): INCLUDE(A+B); EXCLUDE(X): EXCLUDE(X-B)
 *   BLOCK(B)             INCLUDE(A): INCLUDE(A-B); EXCLUDE(X): EXCLUDE(X+B)
 *
 * Bounded: at most max_groups groups and max_sources sources per group
 * (at most MCP_SUB_MAX_SOURCES); what a report asks beyond is refused and
 * counted, the rest applied.
 *
 * Also a token bucket, for the rate limits of an Internet-facing relay.
 *
 * Pure code: no sockets, no GStreamer. Not thread-safe.
 */
#ifndef __MCP_AMT_MEMBERSHIP_H__
#define __MCP_AMT_MEMBERSHIP_H__

#include <gio/gio.h>

#include "mcp-igmp.h"
#include "mcp-subscription.h"

G_BEGIN_DECLS

typedef struct _McpAmtMembership McpAmtMembership;

McpAmtMembership *mcp_amt_membership_new (guint max_groups, guint max_sources);
void mcp_amt_membership_free (McpAmtMembership * m);
/* New limits for the reports applied from now on; what is kept stays,
 * even beyond them (a lower max_groups refuses new groups only, a lower
 * max_sources applies to the sources a record gives). */
void mcp_amt_membership_set_limits (McpAmtMembership * m, guint max_groups,
    guint max_sources);

/* What one report cost beyond the limits. */
typedef struct
{
  guint groups;                 /* records of new groups not taken */
  guint sources;                /* sources not taken */
} McpAmtRefused;

/* Applies the records of msg (kind REPORT or LEAVE); records of another
 * family than the membership's first are applied too (a gateway may ask
 * for both). Returns TRUE when the state changed. refused, if not NULL,
 * is set to what the limits turned away. */
gboolean mcp_amt_membership_apply (McpAmtMembership * m,
    const McpIgmpMessage * msg, McpAmtRefused * refused);

guint mcp_amt_membership_get_n_groups (const McpAmtMembership * m);

/* The state as a subscription set: one entry per group, prefix 32 or 128,
 * ports 1-65535, mode ANY, INCLUDE or EXCLUDE with its sources. A new
 * set. */
McpSubSet *mcp_amt_membership_to_set (const McpAmtMembership * m);

/* A token bucket: rate tokens a second, at most burst of them saved; time
 * in µs of the caller's monotonic clock. rate 0: no limit. */
typedef struct
{
  guint rate;
  guint burst;
  gdouble tokens;
  gint64 last;
} McpTokenBucket;

void mcp_token_bucket_init (McpTokenBucket * b, guint rate, guint burst,
    gint64 now);
/* Changes rate and burst, keeping the tokens saved (up to burst). */
void mcp_token_bucket_set_rate (McpTokenBucket * b, guint rate, guint burst);
/* Takes one token: FALSE when there is none (the event is over the
 * rate). */
gboolean mcp_token_bucket_take (McpTokenBucket * b, gint64 now);

G_END_DECLS

#endif /* __MCP_AMT_MEMBERSHIP_H__ */
