/* mcastproxy — unit tests of the router-side membership state
 * (mcp-igmp-table).
 *
 * Every row of RFC 3376 6.4.1 and 6.4.2 from the same two starting states,
 * the timers and retransmissions of 6.6 to the microsecond, expiry, the
 * querier election, older hosts, the limits and the change notifications.
 * Time is injected: nothing sleeps. States and queries are compared as
 * text: times in ms, sources by the last byte of 10.0.0.N.
 */
#include "config.h"

#include "mcp-igmp-table.h"

#include <string.h>

#define V4 G_SOCKET_FAMILY_IPV4
#define V6 G_SOCKET_FAMILY_IPV6
#define S(x) ((gint64) ((x) * G_USEC_PER_SEC))
#define G "232.1.1.1"

#define IS_IN MCP_IGMP_MODE_IS_INCLUDE
#define IS_EX MCP_IGMP_MODE_IS_EXCLUDE
#define TO_IN MCP_IGMP_CHANGE_TO_INCLUDE
#define TO_EX MCP_IGMP_CHANGE_TO_EXCLUDE
#define ALLOW MCP_IGMP_ALLOW_NEW_SOURCES
#define BLOCK MCP_IGMP_BLOCK_OLD_SOURCES

typedef struct
{
  McpIgmpTable *t;
  GString *log;                 /* "+G" and "-G" as the changed func saw them */
} Fx;

static void
on_changed (McpIgmpTable * table, GInetAddress * group, gboolean listened,
    gpointer user_data)
{
  Fx *fx = user_data;
  gchar *s = g_inet_address_to_string (group);

  g_assert_true (table == fx->t);
  /* the table is consistent when it tells */
  g_assert_cmpint (mcp_igmp_table_has_listeners (table, group), ==, listened);
  g_string_append_printf (fx->log, "%s%s%s", fx->log->len ? " " : "",
      listened ? "+" : "-", s);
  g_free (s);
}

static void
fx_setup (Fx * fx, gconstpointer data)
{
  GInetAddress *self = g_inet_address_new_from_string ("10.0.0.5");

  fx->t = mcp_igmp_table_new (self, 16, 16);
  fx->log = g_string_new (NULL);
  mcp_igmp_table_set_changed_func (fx->t, on_changed, fx, NULL);
  g_object_unref (self);
}

static void
fx_teardown (Fx * fx, gconstpointer data)
{
  mcp_igmp_table_free (fx->t);
  g_string_free (fx->log, TRUE);
}

static GInetAddress *
addr (const gchar * s)
{
  GInetAddress *a = g_inet_address_new_from_string (s);

  g_assert_nonnull (a);
  return a;
}

/* 10.0.0.N for each N of "1 2 3" */
static void
add_sources (GPtrArray * to, const gchar * sources)
{
  gchar **v = g_strsplit (sources, " ", -1);
  guint i;

  for (i = 0; v[i]; i++)
    if (*v[i]) {
      gchar *s = g_strdup_printf ("10.0.0.%s", v[i]);

      g_ptr_array_add (to, addr (s));
      g_free (s);
    }
  g_strfreev (v);
}

static void
message (McpIgmpTable * t, McpIgmpKind kind, guint version,
    McpIgmpRecordType type, const gchar * group, const gchar * sources,
    gint64 now)
{
  GInetAddress *ga = addr (group);
  GSocketFamily family = g_inet_address_get_family (ga);
  McpIgmpMessage *msg = mcp_igmp_query_new (family,
      family == V4 ? 3 : 2, NULL);
  McpIgmpRecord rec = { 0, };

  msg->kind = kind;
  msg->version = version;
  rec.type = type;
  rec.group = ga;
  rec.sources = g_ptr_array_new_with_free_func (g_object_unref);
  add_sources (rec.sources, sources);
  g_array_append_val (msg->records, rec);
  g_assert_true (mcp_igmp_table_handle_report (t, msg, now));
  mcp_igmp_message_free (msg);
}

/* An IGMPv3 report of one record. */
static void
v3 (Fx * fx, McpIgmpRecordType type, const gchar * sources, gint64 now)
{
  message (fx->t, MCP_IGMP_REPORT, 3, type, G, sources, now);
}

