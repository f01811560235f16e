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
  g_test_add_func ("/token-bucket/rate", test_token_bucket);
  return g_test_run ();
}
