/* mcastproxy — the router side of IGMPv3 and MLDv2 for one interface: the
 * membership state a querier keeps (RFC 3376 6, RFC 3810 7).
 *
 * Reports go in (as mcp-igmp parses them: older reports and leaves are the
 * records they amount to, IS_EX({}) and TO_IN({})); what the RFC's tables
 * say a router does comes out: the state per group (filter mode, group
 * timer, sources with their timers), the group-specific and
 * group-and-source-specific queries to send, and which groups gained or
 * lost their last listener. The caller sends the queries and joins or
 * leaves upstream.
 *
 * Pure logic: no sockets, no main context. Time is the caller's monotonic
 * clock in microseconds (g_get_monotonic_time()), passed to each call, so
 * that tests run timers to the microsecond without sleeping. Nothing
 * happens between calls: the caller calls mcp_igmp_table_queries_due() and
 * mcp_igmp_table_expire() at the time mcp_igmp_table_next_event() says.
 */
#ifndef __MCP_IGMP_TABLE_H__
#define __MCP_IGMP_TABLE_H__

#include <gio/gio.h>

#include "mcp-igmp.h"

G_BEGIN_DECLS

typedef struct _McpIgmpTable McpIgmpTable;

/* RFC 3376 8 and RFC 3810 9 defaults. */
#define MCP_IGMP_TABLE_DEFAULT_ROBUSTNESS 2
#define MCP_IGMP_TABLE_DEFAULT_QUERY_INTERVAL (125 * G_USEC_PER_SEC)
#define MCP_IGMP_TABLE_DEFAULT_QUERY_RESPONSE_INTERVAL (10 * G_USEC_PER_SEC)
#define MCP_IGMP_TABLE_DEFAULT_LAST_MEMBER_QUERY_INTERVAL (1 * G_USEC_PER_SEC)

/* Called when a group gains its first listener or loses its last one, as
 * mcp_igmp_table_has_listeners() sees it; after the table is consistent
 * again, so it may read the table (not change it). */
typedef void (*McpIgmpTableChangedFunc) (McpIgmpTable * table,
    GInetAddress * group, gboolean listened, gpointer user_data);

/* A table for the interface whose address is self (IPv4: IGMP; IPv6:
 * MLD), our side of the querier election. It keeps at most max_groups
 * groups and max_sources sources per group; what a report asks beyond
 * them is ignored and counted (mcp_igmp_table_get_dropped()). We start as
 * the querier, as RFC 3376 6.6.2 says. */
McpIgmpTable *mcp_igmp_table_new (GInetAddress * self, guint max_groups,
    guint max_sources);
void mcp_igmp_table_free (McpIgmpTable * table);

/* The protocol variables, times in µs. The last member query count is the
 * robustness, as the RFCs' defaults have it. Set them before use: timers
 * already running keep their times. */
void mcp_igmp_table_set_timers (McpIgmpTable * table, guint robustness,
    gint64 query_interval, gint64 query_response_interval,
    gint64 last_member_query_interval);

/* robustness * query interval + query response interval */
gint64 mcp_igmp_table_group_membership_interval (McpIgmpTable * table);
/* last member query count * last member query interval */
gint64 mcp_igmp_table_last_member_query_time (McpIgmpTable * table);

void mcp_igmp_table_set_changed_func (McpIgmpTable * table,
    McpIgmpTableChangedFunc func, gpointer user_data, GDestroyNotify notify);

/* A report or leave (msg->kind REPORT or LEAVE) of the table's family,
 * applied record by record as RFC 3376 6.4 says. An older report (version
 * 1 or 2 of IGMP, MLDv1) starts its group's older host present timer;
 * while that runs the group is in compatibility mode (RFC 3376 7.3.2, RFC
 * 3810 8.3.2): BLOCK records are ignored, TO_EX records count as
 * TO_EX({}), and with IGMPv1 hosts leaves are ignored. Which groups to
 * care about (224.0.0.x, ff02::1) is the caller's to filter. FALSE if msg
 * is not a report or leave of the family. */
gboolean mcp_igmp_table_handle_report (McpIgmpTable * table,
    const McpIgmpMessage * msg, gint64 now);

