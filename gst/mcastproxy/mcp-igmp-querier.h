/* mcastproxy — an IGMP or MLD querier for one interface: who listens to
 * which group on the link, learnt from the hosts' reports, asked for when
 * no other querier asks.
 *
 * It ties an McpIgmpSocket (the link) to an McpIgmpTable (the state of RFC
 * 3376 6 and RFC 3810 7) on a GMainContext of the caller's: a source for
 * the socket and one timer. It sends the general queries of a querier
 * (startup: robustness queries a quarter of the query interval apart, then
 * one every query interval) while it is the querier, the table's
 * group-specific and group-and-source-specific queries when they are due,
 * and applies the timers. A non-querier adopts the robustness and query
 * interval the querier announces (RFC 3376 4.1.6, 4.1.7).
 *
 * Reports from one of the host's own addresses on the interface are
 * ignored: the host's own joins (a relay capturing a group on the same
 * interface) are not listeners. Link-scope groups (224.0.0.0/24, ff01::/16,
 * ff02::/16 and the like) are ignored too.
 *
 * Limit: IGMPv1/v2 and MLDv1 reports go to their group, which the kernel
 * takes in only when some socket of the host joined that group on the
 * interface (see mcp-igmp-socket.h). Leaves, IGMPv3 and MLDv2 reports
 * always arrive.
 *
 * Needs CAP_NET_RAW. Pure GLib/GIO.
 */
#ifndef __MCP_IGMP_QUERIER_H__
#define __MCP_IGMP_QUERIER_H__

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _McpIgmpQuerier McpIgmpQuerier;

/* Times in µs. */
typedef struct
{
  guint robustness;             /* 1 to 7 */
  gint64 query_interval;
  gint64 query_response_interval;       /* below query_interval */
  gint64 last_member_query_interval;
  gboolean querier;             /* FALSE: listen only, never query */
  guint max_groups;
  guint max_sources;            /* per group */
} McpIgmpQuerierConfig;

#define MCP_IGMP_QUERIER_DEFAULT_MAX_GROUPS 1024
#define MCP_IGMP_QUERIER_DEFAULT_MAX_SOURCES 64

/* The defaults: RFC 3376 8's timers, querier on, the limits above. */
void mcp_igmp_querier_config_init (McpIgmpQuerierConfig * config);

/* Called from the context's thread, with nothing of the querier locked,
 * when the groups listened to or their source filters changed; read them
 * with mcp_igmp_querier_list(). */
typedef void (*McpIgmpQuerierChangedFunc) (McpIgmpQuerier * querier,
    gpointer user_data);

/* A querier on ifname for family (IPV4: IGMP, IPV6: MLD). Opens the socket
 * (errors as mcp_igmp_socket_new(): G_IO_ERROR_PERMISSION_DENIED naming
 * CAP_NET_RAW, G_IO_ERROR_NOT_FOUND) and G_IO_ERROR_INVALID_ARGUMENT for a
 * config out of range. Nothing runs before mcp_igmp_querier_start(). */
McpIgmpQuerier *mcp_igmp_querier_new (GSocketFamily family,
    const gchar * ifname, const McpIgmpQuerierConfig * config,
    GError ** error);

/* Set before start. */
void mcp_igmp_querier_set_changed_func (McpIgmpQuerier * querier,
    McpIgmpQuerierChangedFunc func, gpointer user_data,
    GDestroyNotify notify);

/* Attaches the socket and timer sources to context (NULL: the global
 * default) and sends the first general query. */
void mcp_igmp_querier_start (McpIgmpQuerier * querier, GMainContext * context);

/* Destroys the sources and closes the socket. Call it from the context's
 * thread, or once that thread no longer runs the context: a dispatch
 * running elsewhere would use it. */
void mcp_igmp_querier_free (McpIgmpQuerier * querier);

GSocketFamily mcp_igmp_querier_get_family (McpIgmpQuerier * querier);
const gchar *mcp_igmp_querier_get_ifname (McpIgmpQuerier * querier);

typedef struct
{
  GInetAddress *group;
  gboolean listened;            /* some host wants some source of it */
  /* INCLUDE: the sources wanted; EXCLUDE: the sources nobody wants
   * (empty: any source) */
  gboolean exclude;
  GPtrArray *sources;           /* GInetAddress, sorted */
  gint64 since;                 /* monotonic µs: first listened to */
  guint compat;                 /* 3: IGMPv3/MLDv2 only; 2, 1: older hosts */
} McpIgmpQuerierGroup;

void mcp_igmp_querier_group_free (McpIgmpQuerierGroup * group);

/* The groups now, sorted by address (McpIgmpQuerierGroup, owned by the
 * array); only_listened: without those nobody listens to any more. Any
 * thread. */
GPtrArray *mcp_igmp_querier_list (McpIgmpQuerier * querier,
    gboolean only_listened);

/* Whether we are the querier of the link now (always FALSE with querier
 * off); if not and other_querier is given, the address of the querier
 * heard (a new reference; NULL if none was heard, with querier off). Any
 * thread. */
gboolean mcp_igmp_querier_is_querier (McpIgmpQuerier * querier,
    GInetAddress ** other_querier);

typedef struct
{
  guint64 reports;              /* reports and leaves taken */
  guint64 queries_received;     /* queries of others */
  guint64 ignored;              /* own, link-scope, broken, not for us */
  guint64 general_queries_sent;
  guint64 specific_queries_sent;
  guint64 send_errors;
  guint64 dropped_groups;       /* past max_groups */
  guint64 dropped_sources;      /* past max_sources */
} McpIgmpQuerierCounters;

/* Any thread. */
void mcp_igmp_querier_get_counters (McpIgmpQuerier * querier,
    McpIgmpQuerierCounters * counters);

G_END_DECLS

#endif /* __MCP_IGMP_QUERIER_H__ */