static void
query_from (Fx * fx, const gchar * from, const gchar * group,
    const gchar * sources, gboolean s_flag, gint64 now)
{
  GInetAddress *f = addr (from);
  GInetAddress *g = group ? addr (group) : NULL;
  McpIgmpMessage *q = mcp_igmp_query_new (V4, 3, g);

  g_clear_object (&g);
  add_sources (q->sources, sources);
  q->s_flag = s_flag;
  mcp_igmp_table_handle_query (fx->t, q, f, now);
  mcp_igmp_message_free (q);
  g_object_unref (f);
}

static gint
cmp_source (gconstpointer a, gconstpointer b)
{
  const McpIgmpTableSource *x = a, *y = b;

  return memcmp (g_inet_address_to_bytes (x->source),
      g_inet_address_to_bytes (y->source),
      g_inet_address_get_native_size (x->source));
}

static guint
last_byte (GInetAddress * a)
{
  return g_inet_address_to_bytes (a)[g_inet_address_get_native_size (a) - 1];
}

/* "EX 1260000: 1=1270000 3=0", "IN: 1=1260000", or "-" without the group */
static gchar *
state (Fx * fx, const gchar * group)
{
  GPtrArray *list = mcp_igmp_table_list (fx->t, 0);
  GString *s = g_string_new ("-");
  guint i, j;

  for (i = 0; i < list->len; i++) {
    McpIgmpTableGroup *g = list->pdata[i];
    gchar *name = g_inet_address_to_string (g->group);

    if (strcmp (name, group) == 0) {
      g_string_assign (s, g->exclude ? "EX" : "IN");
      if (g->exclude)
        g_string_append_printf (s, " %" G_GINT64_FORMAT, g->expires / 1000);
      g_string_append (s, ":");
      g_array_sort (g->sources, cmp_source);
      for (j = 0; j < g->sources->len; j++) {
        McpIgmpTableSource *src =
            &g_array_index (g->sources, McpIgmpTableSource, j);

        g_string_append_printf (s, " %u=%" G_GINT64_FORMAT,
            last_byte (src->source), src->expires / 1000);
      }
    }
    g_free (name);
  }
  g_ptr_array_unref (list);
  return g_string_free (s, FALSE);
}

#define assert_state(fx, expected) G_STMT_START { \
  gchar *_s = state (fx, G); \
  g_assert_cmpstr (_s, ==, expected); \
  g_free (_s); \
} G_STMT_END

static gint
cmp_addr (gconstpointer a, gconstpointer b)
{
  return (gint) last_byte (*(GInetAddress **) a) -
      (gint) last_byte (*(GInetAddress **) b);
}

/* The queries due at now: "G" for Q(G), "G:1,2" for Q(G,{1,2}), an "s"
 * before each with the S flag set; "" for none. */
static gchar *
due (Fx * fx, gint64 now)
{
  GPtrArray *qs = mcp_igmp_table_queries_due (fx->t, now, NULL);
  GString *s = g_string_new (NULL);
  guint i, j;

  for (i = 0; i < qs->len; i++) {
    McpIgmpTableQuery *q = qs->pdata[i];
    gchar *name = g_inet_address_to_string (q->group);

    g_assert_cmpstr (name, ==, G);
    g_free (name);
    g_string_append_printf (s, "%s%sG", i ? " " : "", q->s_flag ? "s" : "");
    g_ptr_array_sort (q->sources, cmp_addr);
    for (j = 0; j < q->sources->len; j++)
      g_string_append_printf (s, "%c%u", j ? ',' : ':',
          last_byte (q->sources->pdata[j]));
  }
  g_ptr_array_unref (qs);
  return g_string_free (s, FALSE);
}

#define assert_due(fx, now, expected) G_STMT_START { \
  gchar *_s = due (fx, now); \
  g_assert_cmpstr (_s, ==, expected); \
  g_free (_s); \
} G_STMT_END

/* The number of groups expire() says changed. */
static guint
expire (Fx * fx, gint64 now)
{
  GPtrArray *changed = mcp_igmp_table_expire (fx->t, now);
  guint n = changed->len;

  g_ptr_array_unref (changed);
  return n;
}

static gboolean
listened (McpIgmpTable * t, const gchar * group)
{
  GInetAddress *g = addr (group);
  gboolean r = mcp_igmp_table_has_listeners (t, g);

  g_object_unref (g);
  return r;
}

