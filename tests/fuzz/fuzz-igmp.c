/* mcastproxy fuzzing — IGMP and MLD messages (mcp-igmp).
 *
 * Input: byte 0 the options, then the message, which goes to both
 * mcp_igmp_parse and mcp_mld_parse:
 *   bit 0  the IGMP checksum is made right first (for the IGMP parser
 *          only), so that the fuzzer reaches past the check
 *
 * Checks: exactly one of a message and an error, the error of the domain
 * with a one-line message, UNKNOWN_TYPE exactly for the types that are not
 * membership messages; a message parsed from IGMP has a right checksum;
 * the kind and version are those of its type and length; a query has no
 * records, a group that is NULL or multicast, sources only when it has a
 * group and a version that carries them, its fields in their ranges; a
 * report or leave has records whose groups are multicast and whose sources
 * are unicast, all of the family, taking no more bytes than the message
 * has; an IGMPv1/v2 or MLDv1 report or leave is one record without sources
 * of the type its kind says. A query (but IGMPv1's, which is not built) is
 * built again: that gives the same fields when parsed, the same bytes as
 * the input but for the checksum and reserved bits, and the same bytes when
 * built once more.
 */
#include "config.h"

#include "mcp-igmp.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static gsize
address_len (GSocketFamily family)
{
  return family == G_SOCKET_FAMILY_IPV4 ? 4 : 16;
}

static void
check_address (GInetAddress * addr, GSocketFamily family, gboolean group)
{
  g_assert_nonnull (addr);
  g_assert_cmpint (g_inet_address_get_family (addr), ==, family);
  g_assert_cmpint (g_inet_address_get_is_multicast (addr), ==, group);
}

static void
check_sources (GPtrArray * sources, GSocketFamily family)
{
  guint i;

  g_assert_nonnull (sources);
  for (i = 0; i < sources->len; i++)
    check_address (g_ptr_array_index (sources, i), family, FALSE);
}

/* The kind and version a message of this type and length must have. */
static void
check_type (McpIgmpMessage * msg, const guint8 * data, gsize len)
{
  McpIgmpKind kind;
  guint version;

  if (msg->family == G_SOCKET_FAMILY_IPV4) {
    switch (data[0]) {
      case 0x11:
        kind = MCP_IGMP_QUERY;
        version = len >= 12 ? 3 : data[1] == 0 ? 1 : 2;
        if (version < 3)
          g_assert_cmpuint (len, ==, 8);
        break;
      case 0x12:
        kind = MCP_IGMP_REPORT;
        version = 1;
        break;
      case 0x16:
        kind = MCP_IGMP_REPORT;
        version = 2;
        break;
      case 0x17:
        kind = MCP_IGMP_LEAVE;
        version = 2;
        break;
      case 0x22:
        kind = MCP_IGMP_REPORT;
        version = 3;
        break;
      default:
        g_assert_not_reached ();
    }
  } else {
    switch (data[0]) {
      case 130:
        kind = MCP_IGMP_QUERY;
        version = len >= 28 ? 2 : 1;
        if (version == 1)
          g_assert_cmpuint (len, ==, 24);
        break;
      case 131:
        kind = MCP_IGMP_REPORT;
        version = 1;
        break;
      case 132:
        kind = MCP_IGMP_LEAVE;
        version = 1;
        break;
      case 143:
        kind = MCP_IGMP_REPORT;
        version = 2;
        break;
      default:
        g_assert_not_reached ();
    }
  }
  g_assert_cmpint (msg->kind, ==, kind);
  g_assert_cmpuint (msg->version, ==, version);
}

static gboolean
extended (McpIgmpMessage * msg)
{
  return msg->version == (msg->family == G_SOCKET_FAMILY_IPV4 ? 3 : 2);
}