/* A query (msg->kind QUERY) received from from. A lower address than ours
 * wins the election (RFC 3376 6.6.2, RFC 3810 7.6.2): we stop being the
 * querier until the other querier present interval (robustness * query
 * interval + query response interval / 2) has passed without another such
 * query. A group-specific or group-and-source-specific query without the
 * S flag lowers the group's or the sources' timers to the last member query
 * time (RFC 3376 6.6.1). Our own queries coming back are ignored. */
void mcp_igmp_table_handle_query (McpIgmpTable * table,
    const McpIgmpMessage * msg, GInetAddress * from, gint64 now);

/* Whether we are the querier at now. */
gboolean mcp_igmp_table_is_querier (McpIgmpTable * table, gint64 now);

/* A query the table asks the caller to send. */
typedef struct
{
  GInetAddress *group;
  GPtrArray *sources;           /* GInetAddress; empty: a group-specific query */
  gboolean s_flag;              /* suppress router-side processing */
  /* for mcp_igmp_query_new(): IGMP 2 or 3, MLD 1 or 2; the older one for a
   * group-specific query while the group's older hosts are present */
  guint version;
} McpIgmpTableQuery;

void mcp_igmp_table_query_free (McpIgmpTableQuery * query);

/* The queries due at now (McpIgmpTableQuery, owned by the array; empty when
 * none is due or we are not the querier): the first transmission of a
 * "Send Q(G)" or "Send Q(G,S)" of the tables and its retransmissions, last
 * member query count in all, a last member query interval apart (RFC 3376
 * 6.6.3). As 6.6.3 says, sources whose timers a report raised above the
 * last member query time since are asked in a query of their own with the
 * S flag set (not sent when a group-specific query goes out with it), and
 * the group's query has it when its timer is above it. next_event,
 * if not NULL, is set as mcp_igmp_table_next_event() would give it after. */
GPtrArray *mcp_igmp_table_queries_due (McpIgmpTable * table, gint64 now,
    gint64 * next_event);

/* Applies the timers that have run out by now (RFC 3376 6.3, 6.5): an
 * INCLUDE source is deleted; an EXCLUDE source is no longer forwarded; a
 * group timer moves the group to INCLUDE with the sources whose timers
 * run; a group left without sources is deleted. The other querier present
 * timer makes us the querier again. Returns the groups (GInetAddress, owned
 * by the array) whose state changed; the changed func is called for those
 * whose listeners came or went. */
GPtrArray *mcp_igmp_table_expire (McpIgmpTable * table, gint64 now);

/* The time of the next timer, retransmission or expiry, the one time a
 * caller arms a timer for; -1 when nothing is pending. */
gint64 mcp_igmp_table_next_event (McpIgmpTable * table);

/* (*,G): group is in EXCLUDE mode or has an included source. */
gboolean mcp_igmp_table_has_listeners (McpIgmpTable * table,
    GInetAddress * group);

/* (S,G): traffic from source to group is forwarded by RFC 3376 6.3's
 * rules: in INCLUDE mode S has a running timer; in EXCLUDE mode S is not
 * one of the excluded sources (those whose timers are not running). */
gboolean mcp_igmp_table_forwards (McpIgmpTable * table, GInetAddress * group,
    GInetAddress * source);

typedef struct
{
  GInetAddress *source;
  gint64 expires;               /* source timer; 0: excluded (not running) */
} McpIgmpTableSource;

typedef struct
{
  GInetAddress *group;
  gboolean exclude;             /* filter mode */
  gint64 since;                 /* when the group was first listened to */
  gint64 expires;               /* group timer; 0 in INCLUDE mode */
  guint compat;                 /* 3: IGMPv3/MLDv2 hosts only, 2 or 1: older */
  GArray *sources;              /* McpIgmpTableSource */
} McpIgmpTableGroup;

void mcp_igmp_table_group_free (McpIgmpTableGroup * group);

/* Every group at now, for stats: McpIgmpTableGroup, owned by the array, in
 * no particular order. */
GPtrArray *mcp_igmp_table_list (McpIgmpTable * table, gint64 now);

guint mcp_igmp_table_get_n_groups (McpIgmpTable * table);

/* What the limits made the table ignore since it was made: groups not
 * created and sources not added. */
void mcp_igmp_table_get_dropped (McpIgmpTable * table, guint64 * groups,
    guint64 * sources);

G_END_DECLS

#endif /* __MCP_IGMP_TABLE_H__ */
