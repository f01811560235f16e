/* mcastproxy — an IGMP or MLD querier for one interface. */
#include "config.h"

#include "mcp-igmp-querier.h"
#include "mcp-igmp-socket.h"
#include "mcp-igmp-table.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* Messages read in one dispatch, so that a flood does not starve the
 * timer. */
#define MAX_READS 64
/* Sources asked in one query: what fits a 1280-byte IPv6 packet, and a
 * 1500-byte IPv4 one with room to spare. */
#define MAX_QUERY_SOURCES_V4 256
#define MAX_QUERY_SOURCES_V6 64
/* How old the list of our own addresses may be before a message from an
 * address not in it makes us read it again. */
#define OWN_REFRESH (1 * G_USEC_PER_SEC)

struct _McpIgmpQuerier
{
  GSocketFamily family;
  gchar *ifname;
  McpIgmpQuerierConfig config;
  McpIgmpSocket *socket;
  GInetAddress *dest_all;       /* 224.0.0.1, ff02::1 */

  GSource *socket_source;
  GSource *timer_source;

  McpIgmpQuerierChangedFunc changed;
  gpointer changed_data;
  GDestroyNotify changed_notify;

  /* the context thread's only, except where said */
  GPtrArray *own;               /* GInetAddress */
  gint64 own_read;
  guint startup_left;           /* startup queries still to send */
  gint64 next_general;          /* 0: none planned */
  gboolean was_querier;
  gboolean adopted;             /* the other querier's QRV/QQI in use */
  gchar *state;                 /* what the changed func was last told of */

  GMutex lock;                  /* the rest, read by other threads too */
  McpIgmpTable *table;
  GInetAddress *self;           /* ours in the election */
  GInetAddress *other;          /* the querier heard, if not us */
  McpIgmpQuerierCounters counters;
};

void
mcp_igmp_querier_config_init (McpIgmpQuerierConfig * config)
{
  config->robustness = MCP_IGMP_TABLE_DEFAULT_ROBUSTNESS;
  config->query_interval = MCP_IGMP_TABLE_DEFAULT_QUERY_INTERVAL;
  config->query_response_interval =
      MCP_IGMP_TABLE_DEFAULT_QUERY_RESPONSE_INTERVAL;
  config->last_member_query_interval =
      MCP_IGMP_TABLE_DEFAULT_LAST_MEMBER_QUERY_INTERVAL;
  config->querier = TRUE;
  config->max_groups = MCP_IGMP_QUERIER_DEFAULT_MAX_GROUPS;
  config->max_sources = MCP_IGMP_QUERIER_DEFAULT_MAX_SOURCES;
}

/* ---- own addresses ----------------------------------------------------- */

static GPtrArray *
own_addresses (const gchar * ifname, GSocketFamily family)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  struct ifaddrs *ifa, *i;

  if (getifaddrs (&ifa) != 0)
    return out;
  for (i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr || strcmp (i->ifa_name, ifname) != 0)
      continue;
    if (family == G_SOCKET_FAMILY_IPV4 && i->ifa_addr->sa_family == AF_INET)
      g_ptr_array_add (out, g_inet_address_new_from_bytes ((const guint8 *)
              &((struct sockaddr_in *) i->ifa_addr)->sin_addr, family));
    else if (family == G_SOCKET_FAMILY_IPV6
        && i->ifa_addr->sa_family == AF_INET6)
      g_ptr_array_add (out, g_inet_address_new_from_bytes ((const guint8 *)
              &((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr, family));
  }
  freeifaddrs (ifa);
  return out;
}

static gboolean
in_list (GPtrArray * list, GInetAddress * addr)
{
  guint i;

  for (i = 0; i < list->len; i++)
    if (g_inet_address_equal (list->pdata[i], addr))
      return TRUE;
  return FALSE;
}

/* Whether from is one of ours: the list is read again when it is old, as
 * addresses come and go. */
static gboolean
is_own (McpIgmpQuerier * q, GInetAddress * from, gint64 now)
{
  if (in_list (q->own, from))
    return TRUE;
  if (now - q->own_read < OWN_REFRESH)
    return FALSE;
  g_ptr_array_unref (q->own);
  q->own = own_addresses (q->ifname, q->family);
  q->own_read = now;
  return in_list (q->own, from);
}

/* Link-scope groups: never routed, not ours to track. */
static gboolean
link_scope (GInetAddress * group)
{
  const guint8 *b = g_inet_address_to_bytes (group);

  if (g_inet_address_get_family (group) == G_SOCKET_FAMILY_IPV4)
    return b[0] == 224 && b[1] == 0 && b[2] == 0;
  return b[0] == 0xff && (b[1] & 0x0f) <= 2;
}