/* Whether 10.0.0.N to G is forwarded */
static gboolean
fwd (Fx * fx, guint n)
{
  GInetAddress *g = addr (G);
  gchar *s = g_strdup_printf ("10.0.0.%u", n);
  GInetAddress *a = addr (s);
  gboolean r = mcp_igmp_table_forwards (fx->t, g, a);

  g_object_unref (g);
  g_object_unref (a);
  g_free (s);
  return r;
}

/* ---- the two starting states ------------------------------------------ */

/* INCLUDE ({1,2}), timers at 1260 s */
static void
start_include (Fx * fx)
{
  v3 (fx, IS_IN, "1 2", S (1000));
  assert_state (fx, "IN: 1=1260000 2=1260000");
}

/* EXCLUDE (X={1,2}, Y={3,4}): group timer 1260 s, X's 1270 s */
static void
start_exclude (Fx * fx)
{
  v3 (fx, IS_EX, "3 4", S (1000));
  v3 (fx, ALLOW, "1 2", S (1010));
  assert_state (fx, "EX 1260000: 1=1270000 2=1270000 3=0 4=0");
  assert_due (fx, S (1010), "");
}

/* ---- RFC 3376 6.4.1 and 6.4.2, router in INCLUDE ----------------------- */

static void
test_include_is_in (Fx * fx, gconstpointer data)
{
  start_include (fx);
  v3 (fx, IS_IN, "2 3", S (1020));
  assert_state (fx, "IN: 1=1260000 2=1280000 3=1280000");
  assert_due (fx, S (1020), "");
}

static void
test_include_is_ex (Fx * fx, gconstpointer data)
{
  start_include (fx);
  v3 (fx, IS_EX, "2 3", S (1020));
  /* EXCLUDE (A*B, B-A); (B-A)=0; Delete (A-B); Group Timer=GMI */
  assert_state (fx, "EX 1280000: 2=1260000 3=0");
  assert_due (fx, S (1020), "");
}

static void
test_include_allow (Fx * fx, gconstpointer data)
{
  start_include (fx);
  v3 (fx, ALLOW, "2 3", S (1020));
  assert_state (fx, "IN: 1=1260000 2=1280000 3=1280000");
  assert_due (fx, S (1020), "");
}

static void
test_include_block (Fx * fx, gconstpointer data)
{
  start_include (fx);
  v3 (fx, BLOCK, "2 3", S (1020));
  /* INCLUDE (A); Send Q(G,A*B), which lowers 2 to LMQT */
  assert_state (fx, "IN: 1=1260000 2=1022000");
  assert_due (fx, S (1020), "G:2");
  assert_due (fx, S (1020.5), "");
  assert_due (fx, S (1021), "G:2");
  assert_due (fx, S (1022), "");
  g_assert_cmpuint (expire (fx, S (1022) - 1), ==, 0);
  g_assert_cmpuint (expire (fx, S (1022)), ==, 1);
  assert_state (fx, "IN: 1=1260000");
}

static void
test_include_to_ex (Fx * fx, gconstpointer data)
{
  start_include (fx);
  v3 (fx, TO_EX, "2 3", S (1020));
  /* EXCLUDE (A*B, B-A); (B-A)=0; Delete (A-B); Send Q(G,A*B); GT=GMI */
  assert_state (fx, "EX 1280000: 2=1022000 3=0");
  assert_due (fx, S (1020), "G:2");
}

static void
test_include_to_in (Fx * fx, gconstpointer data)
{
  start_include (fx);
  v3 (fx, TO_IN, "2 3", S (1020));
  /* INCLUDE (A+B); (B)=GMI; Send Q(G,A-B) */
  assert_state (fx, "IN: 1=1022000 2=1280000 3=1280000");
  assert_due (fx, S (1020), "G:1");
}

/* ---- router in EXCLUDE ------------------------------------------------- */

static void
test_exclude_is_in (Fx * fx, gconstpointer data)
{
  start_exclude (fx);
  v3 (fx, IS_IN, "2 3 5", S (1020));
  /* EXCLUDE (X+A, Y-A); (A)=GMI */
  assert_state (fx, "EX 1260000: 1=1270000 2=1280000 3=1280000 4=0 5=1280000");
  assert_due (fx, S (1020), "");
}

