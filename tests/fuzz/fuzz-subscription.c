/* mcastproxy fuzzing — subscription sets (mcp-subscription): the wire
 * form of SUBSCRIBE/UNSUBSCRIBE payloads and the text form of scopes.
 *
 * Input: byte 0 bit 0 picks the form (0 wire, 1 text), the rest is the
 * payload or the text.
 *
 * Checks: exactly one of a set and an error of the domain with a one-line
 * message; a failed apply leaves the set as it was (empty); a set taken
 * gives itself back through the other form and its own (encode, apply;
 * print, parse), prints the same twice, and is emptied by removing its own
 * encoding; every entry of it passes mcp_sub_set_add again and matches the
 * datagrams its group and ports name.
 */
#include "config.h"

#include "mcp-subscription.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void
check_error (GError * err)
{
  g_assert_nonnull (err);
  g_assert_true (err->domain == MCP_SUB_ERROR);
  g_assert_nonnull (strstr (err->message, ""));
  g_assert_null (strchr (err->message, '\n'));
  g_error_free (err);
}

static void
check_set (McpSubSet * set)
{
  GByteArray *wire = g_byte_array_new ();
  McpSubSet *again = mcp_sub_set_new (), *copy;
  gchar *text, *text2;
  GError *err = NULL;
  guint i;

  g_assert_cmpuint (mcp_sub_set_size (set), <=, MCP_SUB_MAX_ENTRIES);
  g_assert_cmpuint (mcp_sub_set_encode (set, 0, wire, G_MAXSIZE), ==,
      mcp_sub_set_size (set));
  g_assert_true (mcp_sub_set_apply_wire (again, wire->data, wire->len, FALSE,
          &err));
  g_assert_no_error (err);
  g_assert_true (mcp_sub_set_equal (set, again));

  text = mcp_sub_set_to_string (set);
  copy = mcp_sub_set_parse (text, &err);
  g_assert_no_error (err);
  g_assert_true (mcp_sub_set_equal (set, copy));
  text2 = mcp_sub_set_to_string (copy);
  g_assert_cmpstr (text, ==, text2);

  for (i = 0; i < mcp_sub_set_size (set); i++) {
    const McpSubEntry *e = mcp_sub_set_get (set, i);
    McpSubSet *one = mcp_sub_set_new ();

    g_assert_true (mcp_sub_set_add (one, e, NULL));
    g_assert_true (mcp_sub_set_matches (set, e->family, e->group, e->port_lo,
            NULL));
    g_assert_true (mcp_sub_set_matches (set, e->family, e->group, e->port_hi,
            NULL));
    mcp_sub_set_free (one);
  }

  g_assert_true (mcp_sub_set_apply_wire (again, wire->data, wire->len, TRUE,
          NULL));
  g_assert_true (mcp_sub_set_is_empty (again));

  g_free (text);
  g_free (text2);
  mcp_sub_set_free (copy);
  mcp_sub_set_free (again);
  g_byte_array_unref (wire);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GError *err = NULL;

  if (size < 1)
    return 0;
  if (data[0] & 1) {
    gchar *text = g_strndup ((const gchar *) data + 1, size - 1);
    McpSubSet *set = mcp_sub_set_parse (text, &err);

    if (set) {
      g_assert_null (err);
      check_set (set);
      mcp_sub_set_free (set);
    } else {
      check_error (err);
    }
    g_free (text);
  } else {
    McpSubSet *set = mcp_sub_set_new ();

    if (mcp_sub_set_apply_wire (set, data + 1, size - 1, FALSE, &err)) {
      g_assert_null (err);
      check_set (set);
    } else {
      check_error (err);
      g_assert_true (mcp_sub_set_is_empty (set));
    }
    mcp_sub_set_free (set);
  }
  return 0;
}
