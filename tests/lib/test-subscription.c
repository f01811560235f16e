/* mcastproxy — unit tests of subscription sets and scopes
 * (mcp-subscription): text form, matching, restriction to a scope, diffs
 * and the wire form of mpx SUBSCRIBE/UNSUBSCRIBE payloads.
 */
#include "config.h"

#include "mcp-subscription.h"

#include <string.h>

static McpSubSet *
parse_ok (const gchar * text)
{
  GError *err = NULL;
  McpSubSet *set = mcp_sub_set_parse (text, &err);

  g_assert_no_error (err);
  g_assert_nonnull (set);
  return set;
}

/* text parses, and prints as canon */
static void
check_canon (const gchar * text, const gchar * canon)
{
  McpSubSet *set = parse_ok (text), *again;
  gchar *s = mcp_sub_set_to_string (set);

  g_assert_cmpstr (s, ==, canon);
  again = parse_ok (s);
  g_assert_true (mcp_sub_set_equal (set, again));
  g_free (s);
  mcp_sub_set_free (again);
  mcp_sub_set_free (set);
}

static void
check_bad (const gchar * text, const gchar * message)
{
  GError *err = NULL;

  g_assert_null (mcp_sub_set_parse (text, &err));
  g_assert_error (err, MCP_SUB_ERROR, MCP_SUB_ERROR_INVALID);
  g_assert_cmpstr (err->message, ==, message);
  g_error_free (err);
}

static void
test_text (void)
{
  check_canon ("", "");
  check_canon ("239.1.1.1:5000", "239.1.1.1:5000");
  check_canon ("  239.10.0.0/16:5004\t232.1.1.0/24:5000-5010 ",
      "232.1.1.0/24:5000-5010 239.10.0.0/16:5004");
  check_canon ("ff3e::/96:5004", "[ff3e::]/96:5004");
  check_canon ("[ff3e::]/96:5004 [ff3e::1]:5004",
      "[ff3e::]/96:5004 [ff3e::1]:5004");
  check_canon ("10.0.0.2+10.0.0.1+10.0.0.2@232.1.1.1:5000",
      "10.0.0.1+10.0.0.2@232.1.1.1:5000");
  check_canon ("!10.0.0.9@239.1.1.1:5000", "!10.0.0.9@239.1.1.1:5000");
  check_canon ("[fd00::1]@[ff3e::8]:6000", "[fd00::1]@[ff3e::8]:6000");
  check_canon ("*", "0.0.0.0/0:1-65535 [::]/0:1-65535");
  /* duplicates collapse */
  check_canon ("239.1.1.1:5000 239.1.1.1:5000-5000", "239.1.1.1:5000");

  check_bad ("239.1.1.1", "bad group \"239.1.1.1\": no :PORT after the group");
  check_bad ("ff3e::1:5004", "bad group \"ff3e::1:5004\": write an IPv6 "
      "group as [GROUP]:PORT or PREFIX/LEN:PORT");
  check_bad ("239.1.1:5000", "bad group \"239.1.1:5000\": the group is not "
      "a numeric address");
  check_bad ("mcast.example:5000", "bad group \"mcast.example:5000\": the "
      "group is not a numeric address");
  check_bad ("239.1.1.1:0", "bad group \"239.1.1.1:0\": the port is not a "
      "number within 1-65535");
  check_bad ("239.1.1.1:5010-5000", "bad group \"239.1.1.1:5010-5000\": "
      "the ports are not a range within 1-65535");
  check_bad ("239.1.1.1:70000", "bad group \"239.1.1.1:70000\": the port is "
      "not a number within 1-65535");
  check_bad ("239.10.0.0/33:5004", "bad group \"239.10.0.0/33:5004\": the "
      "prefix length is not a number within the address");
  check_bad ("239.10.0.1/16:5004", "bad group \"239.10.0.1/16:5004\": host "
      "bits set beyond the prefix");
  check_bad ("10.1.1.1:5000", "bad group \"10.1.1.1:5000\": the group is "
      "not a multicast address");
  check_bad ("10.0.0.1@239.10.0.0/16:5004", "bad group "
      "\"10.0.0.1@239.10.0.0/16:5004\": a source filter on a prefix (one "
      "group only)");
  check_bad ("@239.1.1.1:5000", "bad group \"@239.1.1.1:5000\": no source "
      "before @");
  check_bad ("[fd00::1]@239.1.1.1:5000", "bad group "
      "\"[fd00::1]@239.1.1.1:5000\": a source of the other address family "
      "than the group");
  check_bad ("host@239.1.1.1:5000", "bad group \"host@239.1.1.1:5000\": a "
      "source is not a numeric address");
}