static void
test_exclude_is_ex (Fx * fx, gconstpointer data)
{
  start_exclude (fx);
  v3 (fx, IS_EX, "2 3 5", S (1020));
  /* EXCLUDE (A-Y, Y*A); (A-X-Y)=GMI; Delete (X-A), (Y-A); GT=GMI */
  assert_state (fx, "EX 1280000: 2=1270000 3=0 5=1280000");
  assert_due (fx, S (1020), "");
}

static void
test_exclude_allow (Fx * fx, gconstpointer data)
{
  start_exclude (fx);
  v3 (fx, ALLOW, "2 3 5", S (1020));
  assert_state (fx, "EX 1260000: 1=1270000 2=1280000 3=1280000 4=0 5=1280000");
  assert_due (fx, S (1020), "");
}

static void
test_exclude_block (Fx * fx, gconstpointer data)
{
  start_exclude (fx);
  v3 (fx, BLOCK, "2 3 5", S (1020));
  /* EXCLUDE (X+(A-Y), Y); (A-X-Y)=Group Timer; Send Q(G,A-Y), which
   * lowers 2 and 5 */
  assert_state (fx, "EX 1260000: 1=1270000 2=1022000 3=0 4=0 5=1022000");
  assert_due (fx, S (1020), "G:2,5");
  /* the sources run out, but stay as excluded ones */
  g_assert_cmpuint (expire (fx, S (1022)), ==, 1);
  assert_state (fx, "EX 1260000: 1=1270000 2=0 3=0 4=0 5=0");
  g_assert_true (fwd (fx, 1));
}

static void
test_exclude_to_ex (Fx * fx, gconstpointer data)
{
  start_exclude (fx);
  v3 (fx, TO_EX, "2 3 5", S (1020));
  /* EXCLUDE (A-Y, Y*A); (A-X-Y)=Group Timer; Delete (X-A), (Y-A);
   * Send Q(G,A-Y); GT=GMI */
  assert_state (fx, "EX 1280000: 2=1022000 3=0 5=1022000");
  assert_due (fx, S (1020), "G:2,5");
}

static void
test_exclude_to_in (Fx * fx, gconstpointer data)
{
  start_exclude (fx);
  v3 (fx, TO_IN, "2 3 5", S (1020));
  /* EXCLUDE (X+A, Y-A); (A)=GMI; Send Q(G,X-A); Send Q(G) */
  assert_state (fx, "EX 1022000: 1=1022000 2=1280000 3=1280000 4=0 5=1280000");
  assert_due (fx, S (1020), "G G:1");
  g_assert_cmpint (mcp_igmp_table_next_event (fx->t), ==, S (1021));
  assert_due (fx, S (1021), "G G:1");
  g_assert_cmpint (mcp_igmp_table_next_event (fx->t), ==, S (1022));
  /* the group timer runs out: INCLUDE with the sources that run */
  g_assert_cmpuint (expire (fx, S (1022) - 1), ==, 0);
  g_assert_cmpuint (expire (fx, S (1022)), ==, 1);
  assert_state (fx, "IN: 2=1280000 3=1280000 5=1280000");
  g_assert_true (listened (fx->t, G));
  g_assert_cmpstr (fx->log->str, ==, "+" G);
}

static void
test_exclude_raised_sources (Fx * fx, gconstpointer data)
{
  start_exclude (fx);
  v3 (fx, BLOCK, "1 2", S (1020));
  assert_due (fx, S (1020), "G:1,2");
  /* a report raises 1 again: the retransmission asks for it with the S
   * flag, in a query of its own */
  v3 (fx, ALLOW, "1", S (1020.5));
  assert_due (fx, S (1021), "sG:1 G:2");
  assert_due (fx, S (1022), "");

  /* with a group-specific query at the same time, the S flag one is not
   * sent (6.6.3.1) */
  v3 (fx, TO_IN, "2", S (1030));
  assert_state (fx, "EX 1032000: 1=1032000 2=1290000 3=0 4=0");
  assert_due (fx, S (1030), "G G:1");
  v3 (fx, ALLOW, "1", S (1030.5));
  assert_due (fx, S (1031), "G");
}

/* ---- expiry ------------------------------------------------------------- */

