/* mcastproxy — unit tests of an AMT gateway's membership as a relay keeps
 * it (mcp-amt-membership): each record type, the limits, the set it
 * gives; and the token bucket. */
#include "config.h"

#include "mcp-amt-membership.h"

#include <string.h>

static void
clear_record (gpointer p)
{
  McpIgmpRecord *r = p;

  g_object_unref (r->group);
  g_ptr_array_unref (r->sources);
}

/* A report of one record: type, group, sources ("a,b" or NULL). */
static McpIgmpMessage *
report (McpIgmpRecordType type, const gchar * group, const gchar * sources)
{
  McpIgmpMessage *msg = g_new0 (McpIgmpMessage, 1);
  McpIgmpRecord r;

  msg->kind = MCP_IGMP_REPORT;
  msg->version = 3;
  msg->sources = g_ptr_array_new_with_free_func (g_object_unref);
  msg->records = g_array_new (FALSE, FALSE, sizeof (McpIgmpRecord));
  g_array_set_clear_func (msg->records, clear_record);
  r.type = type;
  r.group = g_inet_address_new_from_string (group);
  msg->family = g_inet_address_get_family (r.group);
  r.sources = g_ptr_array_new_with_free_func (g_object_unref);
  if (sources) {
    gchar **v = g_strsplit (sources, ",", -1);
    guint i;

    for (i = 0; v[i]; i++)
      g_ptr_array_add (r.sources, g_inet_address_new_from_string (v[i]));
    g_strfreev (v);
  }
  g_array_append_val (msg->records, r);
  return msg;
}

/* Applies one record; checks whether it changed the state and what the
 * state then is, in subscription text form. */
static void
step (McpAmtMembership * m, McpIgmpRecordType type, const gchar * group,
    const gchar * sources, gboolean changed, const gchar * expect)
{
  McpIgmpMessage *msg = report (type, group, sources);
  McpSubSet *set;
  gchar *text;

  g_assert_cmpint (mcp_amt_membership_apply (m, msg, NULL), ==, changed);
  set = mcp_amt_membership_to_set (m);
  text = mcp_sub_set_to_string (set);
  g_assert_cmpstr (text, ==, expect);
  g_free (text);
  mcp_sub_set_free (set);
  mcp_igmp_message_free (msg);
}

static void
test_records (void)
{
  McpAmtMembership *m = mcp_amt_membership_new (16, 16);

  step (m, MCP_IGMP_MODE_IS_INCLUDE, "232.1.1.1", "10.0.0.1", TRUE,
      "10.0.0.1@232.1.1.1:1-65535");
  /* the same again: no change */
  step (m, MCP_IGMP_MODE_IS_INCLUDE, "232.1.1.1", "10.0.0.1", FALSE,
      "10.0.0.1@232.1.1.1:1-65535");
  step (m, MCP_IGMP_ALLOW_NEW_SOURCES, "232.1.1.1", "10.0.0.2", TRUE,
      "10.0.0.1+10.0.0.2@232.1.1.1:1-65535");
  step (m, MCP_IGMP_BLOCK_OLD_SOURCES, "232.1.1.1", "10.0.0.1", TRUE,
      "10.0.0.2@232.1.1.1:1-65535");
  /* the last source blocked: the group is left */
  step (m, MCP_IGMP_BLOCK_OLD_SOURCES, "232.1.1.1", "10.0.0.2", TRUE, "");
  /* ASM: EXCLUDE {} */
  step (m, MCP_IGMP_CHANGE_TO_EXCLUDE, "239.1.1.1", NULL, TRUE,
      "239.1.1.1:1-65535");
  step (m, MCP_IGMP_BLOCK_OLD_SOURCES, "239.1.1.1", "10.0.0.9", TRUE,
      "!10.0.0.9@239.1.1.1:1-65535");
  step (m, MCP_IGMP_ALLOW_NEW_SOURCES, "239.1.1.1", "10.0.0.9", TRUE,
      "239.1.1.1:1-65535");
  step (m, MCP_IGMP_CHANGE_TO_INCLUDE, "239.1.1.1", "10.0.0.3", TRUE,
      "10.0.0.3@239.1.1.1:1-65535");
  /* leave */
  step (m, MCP_IGMP_CHANGE_TO_INCLUDE, "239.1.1.1", NULL, TRUE, "");
  step (m, MCP_IGMP_CHANGE_TO_INCLUDE, "239.1.1.1", NULL, FALSE, "");
  /* blocking or allowing nothing in a group not held */
  step (m, MCP_IGMP_BLOCK_OLD_SOURCES, "239.1.1.2", "10.0.0.3", FALSE, "");
  step (m, MCP_IGMP_ALLOW_NEW_SOURCES, "239.1.1.2", "10.0.0.3", TRUE,
      "10.0.0.3@239.1.1.2:1-65535");
  /* IPv6 next to IPv4 */
  step (m, MCP_IGMP_MODE_IS_EXCLUDE, "ff3e::1", NULL, TRUE,
      "10.0.0.3@239.1.1.2:1-65535 [ff3e::1]:1-65535");
  g_assert_cmpuint (mcp_amt_membership_get_n_groups (m), ==, 2);
  mcp_amt_membership_free (m);
}