static void
group4 (guint8 * g, guint a, guint b, guint c, guint d)
{
  memset (g, 0, 16);
  g[0] = a;
  g[1] = b;
  g[2] = c;
  g[3] = d;
}

static void
test_matches (void)
{
  McpSubSet *set = parse_ok ("239.10.0.0/16:5004 232.1.1.0/24:5000-5010 "
      "10.0.0.1@232.9.9.9:6000 !10.0.0.9@239.2.2.2:7000");
  guint8 g[16], s1[16], s9[16];

  group4 (s1, 10, 0, 0, 1);
  group4 (s9, 10, 0, 0, 9);
  group4 (g, 239, 10, 200, 3);
  g_assert_true (mcp_sub_set_matches (set, 4, g, 5004, NULL));
  g_assert_false (mcp_sub_set_matches (set, 4, g, 5005, NULL));
  g_assert_false (mcp_sub_set_matches (set, 6, g, 5004, NULL));
  group4 (g, 239, 11, 0, 1);
  g_assert_false (mcp_sub_set_matches (set, 4, g, 5004, NULL));
  group4 (g, 232, 1, 1, 77);
  g_assert_true (mcp_sub_set_matches (set, 4, g, 5000, NULL));
  g_assert_true (mcp_sub_set_matches (set, 4, g, 5010, NULL));
  g_assert_false (mcp_sub_set_matches (set, 4, g, 5011, NULL));
  /* INCLUDE: the listed source, or an unknown one */
  group4 (g, 232, 9, 9, 9);
  g_assert_true (mcp_sub_set_matches (set, 4, g, 6000, s1));
  g_assert_false (mcp_sub_set_matches (set, 4, g, 6000, s9));
  g_assert_true (mcp_sub_set_matches (set, 4, g, 6000, NULL));
  /* EXCLUDE: all but the listed one */
  group4 (g, 239, 2, 2, 2);
  g_assert_true (mcp_sub_set_matches (set, 4, g, 7000, s1));
  g_assert_false (mcp_sub_set_matches (set, 4, g, 7000, s9));
  /* covers: any source only */
  g_assert_false (mcp_sub_set_covers (set, 4, g, 7000));
  group4 (g, 239, 10, 1, 1);
  g_assert_true (mcp_sub_set_covers (set, 4, g, 5004));
  mcp_sub_set_free (set);

  set = parse_ok ("*");
  group4 (g, 224, 0, 1, 1);
  g_assert_true (mcp_sub_set_matches (set, 4, g, 1, NULL));
  memset (g, 0, 16);
  g[0] = 0xff;
  g[1] = 0x3e;
  g_assert_true (mcp_sub_set_matches (set, 6, g, 65535, NULL));
  mcp_sub_set_free (set);
}

/* restrict one wanted group to a scope */
static void
check_restrict (const gchar * scope_text, const gchar * want_text,
    const gchar * expected)
{
  McpSubSet *scope = parse_ok (scope_text), *want = parse_ok (want_text),
      *out = mcp_sub_set_new ();
  gchar *s;

  g_assert_cmpuint (mcp_sub_set_size (want), ==, 1);
  mcp_sub_set_restrict (scope, mcp_sub_set_get (want, 0), out);
  s = mcp_sub_set_to_string (out);
  g_assert_cmpstr (s, ==, expected);
  g_free (s);
  mcp_sub_set_free (out);
  mcp_sub_set_free (want);
  mcp_sub_set_free (scope);
}

static void
test_restrict (void)
{
  const gchar *scope = "239.10.0.0/16:5004 232.1.1.0/24:5000-5010 "
      "ff3e::/96:5004 239.1.1.1:4000";

  check_restrict (scope, "239.10.3.4:1-65535", "239.10.3.4:5004");
  check_restrict (scope, "239.11.3.4:1-65535", "");
  check_restrict (scope, "10.0.0.1+10.0.0.2@232.1.1.9:5005-65535",
      "10.0.0.1+10.0.0.2@232.1.1.9:5005-5010");
  check_restrict (scope, "[ff3e::42]:1-65535", "[ff3e::42]:5004");
  check_restrict (scope, "[ff3e::1:0:42]:1-65535", "");
  check_restrict (scope, "239.1.1.1:1-65535", "239.1.1.1:4000");
  check_restrict (scope, "239.10.3.4:6000", "");
  /* a wanted prefix wider than a scope entry is not narrowed to it */
  check_restrict (scope, "239.0.0.0/8:1-65535", "");
}