static void
test_expiry_exact (Fx * fx, gconstpointer data)
{
  start_exclude (fx);
  g_assert_cmpint (mcp_igmp_table_next_event (fx->t), ==, S (1260));
  /* group timer: EXCLUDE -> INCLUDE ({1,2}), Y gone */
  g_assert_cmpuint (expire (fx, S (1260) - 1), ==, 0);
  g_assert_cmpuint (expire (fx, S (1260)), ==, 1);
  assert_state (fx, "IN: 1=1270000 2=1270000");
  g_assert_true (fwd (fx, 1));
  g_assert_false (fwd (fx, 9));
  g_assert_cmpint (mcp_igmp_table_next_event (fx->t), ==, S (1270));
  g_assert_cmpuint (expire (fx, S (1270)), ==, 1);
  assert_state (fx, "-");
  g_assert_cmpint (mcp_igmp_table_next_event (fx->t), ==, -1);
  g_assert_cmpstr (fx->log->str, ==, "+" G " -" G);
}

static void
test_forwards (Fx * fx, gconstpointer data)
{
  g_assert_false (listened (fx->t, G));
  g_assert_false (fwd (fx, 1));
  start_exclude (fx);
  g_assert_true (listened (fx->t, G));
  g_assert_true (fwd (fx, 1));
  g_assert_false (fwd (fx, 3));
  g_assert_true (fwd (fx, 9));
}

/* ---- the IGMPv2 leave -------------------------------------------------- */

static void
test_v2_leave (Fx * fx, gconstpointer data)
{
  GPtrArray *qs;

  message (fx->t, MCP_IGMP_REPORT, 2, IS_EX, G, "", S (1000));
  assert_state (fx, "EX 1260000:");
  g_assert_cmpstr (fx->log->str, ==, "+" G);

  message (fx->t, MCP_IGMP_LEAVE, 2, TO_IN, G, "", S (1100));
  assert_state (fx, "EX 1102000:");
  qs = mcp_igmp_table_queries_due (fx->t, S (1100), NULL);
  g_assert_cmpuint (qs->len, ==, 1);
  /* a v2 host is present: a v2 query, which has no S flag anyway */
  g_assert_cmpuint (((McpIgmpTableQuery *) qs->pdata[0])->version, ==, 2);
  g_ptr_array_unref (qs);
  assert_due (fx, S (1100.5), "");
  g_assert_cmpint (mcp_igmp_table_next_event (fx->t), ==, S (1101));
  assert_due (fx, S (1101), "G");
  assert_due (fx, S (1101.5), "");
  g_assert_cmpint (mcp_igmp_table_next_event (fx->t), ==, S (1102));
  g_assert_cmpuint (expire (fx, S (1102) - 1), ==, 0);
  g_assert_true (listened (fx->t, G));
  g_assert_cmpuint (expire (fx, S (1102)), ==, 1);
  assert_state (fx, "-");
  g_assert_cmpuint (mcp_igmp_table_get_n_groups (fx->t), ==, 0);
  g_assert_cmpstr (fx->log->str, ==, "+" G " -" G);
}

static void
test_v2_leave_then_report (Fx * fx, gconstpointer data)
{
  message (fx->t, MCP_IGMP_REPORT, 2, IS_EX, G, "", S (1000));
  message (fx->t, MCP_IGMP_LEAVE, 2, TO_IN, G, "", S (1100));
  assert_due (fx, S (1100), "G");
  /* another host still listens */
  message (fx->t, MCP_IGMP_REPORT, 2, IS_EX, G, "", S (1100.5));
  assert_state (fx, "EX 1360500:");
  /* the retransmission still goes, with the S flag: the timer is high */
  assert_due (fx, S (1101), "sG");
  g_assert_cmpuint (expire (fx, S (1102)), ==, 0);
  assert_state (fx, "EX 1360500:");
  g_assert_cmpstr (fx->log->str, ==, "+" G);
}

/* ---- querier election -------------------------------------------------- */

static void
test_querier (Fx * fx, gconstpointer data)
{
  g_assert_true (mcp_igmp_table_is_querier (fx->t, S (1000)));
  /* a higher address and our own do not win */
  query_from (fx, "10.0.0.9", NULL, "", FALSE, S (1000));
  query_from (fx, "10.0.0.5", NULL, "", FALSE, S (1000));
  g_assert_true (mcp_igmp_table_is_querier (fx->t, S (1000)));

  query_from (fx, "10.0.0.1", NULL, "", FALSE, S (1000));
  g_assert_false (mcp_igmp_table_is_querier (fx->t, S (1000)));
  /* other querier present interval: 2 * 125 + 10 / 2 = 255 s */
  g_assert_cmpint (mcp_igmp_table_next_event (fx->t), ==, S (1255));
  query_from (fx, "10.0.0.1", NULL, "", FALSE, S (1100));
  g_assert_false (mcp_igmp_table_is_querier (fx->t, S (1355) - 1));
  g_assert_true (mcp_igmp_table_is_querier (fx->t, S (1355)));
  g_assert_cmpint (mcp_igmp_table_next_event (fx->t), ==, -1);
}