/* ---- state as the changed func sees it --------------------------------- */

static gint
compare_addresses (gconstpointer a, gconstpointer b)
{
  GInetAddress *x = *(GInetAddress **) a, *y = *(GInetAddress **) b;

  return memcmp (g_inet_address_to_bytes (x), g_inet_address_to_bytes (y),
      g_inet_address_get_native_size (x));
}

static gint
compare_groups (gconstpointer a, gconstpointer b)
{
  const McpIgmpQuerierGroup *x = *(McpIgmpQuerierGroup **) a;
  const McpIgmpQuerierGroup *y = *(McpIgmpQuerierGroup **) b;

  return compare_addresses (&x->group, &y->group);
}

void
mcp_igmp_querier_group_free (McpIgmpQuerierGroup * group)
{
  if (group == NULL)
    return;
  g_object_unref (group->group);
  g_ptr_array_unref (group->sources);
  g_free (group);
}

/* Under the lock. */
static GPtrArray *
list_locked (McpIgmpQuerier * q, gboolean only_listened, gint64 now)
{
  GPtrArray *rows = mcp_igmp_table_list (q->table, now);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mcp_igmp_querier_group_free);
  guint i, j;

  for (i = 0; i < rows->len; i++) {
    McpIgmpTableGroup *row = rows->pdata[i];
    McpIgmpQuerierGroup *g;
    gboolean listened = mcp_igmp_table_has_listeners (q->table, row->group);

    if (only_listened && !listened)
      continue;
    g = g_new0 (McpIgmpQuerierGroup, 1);
    g->group = g_object_ref (row->group);
    g->listened = listened;
    g->exclude = row->exclude;
    g->since = row->since;
    g->compat = row->compat;
    g->sources = g_ptr_array_new_with_free_func (g_object_unref);
    for (j = 0; j < row->sources->len; j++) {
      McpIgmpTableSource *s = &g_array_index (row->sources,
          McpIgmpTableSource, j);
      /* INCLUDE: those with a timer; EXCLUDE: those without */
      if ((s->expires != 0) != row->exclude)
        g_ptr_array_add (g->sources, g_object_ref (s->source));
    }
    g_ptr_array_sort (g->sources, compare_addresses);
    g_ptr_array_add (out, g);
  }
  g_ptr_array_unref (rows);
  g_ptr_array_sort (out, compare_groups);
  return out;
}

GPtrArray *
mcp_igmp_querier_list (McpIgmpQuerier * q, gboolean only_listened)
{
  GPtrArray *out;

  g_mutex_lock (&q->lock);
  out = list_locked (q, only_listened, g_get_monotonic_time ());
  g_mutex_unlock (&q->lock);
  return out;
}

/* The listened groups and their filters as one string: what changes when
 * the changed func must be called. */
static gchar *
state_string (GPtrArray * groups)
{
  GString *s = g_string_new (NULL);
  guint i, j;

  for (i = 0; i < groups->len; i++) {
    McpIgmpQuerierGroup *g = groups->pdata[i];
    gchar *a = g_inet_address_to_string (g->group);

    g_string_append_printf (s, "%s %s", a, g->exclude ? "EX" : "IN");
    g_free (a);
    for (j = 0; j < g->sources->len; j++) {
      a = g_inet_address_to_string (g->sources->pdata[j]);
      g_string_append_printf (s, " %s", a);
      g_free (a);
    }
    g_string_append_c (s, ';');
  }
  return g_string_free (s, FALSE);
}

/* Calls the changed func if the state is not what it was last told. */
static void
notify_if_changed (McpIgmpQuerier * q, gint64 now)
{
  GPtrArray *groups;
  gchar *state;

  g_mutex_lock (&q->lock);
  groups = list_locked (q, TRUE, now);
  g_mutex_unlock (&q->lock);
  state = state_string (groups);
  g_ptr_array_unref (groups);
  if (g_strcmp0 (state, q->state) == 0) {
    g_free (state);
    return;
  }
  g_free (q->state);
  q->state = state;
  if (q->changed)
    q->changed (q, q->changed_data);
}

/* ---- queries ----------------------------------------------------------- */