static void
test_diff_remove (void)
{
  McpSubSet *a = parse_ok ("239.1.1.1:5000 239.1.1.2:5000 239.1.1.3:5000"),
      *b = parse_ok ("239.1.1.2:5000 239.1.1.4:5000"),
      *only_a = mcp_sub_set_new (), *only_b = mcp_sub_set_new ();
  gchar *s;

  mcp_sub_set_diff (a, b, only_a, only_b);
  s = mcp_sub_set_to_string (only_a);
  g_assert_cmpstr (s, ==, "239.1.1.1:5000 239.1.1.3:5000");
  g_free (s);
  s = mcp_sub_set_to_string (only_b);
  g_assert_cmpstr (s, ==, "239.1.1.4:5000");
  g_free (s);
  g_assert_true (mcp_sub_set_remove (a, mcp_sub_set_get (b, 0)));
  g_assert_false (mcp_sub_set_remove (a, mcp_sub_set_get (b, 0)));
  g_assert_cmpuint (mcp_sub_set_size (a), ==, 2);
  mcp_sub_set_add_all (a, b);
  s = mcp_sub_set_to_string (a);
  g_assert_cmpstr (s, ==, "239.1.1.1:5000 239.1.1.2:5000 239.1.1.3:5000 "
      "239.1.1.4:5000");
  g_free (s);
  mcp_sub_set_clear (a);
  g_assert_true (mcp_sub_set_is_empty (a));
  mcp_sub_set_free (a);
  mcp_sub_set_free (b);
  mcp_sub_set_free (only_a);
  mcp_sub_set_free (only_b);
}

static void
test_wire (void)
{
  McpSubSet *set = parse_ok ("239.10.0.0/16:5004 "
      "10.0.0.1+10.0.0.2@232.1.1.1:5000-5010 [fd00::1]@[ff3e::8]:6000"),
      *back = mcp_sub_set_new (), *copy;
  GByteArray *out = g_byte_array_new ();
  GError *err = NULL;
  guint next;
  static const guint8 first[MCP_SUB_ENTRY_LEN] = {
    4, 32, 1, 0, 0x13, 0x88, 0x13, 0x92, 0, 2, 0, 0,
    232, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
  };

  g_assert_cmpuint (mcp_sub_set_encode (set, 0, out, 65535), ==, 3);
  /* 3 entries, 2 + 1 sources */
  g_assert_cmpuint (out->len, ==, 3 * MCP_SUB_ENTRY_LEN + 3 * 16);
  /* canonical order: IPv4 232.1.1.1 first */
  g_assert_cmpmem (out->data, MCP_SUB_ENTRY_LEN, first, MCP_SUB_ENTRY_LEN);
  g_assert_true (mcp_sub_set_apply_wire (back, out->data, out->len, FALSE,
          &err));
  g_assert_no_error (err);
  g_assert_true (mcp_sub_set_equal (set, back));

  /* split: the first entry takes 60 bytes, the second 28 more */
  g_byte_array_set_size (out, 0);
  next = mcp_sub_set_encode (set, 0, out, 2 * MCP_SUB_ENTRY_LEN + 31);
  g_assert_cmpuint (next, ==, 1);
  g_byte_array_set_size (out, 0);
  g_assert_cmpuint (mcp_sub_set_encode (set, 1, out, 65535), ==, 3);

  /* remove by wire */
  copy = mcp_sub_set_copy (set);
  g_byte_array_set_size (out, 0);
  mcp_sub_set_encode (set, 2, out, 65535);
  g_assert_true (mcp_sub_set_apply_wire (copy, out->data, out->len, TRUE,
          &err));
  g_assert_cmpuint (mcp_sub_set_size (copy), ==, 2);
  mcp_sub_set_free (copy);
  g_byte_array_unref (out);
  mcp_sub_set_free (back);
  mcp_sub_set_free (set);
}

static void
check_wire_bad (const guint8 * data, gsize len, const gchar * message)
{
  McpSubSet *set = parse_ok ("239.9.9.9:9");
  GError *err = NULL;

  g_assert_false (mcp_sub_set_apply_wire (set, data, len, FALSE, &err));
  g_assert_nonnull (err);
  g_assert_cmpstr (err->message, ==, message);
  g_error_free (err);
  /* unchanged */
  g_assert_cmpuint (mcp_sub_set_size (set), ==, 1);
  mcp_sub_set_free (set);
}