static void
check_query (McpIgmpMessage * msg, const guint8 * data, gsize len)
{
  gsize alen = address_len (msg->family);
  gboolean v4 = msg->family == G_SOCKET_FAMILY_IPV4;

  g_assert_cmpuint (msg->records->len, ==, 0);
  if (msg->group)
    check_address (msg->group, msg->family, TRUE);
  check_sources (msg->sources, msg->family);
  g_assert_cmpuint (msg->qrv, <=, 7);
  if (!extended (msg)) {
    g_assert_false (msg->s_flag);
    g_assert_cmpuint (msg->qrv, ==, 0);
    g_assert_cmpuint (msg->qqi, ==, 0);
    g_assert_cmpuint (msg->sources->len, ==, 0);
  } else {
    g_assert_cmpuint (msg->qqi, <=, MCP_IGMP_CODE8_MAX);
    g_assert_cmpuint ((v4 ? 12 : 28) + msg->sources->len * alen, <=, len);
    if (msg->group == NULL)
      g_assert_cmpuint (msg->sources->len, ==, 0);
  }
  if (v4 && msg->version == 1) {
    g_assert_null (msg->group);
    g_assert_cmpuint (msg->max_resp_ms, ==, 10000);
  } else if (v4 && msg->version == 2) {
    g_assert_cmpuint (msg->max_resp_ms, ==, data[1] * 100);
  } else if (v4) {
    g_assert_cmpuint (msg->max_resp_ms, <=, MCP_IGMP_CODE8_MAX * 100);
  } else if (msg->version == 1) {
    g_assert_cmpuint (msg->max_resp_ms, ==, (data[4] << 8) | data[5]);
  } else {
    g_assert_cmpuint (msg->max_resp_ms, <=, MCP_IGMP_CODE16_MAX);
  }
}

static void
check_report (McpIgmpMessage * msg, gsize len)
{
  gsize alen = address_len (msg->family), bytes = 8;
  guint i;

  g_assert_null (msg->group);
  g_assert_cmpuint (msg->sources->len, ==, 0);
  g_assert_false (msg->s_flag);
  g_assert_cmpuint (msg->max_resp_ms + msg->qrv + msg->qqi, ==, 0);
  for (i = 0; i < msg->records->len; i++) {
    McpIgmpRecord *rec = &g_array_index (msg->records, McpIgmpRecord, i);

    g_assert_cmpint (rec->type, >=, MCP_IGMP_MODE_IS_INCLUDE);
    g_assert_cmpint (rec->type, <=, MCP_IGMP_BLOCK_OLD_SOURCES);
    g_assert_cmpstr (mcp_igmp_record_type_name (rec->type), !=, "unknown");
    check_address (rec->group, msg->family, TRUE);
    check_sources (rec->sources, msg->family);
    bytes += 4 + alen + rec->sources->len * alen;
  }
  if (extended (msg)) {
    g_assert_cmpuint (bytes, <=, len);
    return;
  }
  g_assert_cmpuint (msg->records->len, ==, 1);
  g_assert_cmpint (g_array_index (msg->records, McpIgmpRecord, 0).type, ==,
      msg->kind == MCP_IGMP_LEAVE ? MCP_IGMP_CHANGE_TO_INCLUDE :
      MCP_IGMP_MODE_IS_EXCLUDE);
  g_assert_cmpuint (g_array_index (msg->records, McpIgmpRecord, 0)
      .sources->len, ==, 0);
}

static McpIgmpMessage *
parse (GSocketFamily family, const guint8 * data, gsize len, GError ** error)
{
  if (family == G_SOCKET_FAMILY_IPV4)
    return mcp_igmp_parse (data, len, error);
  return mcp_mld_parse (data, len, error);
}

static gboolean
same_address (GInetAddress * a, GInetAddress * b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_inet_address_equal (a, b);
}

/* Builds query again: the same fields, the same bytes but for the
 * checksum, reserved bits and what lies beyond, the same bytes again. */