static void
send_query (McpIgmpQuerier * q, McpIgmpMessage * msg, GInetAddress * dest,
    gboolean general)
{
  GError *error = NULL;
  GBytes *bytes = mcp_igmp_build_query (msg, &error);
  gboolean ok = bytes
      && mcp_igmp_socket_send_query (q->socket, bytes, dest, &error);

  if (!ok) {
    g_debug ("%s querier on %s: %s",
        q->family == G_SOCKET_FAMILY_IPV4 ? "IGMP" : "MLD", q->ifname,
        error->message);
    g_error_free (error);
  }
  g_clear_pointer (&bytes, g_bytes_unref);
  g_mutex_lock (&q->lock);
  if (!ok)
    q->counters.send_errors++;
  else if (general)
    q->counters.general_queries_sent++;
  else
    q->counters.specific_queries_sent++;
  g_mutex_unlock (&q->lock);
}

static void
send_general_query (McpIgmpQuerier * q)
{
  McpIgmpMessage *msg = mcp_igmp_query_new (q->family,
      q->family == G_SOCKET_FAMILY_IPV4 ? 3 : 2, NULL);

  msg->max_resp_ms = q->config.query_response_interval / 1000;
  msg->qrv = q->config.robustness;
  msg->qqi = q->config.query_interval / G_USEC_PER_SEC;
  send_query (q, msg, q->dest_all, TRUE);
  mcp_igmp_message_free (msg);
}

/* One of the table's queries, its sources spread over several messages
 * when they do not fit one. */
static void
send_table_query (McpIgmpQuerier * q, McpIgmpTableQuery * tq)
{
  guint max = q->family == G_SOCKET_FAMILY_IPV4 ? MAX_QUERY_SOURCES_V4 :
      MAX_QUERY_SOURCES_V6;
  guint first = 0, i;

  do {
    McpIgmpMessage *msg = mcp_igmp_query_new (q->family, tq->version,
        tq->group);

    msg->max_resp_ms = q->config.last_member_query_interval / 1000;
    if ((q->family == G_SOCKET_FAMILY_IPV4 && tq->version == 3)
        || (q->family == G_SOCKET_FAMILY_IPV6 && tq->version == 2)) {
      msg->s_flag = tq->s_flag;
      msg->qrv = q->config.robustness;
      msg->qqi = q->config.query_interval / G_USEC_PER_SEC;
      for (i = first; i < tq->sources->len && i < first + max; i++)
        g_ptr_array_add (msg->sources, g_object_ref (tq->sources->pdata[i]));
    }
    first += max;
    send_query (q, msg, tq->group, FALSE);
    mcp_igmp_message_free (msg);
  } while (first < tq->sources->len);
}

/* ---- timers ------------------------------------------------------------ */

/* Whether we query now; keeps the other querier's address and our timers
 * in step with the election. Under the lock. */
static gboolean
querier_locked (McpIgmpQuerier * q, gint64 now)
{
  gboolean querier = mcp_igmp_table_is_querier (q->table, now);

  if (querier && q->config.querier) {
    g_clear_object (&q->other);
    if (q->adopted) {
      /* ours again, as the querier now */
      mcp_igmp_table_set_timers (q->table, q->config.robustness,
          q->config.query_interval, q->config.query_response_interval,
          q->config.last_member_query_interval);
      q->adopted = FALSE;
    }
  }
  return querier && q->config.querier;
}

static void
schedule (McpIgmpQuerier * q)
{
  gint64 next;

  g_mutex_lock (&q->lock);
  next = mcp_igmp_table_next_event (q->table);
  g_mutex_unlock (&q->lock);
  if (q->next_general && (next < 0 || q->next_general < next))
    next = q->next_general;
  if (q->timer_source)
    g_source_set_ready_time (q->timer_source, next);
}

/* Everything due at now: general queries, the table's queries, expiry. */
static void
run_timers (McpIgmpQuerier * q, gint64 now)
{
  GPtrArray *queries, *expired;
  gboolean querier;
  guint i;

  g_mutex_lock (&q->lock);
  querier = querier_locked (q, now);
  queries = mcp_igmp_table_queries_due (q->table, now, NULL);
  expired = mcp_igmp_table_expire (q->table, now);
  g_mutex_unlock (&q->lock);

  if (querier && !q->was_querier) {
    /* (again) the querier: ask at once */
    q->next_general = now;
  } else if (!querier) {
    q->next_general = 0;
  }
  q->was_querier = querier;
  if (q->next_general && q->next_general <= now) {
    send_general_query (q);
    if (q->startup_left > 0)
      q->startup_left--;
    q->next_general = now + (q->startup_left > 0 ?
        q->config.query_interval / 4 : q->config.query_interval);
  }
  for (i = 0; querier && i < queries->len; i++)
    send_table_query (q, queries->pdata[i]);
  g_ptr_array_unref (queries);
  g_ptr_array_unref (expired);
  notify_if_changed (q, now);
  schedule (q);
}