static void
test_non_querier (Fx * fx, gconstpointer data)
{
  v3 (fx, IS_EX, "", S (1000));
  query_from (fx, "10.0.0.1", NULL, "", FALSE, S (1000));
  /* the leave is the querier's to ask about: no query, no lowering */
  v3 (fx, TO_IN, "", S (1100));
  assert_state (fx, "EX 1260000:");
  assert_due (fx, S (1100), "");
  /* its query with the S flag set lowers nothing, without it the group */
  query_from (fx, "10.0.0.1", G, "", TRUE, S (1100));
  assert_state (fx, "EX 1260000:");
  query_from (fx, "10.0.0.1", G, "", FALSE, S (1100));
  assert_state (fx, "EX 1102000:");
  g_assert_cmpuint (expire (fx, S (1102)), ==, 1);
  assert_state (fx, "-");
}

static void
test_lose_election_cancels (Fx * fx, gconstpointer data)
{
  start_include (fx);
  v3 (fx, BLOCK, "1", S (1020));
  assert_due (fx, S (1020), "G:1");
  query_from (fx, "10.0.0.1", NULL, "", FALSE, S (1020.5));
  assert_due (fx, S (1021), "");
  /* a group-and-source query of the other querier lowers the source */
  query_from (fx, "10.0.0.1", G, "2", FALSE, S (1021));
  assert_state (fx, "IN: 1=1022000 2=1023000");
}

/* ---- older hosts ------------------------------------------------------- */

static void
test_compat_v2 (Fx * fx, gconstpointer data)
{
  GPtrArray *list;

  message (fx->t, MCP_IGMP_REPORT, 2, IS_EX, G, "", S (1000));
  list = mcp_igmp_table_list (fx->t, S (1000));
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpuint (((McpIgmpTableGroup *) list->pdata[0])->compat, ==, 2);
  g_assert_cmpint (((McpIgmpTableGroup *) list->pdata[0])->since, ==, S (1000));
  g_ptr_array_unref (list);
  /* a v3 host's BLOCK and TO_EX sources would cut off the v2 host */
  v3 (fx, BLOCK, "1", S (1010));
  v3 (fx, TO_EX, "1", S (1010));
  assert_state (fx, "EX 1270000:");
  assert_due (fx, S (1010), "");
  /* once the older host present interval has passed they count again:
   * 1 is new in EXCLUDE, so it gets the group timer and is asked about */
  v3 (fx, TO_EX, "1", S (1260));
  assert_state (fx, "EX 1520000: 1=1262000");
  assert_due (fx, S (1260), "G:1");
}

static void
test_compat_v1 (Fx * fx, gconstpointer data)
{
  message (fx->t, MCP_IGMP_REPORT, 1, IS_EX, G, "", S (1000));
  message (fx->t, MCP_IGMP_LEAVE, 2, TO_IN, G, "", S (1001));
  assert_state (fx, "EX 1260000:");
  assert_due (fx, S (1001), "");
}

static void
test_mld (Fx * fx, gconstpointer data)
{
  GInetAddress *self = addr ("fe80::5"), *g = addr ("ff3e::8000:1");
  McpIgmpTable *t = mcp_igmp_table_new (self, 4, 4);
  GPtrArray *qs;

  message (t, MCP_IGMP_REPORT, 1, IS_EX, "ff3e::8000:1", "", S (10));
  g_assert_true (mcp_igmp_table_has_listeners (t, g));
  message (t, MCP_IGMP_LEAVE, 1, TO_IN, "ff3e::8000:1", "", S (20));
  qs = mcp_igmp_table_queries_due (t, S (20), NULL);
  g_assert_cmpuint (qs->len, ==, 1);
  g_assert_cmpuint (((McpIgmpTableQuery *) qs->pdata[0])->version, ==, 1);
  g_ptr_array_unref (qs);
  g_ptr_array_unref (mcp_igmp_table_expire (t, S (22)));
  g_assert_false (mcp_igmp_table_has_listeners (t, g));
  mcp_igmp_table_free (t);
  g_object_unref (self);
  g_object_unref (g);
}