static void
test_limits (void)
{
  McpAmtMembership *m = mcp_amt_membership_new (2, 2);
  McpIgmpMessage *msg;
  McpAmtRefused refused;

  step (m, MCP_IGMP_MODE_IS_EXCLUDE, "239.0.0.1", NULL, TRUE,
      "239.0.0.1:1-65535");
  step (m, MCP_IGMP_MODE_IS_EXCLUDE, "239.0.0.2", NULL, TRUE,
      "239.0.0.1:1-65535 239.0.0.2:1-65535");
  msg = report (MCP_IGMP_MODE_IS_EXCLUDE, "239.0.0.3", NULL);
  g_assert_false (mcp_amt_membership_apply (m, msg, &refused));
  g_assert_cmpuint (refused.groups, ==, 1);
  mcp_igmp_message_free (msg);
  msg = report (MCP_IGMP_MODE_IS_INCLUDE, "239.0.0.2",
      "10.0.0.1,10.0.0.2,10.0.0.3");
  g_assert_true (mcp_amt_membership_apply (m, msg, &refused));
  g_assert_cmpuint (refused.groups, ==, 0);
  g_assert_cmpuint (refused.sources, ==, 1);
  mcp_igmp_message_free (msg);
  g_assert_cmpuint (mcp_amt_membership_get_n_groups (m), ==, 2);
  mcp_amt_membership_free (m);
}

/* Limits changed on a membership that holds state (amtrelay's max-groups
 * and max-sources set while running): what is held stays, even beyond a
 * lower limit; new groups wait until there is room; a state record is
 * cut to the new max_sources; a higher limit takes more at once. */
static void
test_set_limits (void)
{
  McpAmtMembership *m = mcp_amt_membership_new (2, 3);
  McpIgmpMessage *msg;
  McpAmtRefused refused;

  step (m, MCP_IGMP_MODE_IS_EXCLUDE, "239.0.0.1", NULL, TRUE,
      "239.0.0.1:1-65535");
  step (m, MCP_IGMP_MODE_IS_INCLUDE, "232.0.0.2",
      "10.0.0.1,10.0.0.2,10.0.0.3", TRUE,
      "10.0.0.1+10.0.0.2+10.0.0.3@232.0.0.2:1-65535 239.0.0.1:1-65535");

  mcp_amt_membership_set_limits (m, 1, 2);
  g_assert_cmpuint (mcp_amt_membership_get_n_groups (m), ==, 2);
  msg = report (MCP_IGMP_MODE_IS_EXCLUDE, "239.0.0.3", NULL);
  g_assert_false (mcp_amt_membership_apply (m, msg, &refused));
  g_assert_cmpuint (refused.groups, ==, 1);
  mcp_igmp_message_free (msg);
  /* the same state again: cut to two sources */
  msg = report (MCP_IGMP_MODE_IS_INCLUDE, "232.0.0.2",
      "10.0.0.1,10.0.0.2,10.0.0.3");
  g_assert_true (mcp_amt_membership_apply (m, msg, &refused));
  g_assert_cmpuint (refused.sources, ==, 1);
  mcp_igmp_message_free (msg);
  /* a group left makes no room below the limit of 1 yet ... */
  step (m, MCP_IGMP_CHANGE_TO_INCLUDE, "239.0.0.1", NULL, TRUE,
      "10.0.0.1+10.0.0.2@232.0.0.2:1-65535");
  msg = report (MCP_IGMP_MODE_IS_EXCLUDE, "239.0.0.3", NULL);
  g_assert_false (mcp_amt_membership_apply (m, msg, &refused));
  mcp_igmp_message_free (msg);
  /* ... a higher limit does */
  mcp_amt_membership_set_limits (m, 4, 16);
  step (m, MCP_IGMP_MODE_IS_EXCLUDE, "239.0.0.3", NULL, TRUE,
      "10.0.0.1+10.0.0.2@232.0.0.2:1-65535 239.0.0.3:1-65535");
  step (m, MCP_IGMP_ALLOW_NEW_SOURCES, "232.0.0.2", "10.0.0.3,10.0.0.4",
      TRUE, "10.0.0.1+10.0.0.2+10.0.0.3+10.0.0.4@232.0.0.2:1-65535 "
      "239.0.0.3:1-65535");
  mcp_amt_membership_free (m);
}