static gboolean
timer_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  McpIgmpQuerier *q = user_data;

  g_source_set_ready_time (source, -1);
  run_timers (q, g_get_monotonic_time ());
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = {
  NULL, NULL, timer_dispatch, NULL, NULL, NULL
};

/* ---- what arrives ------------------------------------------------------ */

/* Drops the records of link-scope groups; FALSE when none is left. */
static gboolean
drop_link_scope (McpIgmpMessage * msg)
{
  guint i = 0;

  while (i < msg->records->len) {
    McpIgmpRecord *r = &g_array_index (msg->records, McpIgmpRecord, i);

    if (link_scope (r->group))
      g_array_remove_index (msg->records, i);
    else
      i++;
  }
  return msg->records->len > 0;
}

static void
handle_message (McpIgmpQuerier * q, McpIgmpMessage * msg,
    GInetAddress * from, gint64 now)
{
  if (is_own (q, from, now)) {
    g_mutex_lock (&q->lock);
    q->counters.ignored++;
    g_mutex_unlock (&q->lock);
    return;
  }
  g_mutex_lock (&q->lock);
  if (msg->kind == MCP_IGMP_QUERY) {
    q->counters.queries_received++;
    mcp_igmp_table_handle_query (q->table, msg, from, now);
    /* the querier of the link: one that wins the election against us;
     * listening only, whoever asks */
    if (g_inet_address_get_family (from) == q->family
        && (!q->config.querier || compare_addresses (&from, &q->self) < 0)) {
      g_clear_object (&q->other);
      q->other = g_object_ref (from);
      if (msg->qrv > 0 && msg->qqi > 0) {
        /* RFC 3376 4.1.6, 4.1.7: the querier's values */
        mcp_igmp_table_set_timers (q->table, msg->qrv,
            (gint64) msg->qqi * G_USEC_PER_SEC,
            q->config.query_response_interval,
            q->config.last_member_query_interval);
        q->adopted = TRUE;
      }
    }
  } else if (drop_link_scope (msg)) {
    q->counters.reports++;
    mcp_igmp_table_handle_report (q->table, msg, now);
  } else {
    q->counters.ignored++;
  }
  mcp_igmp_table_get_dropped (q->table, &q->counters.dropped_groups,
      &q->counters.dropped_sources);
  g_mutex_unlock (&q->lock);
}

static gboolean
socket_ready (GSocket * socket, GIOCondition condition, gpointer user_data)
{
  McpIgmpQuerier *q = user_data;
  guint n;

  for (n = 0; n < MAX_READS; n++) {
    McpIgmpMessage *msg = NULL;
    GInetAddress *from = NULL;
    GError *error = NULL;
    McpIgmpSocketResult res = mcp_igmp_socket_receive (q->socket, &msg,
        &from, &error);

    if (res == MCP_IGMP_SOCKET_MESSAGE) {
      handle_message (q, msg, from, g_get_monotonic_time ());
      mcp_igmp_message_free (msg);
      g_object_unref (from);
      continue;
    }
    if (res == MCP_IGMP_SOCKET_IGNORED) {
      g_mutex_lock (&q->lock);
      q->counters.ignored++;
      g_mutex_unlock (&q->lock);
      g_clear_error (&error);
      continue;
    }
    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      g_debug ("%s", error->message);
    g_clear_error (&error);
    break;
  }
  /* what the messages changed: queries to send, listeners to tell */
  run_timers (q, g_get_monotonic_time ());
  return G_SOURCE_CONTINUE;
}

/* ---- life -------------------------------------------------------------- */

static gboolean
check_config (const McpIgmpQuerierConfig * c, GError ** error)
{
  const gchar *why = NULL;

  if (c->robustness < 1 || c->robustness > 7)
    why = "the robustness must be 1 to 7";
  else if (c->query_interval < G_USEC_PER_SEC
      || c->query_interval > (gint64) MCP_IGMP_CODE8_MAX * G_USEC_PER_SEC)
    why = "the query interval must be 1 s to 31744 s";
  else if (c->query_response_interval < 100000
      || c->query_response_interval >= c->query_interval
      || c->query_response_interval > 3174400000)
    why = "the query response interval must be 100 ms to 3174.4 s, and "
        "below the query interval";
  else if (c->last_member_query_interval < 100000
      || c->last_member_query_interval > 25500000)
    why = "the last member query interval must be 100 ms to 25.5 s";
  else if (c->max_groups < 1 || c->max_sources < 1)
    why = "the limits of groups and sources must be at least 1";
  if (why)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, why);
  return why == NULL;
}