static void
test_wire_bad (void)
{
  guint8 e[MCP_SUB_ENTRY_LEN + 16] = {
    4, 32, 0, 0, 0x13, 0x88, 0x13, 0x88, 0, 0, 0, 0,
    239, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
  };
  guint8 two[2 * MCP_SUB_ENTRY_LEN];

  check_wire_bad (e, 10, "bad subscription: 10 bytes left over after the "
      "last entry");
  /* a good entry followed by a bad one: nothing applied */
  memcpy (two, e, MCP_SUB_ENTRY_LEN);
  memcpy (two + MCP_SUB_ENTRY_LEN, e, MCP_SUB_ENTRY_LEN);
  two[MCP_SUB_ENTRY_LEN] = 5;
  check_wire_bad (two, sizeof (two), "bad subscription: the address family "
      "is neither 4 nor 6");
  e[2] = 3;
  check_wire_bad (e, MCP_SUB_ENTRY_LEN, "bad subscription: unknown source "
      "filter mode");
  e[2] = 1;
  check_wire_bad (e, MCP_SUB_ENTRY_LEN, "bad subscription: a source filter "
      "without sources");
  e[9] = 1;
  check_wire_bad (e, MCP_SUB_ENTRY_LEN, "bad subscription: 1 sources "
      "announced, fewer sent");
  e[9] = 65;
  check_wire_bad (e, sizeof (e), "bad subscription: 65 sources (at most 64)");
  e[9] = 1;
  e[MCP_SUB_ENTRY_LEN] = 10;
  e[MCP_SUB_ENTRY_LEN + 5] = 1;
  check_wire_bad (e, sizeof (e), "bad subscription: an IPv4 source with "
      "bytes past its 4");
  e[2] = 0;
  e[9] = 0;
  e[4] = 0;
  e[5] = 0;
  check_wire_bad (e, MCP_SUB_ENTRY_LEN, "bad subscription: the ports are "
      "not a range within 1-65535");
  e[5] = 1;
  e[1] = 8;
  check_wire_bad (e, MCP_SUB_ENTRY_LEN, "bad subscription: host bits set "
      "beyond the prefix");
}

static void
test_limit (void)
{
  McpSubSet *set = mcp_sub_set_new ();
  GByteArray *out = g_byte_array_new ();
  GError *err = NULL;
  McpSubEntry e = { 4, 32, MCP_SUB_ANY, 5000, 5000, {239, 0, 0, 0}, 0,
  NULL
  };
  guint i;

  for (i = 0; i <= MCP_SUB_MAX_ENTRIES; i++) {
    e.group[2] = i >> 8;
    e.group[3] = i & 0xff;
    g_assert_true (mcp_sub_set_add (set, &e, NULL));
  }
  mcp_sub_set_encode (set, 0, out, G_MAXSIZE);
  mcp_sub_set_free (set);
  set = mcp_sub_set_new ();
  g_assert_false (mcp_sub_set_apply_wire (set, out->data, out->len, FALSE,
          &err));
  g_assert_error (err, MCP_SUB_ERROR, MCP_SUB_ERROR_TOO_MANY);
  g_assert_cmpstr (err->message, ==, "too many subscriptions: more than "
      "4096");
  g_assert_true (mcp_sub_set_is_empty (set));
  g_clear_error (&err);
  /* the same entries again are no more entries */
  g_assert_true (mcp_sub_set_apply_wire (set, out->data,
          out->len - MCP_SUB_ENTRY_LEN, FALSE, &err));
  g_assert_true (mcp_sub_set_apply_wire (set, out->data,
          out->len - MCP_SUB_ENTRY_LEN, FALSE, &err));
  g_assert_cmpuint (mcp_sub_set_size (set), ==, MCP_SUB_MAX_ENTRIES);
  g_byte_array_unref (out);
  mcp_sub_set_free (set);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/subscription/text", test_text);
  g_test_add_func ("/subscription/matches", test_matches);
  g_test_add_func ("/subscription/restrict", test_restrict);
  g_test_add_func ("/subscription/diff-remove", test_diff_remove);
  g_test_add_func ("/subscription/wire", test_wire);
  g_test_add_func ("/subscription/wire-bad", test_wire_bad);
  g_test_add_func ("/subscription/limit", test_limit);
  return g_test_run ();
}