/* ---- limits ------------------------------------------------------------ */

static void
test_limits (Fx * fx, gconstpointer data)
{
  GInetAddress *self = addr ("10.0.0.5");
  McpIgmpTable *t = mcp_igmp_table_new (self, 2, 3);
  guint64 groups, sources;

  message (t, MCP_IGMP_REPORT, 3, IS_IN, "232.1.1.1", "1 2 3 4 5", S (1));
  message (t, MCP_IGMP_REPORT, 3, IS_EX, "232.1.1.2", "", S (1));
  message (t, MCP_IGMP_REPORT, 3, IS_EX, "232.1.1.3", "", S (1));
  message (t, MCP_IGMP_REPORT, 2, IS_EX, "232.1.1.4", "", S (1));
  g_assert_cmpuint (mcp_igmp_table_get_n_groups (t), ==, 2);
  mcp_igmp_table_get_dropped (t, &groups, &sources);
  g_assert_cmpuint (groups, ==, 2);
  g_assert_cmpuint (sources, ==, 2);
  /* known sources are still updated at the limit */
  message (t, MCP_IGMP_REPORT, 3, ALLOW, "232.1.1.1", "1 6", S (2));
  mcp_igmp_table_get_dropped (t, &groups, &sources);
  g_assert_cmpuint (sources, ==, 3);
  mcp_igmp_table_free (t);
  g_object_unref (self);
}

/* ---- notifications ----------------------------------------------------- */

static void
test_notifications (Fx * fx, gconstpointer data)
{
  /* INCLUDE ({}) asks for nothing: no group, no notification */
  v3 (fx, TO_IN, "", S (1000));
  v3 (fx, BLOCK, "1", S (1000));
  g_assert_cmpstr (fx->log->str, ==, "");
  g_assert_cmpuint (mcp_igmp_table_get_n_groups (fx->t), ==, 0);
  v3 (fx, ALLOW, "1", S (1000));
  v3 (fx, ALLOW, "2", S (1001));
  v3 (fx, TO_EX, "", S (1002));
  g_assert_cmpstr (fx->log->str, ==, "+" G);
  /* TO_IN({}) from EXCLUDE with nothing else: Q(G), then gone */
  v3 (fx, TO_IN, "", S (1003));
  assert_due (fx, S (1003), "G");
  assert_due (fx, S (1004), "G");
  g_assert_cmpuint (expire (fx, S (1005)), ==, 1);
  g_assert_cmpstr (fx->log->str, ==, "+" G " -" G);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add ("/igmp-table/" path, Fx, NULL, fx_setup, fn, fx_teardown)
  ADD ("include/is-in", test_include_is_in);
  ADD ("include/is-ex", test_include_is_ex);
  ADD ("include/allow", test_include_allow);
  ADD ("include/block", test_include_block);
  ADD ("include/to-ex", test_include_to_ex);
  ADD ("include/to-in", test_include_to_in);
  ADD ("exclude/is-in", test_exclude_is_in);
  ADD ("exclude/is-ex", test_exclude_is_ex);
  ADD ("exclude/allow", test_exclude_allow);
  ADD ("exclude/block", test_exclude_block);
  ADD ("exclude/to-ex", test_exclude_to_ex);
  ADD ("exclude/to-in", test_exclude_to_in);
  ADD ("exclude/raised-sources", test_exclude_raised_sources);
  ADD ("expiry-exact", test_expiry_exact);
  ADD ("forwards", test_forwards);
  ADD ("v2-leave", test_v2_leave);
  ADD ("v2-leave-then-report", test_v2_leave_then_report);
  ADD ("querier", test_querier);
  ADD ("non-querier", test_non_querier);
  ADD ("lose-election-cancels", test_lose_election_cancels);
  ADD ("compat-v2", test_compat_v2);
  ADD ("compat-v1", test_compat_v1);
  ADD ("mld", test_mld);
  ADD ("limits", test_limits);
  ADD ("notifications", test_notifications);
#undef ADD

  return g_test_run ();
}