static void
check_rebuild (McpIgmpMessage * msg, const guint8 * data, gsize len)
{
  gboolean v4 = msg->family == G_SOCKET_FAMILY_IPV4;
  gsize alen = address_len (msg->family), flags = (v4 ? 4 : 8) + alen;
  GError *err = NULL;
  GBytes *bytes, *again;
  McpIgmpMessage *back;
  const guint8 *out;
  gsize out_len, i;

  bytes = mcp_igmp_build_query (msg, &err);
  g_assert_no_error (err);
  out = g_bytes_get_data (bytes, &out_len);
  g_assert_cmpuint (out_len, <=, len);
  for (i = 0; i < out_len; i++) {
    if (i == 2 || i == 3 || (!v4 && (i == 1 || i == 6 || i == 7)))
      continue;
    if (extended (msg) && i == flags)
      g_assert_cmphex (out[i] & 0x0f, ==, data[i] & 0x0f);
    else
      g_assert_cmphex (out[i], ==, data[i]);
  }

  back = parse (msg->family, out, out_len, &err);
  g_assert_no_error (err);
  g_assert_cmpint (back->kind, ==, msg->kind);
  g_assert_cmpuint (back->version, ==, msg->version);
  g_assert_true (same_address (back->group, msg->group));
  g_assert_cmpuint (back->max_resp_ms, ==, msg->max_resp_ms);
  g_assert_cmpint (back->s_flag, ==, msg->s_flag);
  g_assert_cmpuint (back->qrv, ==, msg->qrv);
  g_assert_cmpuint (back->qqi, ==, msg->qqi);
  g_assert_cmpuint (back->sources->len, ==, msg->sources->len);
  for (i = 0; i < msg->sources->len; i++)
    g_assert_true (same_address (g_ptr_array_index (back->sources, i),
            g_ptr_array_index (msg->sources, i)));

  again = mcp_igmp_build_query (back, &err);
  g_assert_no_error (err);
  g_assert_true (g_bytes_equal (bytes, again));
  mcp_igmp_message_free (back);
  g_bytes_unref (bytes);
  g_bytes_unref (again);
}

static gboolean
known_type (GSocketFamily family, guint8 type)
{
  if (family == G_SOCKET_FAMILY_IPV4)
    return type == 0x11 || type == 0x12 || type == 0x16 || type == 0x17 ||
        type == 0x22;
  return type == 130 || type == 131 || type == 132 || type == 143;
}

static void
run (GSocketFamily family, const guint8 * data, gsize len)
{
  GError *err = NULL;
  McpIgmpMessage *msg = parse (family, data, len, &err);

  if (msg == NULL) {
    g_assert_nonnull (err);
    g_assert_true (err->domain == MCP_IGMP_ERROR);
    g_assert_cmpint (err->code, ==, len > 0 && !known_type (family, data[0])
        ? MCP_IGMP_ERROR_UNKNOWN_TYPE : MCP_IGMP_ERROR_INVALID);
    g_assert_cmpuint (strlen (err->message), >, 0);
    g_assert_null (strchr (err->message, '\n'));
    g_error_free (err);
    return;
  }
  g_assert_no_error (err);
  g_assert_cmpint (msg->family, ==, family);
  g_assert_cmpuint (len, <=, MCP_IGMP_MAX_MESSAGE);
  if (family == G_SOCKET_FAMILY_IPV4)
    g_assert_cmphex (mcp_igmp_checksum (data, len), ==, 0);
  check_type (msg, data, len);
  g_assert_nonnull (msg->sources);
  g_assert_nonnull (msg->records);
  if (msg->kind == MCP_IGMP_QUERY) {
    check_query (msg, data, len);
    if (!(family == G_SOCKET_FAMILY_IPV4 && msg->version == 1))
      check_rebuild (msg, data, len);
  } else {
    check_report (msg, len);
  }
  mcp_igmp_message_free (msg);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  guint8 *igmp;
  gboolean fix;

  if (size < 1)
    return 0;
  fix = (data[0] & 1) != 0;
  data++;
  size--;

  /* a copy of its own: the parsers must not read past it */
  igmp = g_memdup2 (data, size);
  if (fix && size >= 4) {
    guint16 sum;

    igmp[2] = igmp[3] = 0;
    sum = mcp_igmp_checksum (igmp, size);
    igmp[2] = sum >> 8;
    igmp[3] = sum & 0xff;
  }
  run (G_SOCKET_FAMILY_IPV4, igmp, size);
  run (G_SOCKET_FAMILY_IPV6, data, size);
  g_free (igmp);
  return 0;
}