McpIgmpQuerier *
mcp_igmp_querier_new (GSocketFamily family, const gchar * ifname,
    const McpIgmpQuerierConfig * config, GError ** error)
{
  McpIgmpQuerierConfig defaults;
  McpIgmpQuerier *q;
  McpIgmpSocket *sock;
  GInetAddress *self;

  if (!config) {
    mcp_igmp_querier_config_init (&defaults);
    config = &defaults;
  }
  if (!check_config (config, error))
    return NULL;
  sock = mcp_igmp_socket_new (family, ifname, error);
  if (!sock)
    return NULL;

  q = g_new0 (McpIgmpQuerier, 1);
  q->family = family;
  q->ifname = g_strdup (ifname);
  q->config = *config;
  q->socket = sock;
  q->dest_all = g_inet_address_new_from_string (family ==
      G_SOCKET_FAMILY_IPV4 ? "224.0.0.1" : "ff02::1");
  q->own = own_addresses (ifname, family);
  q->own_read = g_get_monotonic_time ();
  g_mutex_init (&q->lock);

  self = mcp_igmp_socket_get_address (sock);
  if (self) {
    q->self = g_object_ref (self);
  } else {
    /* an IPv4 interface without an address cannot query: listen only */
    q->self = g_inet_address_new_any (family);
    q->config.querier = FALSE;
    g_debug ("IGMP on %s: no IPv4 address, listening only", ifname);
  }
  q->table = mcp_igmp_table_new (q->self, config->max_groups,
      config->max_sources);
  mcp_igmp_table_set_timers (q->table, config->robustness,
      config->query_interval, config->query_response_interval,
      config->last_member_query_interval);
  return q;
}

void
mcp_igmp_querier_set_changed_func (McpIgmpQuerier * q,
    McpIgmpQuerierChangedFunc func, gpointer user_data, GDestroyNotify notify)
{
  if (q->changed_notify)
    q->changed_notify (q->changed_data);
  q->changed = func;
  q->changed_data = user_data;
  q->changed_notify = notify;
}

/* The timer's dispatch is timer_dispatch: this only carries its data. */
static gboolean
no_callback (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

void
mcp_igmp_querier_start (McpIgmpQuerier * q, GMainContext * context)
{
  g_return_if_fail (q->socket_source == NULL);

  /* the first general query at once (was_querier is FALSE) */
  q->startup_left = q->config.robustness;

  q->socket_source = g_socket_create_source (mcp_igmp_socket_get_socket
      (q->socket), G_IO_IN, NULL);
  g_source_set_callback (q->socket_source, (GSourceFunc) socket_ready, q, NULL);
  g_source_attach (q->socket_source, context);

  q->timer_source = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_callback (q->timer_source, no_callback, q, NULL);
  g_source_set_ready_time (q->timer_source, 0);
  g_source_attach (q->timer_source, context);
}

void
mcp_igmp_querier_free (McpIgmpQuerier * q)
{
  if (q == NULL)
    return;
  if (q->socket_source) {
    g_source_destroy (q->socket_source);
    g_source_unref (q->socket_source);
  }
  if (q->timer_source) {
    g_source_destroy (q->timer_source);
    g_source_unref (q->timer_source);
  }
  if (q->changed_notify)
    q->changed_notify (q->changed_data);
  mcp_igmp_socket_free (q->socket);
  mcp_igmp_table_free (q->table);
  g_clear_object (&q->other);
  g_object_unref (q->self);
  g_object_unref (q->dest_all);
  g_ptr_array_unref (q->own);
  g_mutex_clear (&q->lock);
  g_free (q->state);
  g_free (q->ifname);
  g_free (q);
}

GSocketFamily
mcp_igmp_querier_get_family (McpIgmpQuerier * q)
{
  return q->family;
}

const gchar *
mcp_igmp_querier_get_ifname (McpIgmpQuerier * q)
{
  return q->ifname;
}

gboolean
mcp_igmp_querier_is_querier (McpIgmpQuerier * q, GInetAddress ** other)
{
  gboolean querier;

  g_mutex_lock (&q->lock);
  querier = mcp_igmp_table_is_querier (q->table, g_get_monotonic_time ());
  querier = querier && q->config.querier;
  if (other)
    *other = !querier && q->other ? g_object_ref (q->other) : NULL;
  g_mutex_unlock (&q->lock);
  return querier;
}

void
mcp_igmp_querier_get_counters (McpIgmpQuerier * q,
    McpIgmpQuerierCounters * counters)
{
  g_mutex_lock (&q->lock);
  *counters = q->counters;
  g_mutex_unlock (&q->lock);
}