/* A record of thousands of sources, each listed twice: the state keeps the
 * first max_sources distinct ones, in the record's order, and counts every
 * other distinct one as refused; a BLOCK that lists the source to remove
 * last among thousands removes it. De-duplication must not be quadratic:
 * 40,000 sources here. */
static void
test_many_sources (void)
{
  McpAmtMembership *m = mcp_amt_membership_new (4, 16);
  McpIgmpMessage *msg;
  McpIgmpRecord *r;
  McpAmtRefused refused;
  McpSubSet *set;
  const McpSubEntry *e;
  guint i, n = 20000;
  gint64 start;

  msg = report (MCP_IGMP_MODE_IS_INCLUDE, "232.1.1.1", NULL);
  r = &g_array_index (msg->records, McpIgmpRecord, 0);
  for (i = 0; i < 2 * n; i++) {
    gchar *text = g_strdup_printf ("10.%u.%u.%u", (i % n) >> 16,
        ((i % n) >> 8) & 0xff, (i % n) & 0xff);

    g_ptr_array_add (r->sources, g_inet_address_new_from_string (text));
    g_free (text);
  }
  start = g_get_monotonic_time ();
  g_assert_true (mcp_amt_membership_apply (m, msg, &refused));
  g_test_message ("%u sources applied in %" G_GINT64_FORMAT " us", 2 * n,
      g_get_monotonic_time () - start);
  mcp_igmp_message_free (msg);
  g_assert_cmpuint (refused.sources, ==, n - 16);
  set = mcp_amt_membership_to_set (m);
  g_assert_cmpuint (mcp_sub_set_size (set), ==, 1);
  e = mcp_sub_set_get (set, 0);
  g_assert_cmpint (e->mode, ==, MCP_SUB_INCLUDE);
  g_assert_cmpuint (e->n_sources, ==, 16);
  for (i = 0; i < 16; i++) {
    guint8 expect[16] = { 10, 0, 0, 0 };

    expect[3] = i;
    g_assert_cmpmem (e->sources[i], 4, expect, 4);
  }
  mcp_sub_set_free (set);

  /* BLOCK of thousands that are not there, then 10.0.0.3 */
  msg = report (MCP_IGMP_BLOCK_OLD_SOURCES, "232.1.1.1", NULL);
  r = &g_array_index (msg->records, McpIgmpRecord, 0);
  for (i = 0; i < n; i++) {
    gchar *text = g_strdup_printf ("10.1.%u.%u", i >> 8 & 0xff, i & 0xff);

    g_ptr_array_add (r->sources, g_inet_address_new_from_string (text));
    g_free (text);
  }
  g_ptr_array_add (r->sources, g_inet_address_new_from_string ("10.0.0.3"));
  g_assert_true (mcp_amt_membership_apply (m, msg, &refused));
  mcp_igmp_message_free (msg);
  set = mcp_amt_membership_to_set (m);
  g_assert_cmpuint (mcp_sub_set_get (set, 0)->n_sources, ==, 15);
  mcp_sub_set_free (set);
  mcp_amt_membership_free (m);
}

static void
test_token_bucket (void)
{
  McpTokenBucket b;
  gint64 t = 1000000;
  guint i, n = 0;

  mcp_token_bucket_init (&b, 10, 10, t);
  for (i = 0; i < 20; i++)
    n += mcp_token_bucket_take (&b, t);
  g_assert_cmpuint (n, ==, 10);
  /* 100 ms: one more */
  t += 100000;
  g_assert_true (mcp_token_bucket_take (&b, t));
  g_assert_false (mcp_token_bucket_take (&b, t));
  /* a long pause saves no more than the burst */
  t += 60 * G_USEC_PER_SEC;
  for (i = 0, n = 0; i < 20; i++)
    n += mcp_token_bucket_take (&b, t);
  g_assert_cmpuint (n, ==, 10);
  /* rate 0: no limit */
  mcp_token_bucket_set_rate (&b, 0, 1);
  for (i = 0; i < 1000; i++)
    g_assert_true (mcp_token_bucket_take (&b, t));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/amt-membership/records", test_records);
  g_test_add_func ("/amt-membership/limits", test_limits);
  g_test_add_func ("/amt-membership/set-limits", test_set_limits);
  g_test_add_func ("/amt-membership/many-sources", test_many_sources);
  g_test_add_func ("/token-bucket/rate", test_token_bucket);
  return g_test_run ();
}
