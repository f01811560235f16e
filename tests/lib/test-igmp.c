/* mcastproxy — unit tests of IGMP and MLD parsing and query building
 * (mcp-igmp).
 *
 * The messages are written out byte by byte after the layouts of RFC 2236,
 * RFC 3376, RFC 2710 and RFC 3810; the IGMP checksums in them were
 * computed apart from the library, and where a test changes a message the
 * test's own checksum makes it right again.
 */
#include "config.h"

#include "mcp-igmp.h"

#include <string.h>

#define V4 G_SOCKET_FAMILY_IPV4
#define V6 G_SOCKET_FAMILY_IPV6

/* ---- helpers ----------------------------------------------------------- */

/* The IGMP checksum put right, by 32-bit words of bytes: another way of
 * summing than the library's. */
static void
fix_checksum (guint8 * msg, gsize len)
{
  guint32 sum = 0;
  gsize i;

  msg[2] = msg[3] = 0;
  for (i = 0; i < len; i++)
    sum += (i & 1) ? msg[i] : (guint32) msg[i] << 8;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  msg[2] = ~sum >> 8;
  msg[3] = ~sum & 0xff;
}

/* Bytes from hex digits; blanks between them are for the eye. */
static GByteArray *
from_hex (const gchar * hex)
{
  GByteArray *b = g_byte_array_new ();

  while (*hex) {
    guint8 byte;

    if (*hex == ' ') {
      hex++;
      continue;
    }
    g_assert_true (g_ascii_isxdigit (hex[0]) && g_ascii_isxdigit (hex[1]));
    byte = g_ascii_xdigit_value (hex[0]) << 4 | g_ascii_xdigit_value (hex[1]);
    g_byte_array_append (b, &byte, 1);
    hex += 2;
  }
  return b;
}

static McpIgmpMessage *
parse (GSocketFamily family, const guint8 * data, gsize len, GError ** error)
{
  if (family == V4)
    return mcp_igmp_parse (data, len, error);
  return mcp_mld_parse (data, len, error);
}

static McpIgmpMessage *
parse_ok (GSocketFamily family, const guint8 * data, gsize len)
{
  GError *err = NULL;
  McpIgmpMessage *msg = parse (family, data, len, &err);

  g_assert_no_error (err);
  g_assert_nonnull (msg);
  g_assert_cmpint (msg->family, ==, family);
  g_assert_nonnull (msg->sources);
  g_assert_nonnull (msg->records);
  return msg;
}

static void
assert_address (GInetAddress * addr, const gchar * expected)
{
  gchar *text;

  if (expected == NULL) {
    g_assert_null (addr);
    return;
  }
  g_assert_nonnull (addr);
  text = g_inet_address_to_string (addr);
  g_assert_cmpstr (text, ==, expected);
  g_free (text);
}

/* sources holds these addresses (..., NULL), in order. */
static void
assert_sources (GPtrArray * sources, ...)
{
  va_list args;
  guint i;

  va_start (args, sources);
  for (i = 0;; i++) {
    const gchar *expected = va_arg (args, const gchar *);

    if (expected == NULL)
      break;
    g_assert_cmpuint (i, <, sources->len);
    assert_address (g_ptr_array_index (sources, i), expected);
  }
  va_end (args);
  g_assert_cmpuint (sources->len, ==, i);
}

static McpIgmpRecord *
record (McpIgmpMessage * msg, guint i)
{
  g_assert_cmpuint (i, <, msg->records->len);
  return &g_array_index (msg->records, McpIgmpRecord, i);
}

static void
assert_query (McpIgmpMessage * msg, guint version, const gchar * group,
    guint max_resp_ms, gboolean s_flag, guint qrv, guint qqi)
{
  g_assert_cmpint (msg->kind, ==, MCP_IGMP_QUERY);
  g_assert_cmpuint (msg->version, ==, version);
  assert_address (msg->group, group);
  g_assert_cmpuint (msg->max_resp_ms, ==, max_resp_ms);
  g_assert_cmpint (msg->s_flag, ==, s_flag);
  g_assert_cmpuint (msg->qrv, ==, qrv);
  g_assert_cmpuint (msg->qqi, ==, qqi);
  g_assert_cmpuint (msg->records->len, ==, 0);
}

/* A report or leave of one record without sources, as older versions
 * give. */
static void
assert_old_report (GSocketFamily family, const guint8 * data, gsize len,
    McpIgmpKind kind, guint version, const gchar * group)
{
  McpIgmpMessage *msg = parse_ok (family, data, len);

  g_assert_cmpint (msg->kind, ==, kind);
  g_assert_cmpuint (msg->version, ==, version);
  g_assert_null (msg->group);
  g_assert_cmpuint (msg->sources->len, ==, 0);
  g_assert_cmpuint (msg->records->len, ==, 1);
  g_assert_cmpint (record (msg, 0)->type, ==, kind == MCP_IGMP_LEAVE ?
      MCP_IGMP_CHANGE_TO_INCLUDE : MCP_IGMP_MODE_IS_EXCLUDE);
  assert_address (record (msg, 0)->group, group);
  assert_sources (record (msg, 0)->sources, NULL);
  mcp_igmp_message_free (msg);
}

static void
assert_error (GSocketFamily family, const guint8 * data, gsize len,
    gint code, const gchar * message)
{
  GError *err = NULL;

  g_assert_null (parse (family, data, len, &err));
  g_assert_error (err, MCP_IGMP_ERROR, code);
  g_assert_cmpstr (err->message, ==, message);
  g_error_free (err);
}

/* ---- IGMP messages ------------------------------------------------------ */

/* RFC 2236 2: type, max response time (1/10 s), checksum, group. */
static const guint8 igmp_v1_query[] = {
  0x11, 0x00, 0xee, 0xff, 0x00, 0x00, 0x00, 0x00
};

static const guint8 igmp_v2_general_query[] = {
  0x11, 0x64, 0xee, 0x9b, 0x00, 0x00, 0x00, 0x00
};

static const guint8 igmp_v2_group_query[] = {
  0x11, 0x0a, 0xfd, 0xf0, 0xef, 0x01, 0x02, 0x03
};

static const guint8 igmp_v1_report[] = {
  0x12, 0x00, 0xfe, 0x04, 0xef, 0xff, 0xff, 0xfa
};

static const guint8 igmp_v2_report[] = {
  0x16, 0x00, 0xf8, 0xfa, 0xef, 0x01, 0x02, 0x03
};

static const guint8 igmp_v2_leave[] = {
  0x17, 0x00, 0xf7, 0xfa, 0xef, 0x01, 0x02, 0x03
};

/* RFC 3376 4.1: then Resv/S/QRV, QQIC, number of sources, sources. */
static const guint8 igmp_v3_general_query[] = {
  0x11, 0x64, 0xec, 0x1e, 0x00, 0x00, 0x00, 0x00,
  0x02, 0x7d, 0x00, 0x00
};

static const guint8 igmp_v3_source_query[] = {
  0x11, 0x8a, 0xe6, 0xe1,       /* max resp code 0x8a: 26 << 3 = 20.8 s */
  0xe8, 0x01, 0x01, 0x01,       /* 232.1.1.1 */
  0x0a, 0x8c, 0x00, 0x02,       /* S, QRV 2; QQIC 0x8c: 224 s; 2 sources */
  0x0a, 0x00, 0x00, 0x01,
  0x0a, 0x00, 0x00, 0x02
};

/* RFC 3376 4.2, as a host that joins 232.1.1.1 from two sources and
 * 239.255.255.250 from any (an SSDP stack) says it: type 0x22, reserved,
 * checksum, reserved, 2 records, each record type, aux data length,
 * number of sources, group, sources. */
static const guint8 igmp_v3_report[] = {
  0x22, 0x00, 0x7c, 0x97, 0x00, 0x00, 0x00, 0x02,
  0x01, 0x00, 0x00, 0x02,       /* MODE_IS_INCLUDE, 2 sources */
  0xe8, 0x01, 0x01, 0x01,
  0xc0, 0xa8, 0x01, 0x0a,
  0xc0, 0xa8, 0x01, 0x0b,
  0x04, 0x00, 0x00, 0x00,       /* CHANGE_TO_EXCLUDE, none */
  0xef, 0xff, 0xff, 0xfa
};

/* Aux data, a record of an unknown type 9 between two known ones, and two
 * bytes after the last record. */
static const guint8 igmp_v3_report_aux[] = {
  0x22, 0x00, 0x55, 0x2e, 0x00, 0x00, 0x00, 0x03,
  0x05, 0x01, 0x00, 0x01,       /* ALLOW_NEW_SOURCES, 1 aux word, 1 source */
  0xe8, 0x01, 0x01, 0x02,
  0x0a, 0x01, 0x01, 0x01,
  0xaa, 0xbb, 0xcc, 0xdd,
  0x09, 0x00, 0x00, 0x01,       /* unknown, skipped whatever it holds */
  0x0a, 0x09, 0x09, 0x09,
  0x0a, 0x09, 0x09, 0x09,
  0x06, 0x00, 0x00, 0x01,       /* BLOCK_OLD_SOURCES */
  0xe8, 0x01, 0x01, 0x02,
  0x0a, 0x01, 0x01, 0x02,
  0xee, 0xff
};

static void
test_checksum (void)
{
  /* RFC 1071 3's example: the sum is 0xddf2 */
  static const guint8 rfc1071[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5,
    0xf6, 0xf7
  };
  guint8 odd[] = { 0x12, 0x34, 0x56 };
  guint8 msg[sizeof (igmp_v3_report_aux)];

  g_assert_cmphex (mcp_igmp_checksum (rfc1071, sizeof (rfc1071)), ==, 0x220d);
  /* an odd byte is the high half of a last word */
  g_assert_cmphex (mcp_igmp_checksum (odd, 3), ==, (guint16) ~ 0x6834);
  g_assert_cmphex (mcp_igmp_checksum (NULL, 0), ==, 0xffff);
  g_assert_cmphex (mcp_igmp_checksum (igmp_v3_report,
          sizeof (igmp_v3_report)), ==, 0);
  memcpy (msg, igmp_v3_report_aux, sizeof (msg));
  fix_checksum (msg, sizeof (msg));
  g_assert_cmpmem (msg, sizeof (msg), igmp_v3_report_aux, sizeof (msg));
  g_assert_cmphex (mcp_igmp_checksum (msg, sizeof (msg)), ==, 0);
}

static void
test_igmp_queries (void)
{
  McpIgmpMessage *msg;

  msg = parse_ok (V4, igmp_v1_query, sizeof (igmp_v1_query));
  assert_query (msg, 1, NULL, 10000, FALSE, 0, 0);
  mcp_igmp_message_free (msg);

  msg = parse_ok (V4, igmp_v2_general_query, 8);
  assert_query (msg, 2, NULL, 10000, FALSE, 0, 0);
  assert_sources (msg->sources, NULL);
  mcp_igmp_message_free (msg);

  msg = parse_ok (V4, igmp_v2_group_query, 8);
  assert_query (msg, 2, "239.1.2.3", 1000, FALSE, 0, 0);
  mcp_igmp_message_free (msg);

  msg = parse_ok (V4, igmp_v3_general_query, 12);
  assert_query (msg, 3, NULL, 10000, FALSE, 2, 125);
  assert_sources (msg->sources, NULL);
  mcp_igmp_message_free (msg);

  msg = parse_ok (V4, igmp_v3_source_query, sizeof (igmp_v3_source_query));
  assert_query (msg, 3, "232.1.1.1", 20800, TRUE, 2, 224);
  assert_sources (msg->sources, "10.0.0.1", "10.0.0.2", NULL);
  mcp_igmp_message_free (msg);
}

/* An IGMPv1 query's group is ignored (RFC 1112); octets beyond a query's
 * fields are checksummed but ignored (RFC 3376 4.1.10). */
static void
test_igmp_query_extras (void)
{
  guint8 msg[sizeof (igmp_v3_source_query) + 3];
  McpIgmpMessage *m;

  memcpy (msg, igmp_v1_query, 8);
  msg[4] = 0xef;
  msg[7] = 0x09;
  fix_checksum (msg, 8);
  m = parse_ok (V4, msg, 8);
  assert_query (m, 1, NULL, 10000, FALSE, 0, 0);
  mcp_igmp_message_free (m);

  memcpy (msg, igmp_v3_source_query, sizeof (igmp_v3_source_query));
  memset (msg + sizeof (igmp_v3_source_query), 0x5a, 3);
  /* reserved bits set: ignored */
  msg[8] |= 0xf0;
  fix_checksum (msg, sizeof (msg));
  m = parse_ok (V4, msg, sizeof (msg));
  assert_query (m, 3, "232.1.1.1", 20800, TRUE, 2, 224);
  assert_sources (m->sources, "10.0.0.1", "10.0.0.2", NULL);
  mcp_igmp_message_free (m);

  /* QRV 0 (a robustness above 7), max resp code 0 */
  memcpy (msg, igmp_v3_general_query, 12);
  msg[1] = 0;
  msg[8] = 0;
  fix_checksum (msg, 12);
  m = parse_ok (V4, msg, 12);
  assert_query (m, 3, NULL, 0, FALSE, 0, 125);
  mcp_igmp_message_free (m);
}

static void
test_igmp_old_reports (void)
{
  guint8 longer[12];

  assert_old_report (V4, igmp_v1_report, 8, MCP_IGMP_REPORT, 1,
      "239.255.255.250");
  assert_old_report (V4, igmp_v2_report, 8, MCP_IGMP_REPORT, 2, "239.1.2.3");
  assert_old_report (V4, igmp_v2_leave, 8, MCP_IGMP_LEAVE, 2, "239.1.2.3");
  /* RFC 2236 2.5: a longer one is read for its first 8 octets */
  memcpy (longer, igmp_v2_report, 8);
  memset (longer + 8, 0xff, 4);
  fix_checksum (longer, sizeof (longer));
  assert_old_report (V4, longer, sizeof (longer), MCP_IGMP_REPORT, 2,
      "239.1.2.3");
}

static void
test_igmp_v3_report (void)
{
  McpIgmpMessage *msg;

  msg = parse_ok (V4, igmp_v3_report, sizeof (igmp_v3_report));
  g_assert_cmpint (msg->kind, ==, MCP_IGMP_REPORT);
  g_assert_cmpuint (msg->version, ==, 3);
  g_assert_null (msg->group);
  g_assert_cmpuint (msg->records->len, ==, 2);
  g_assert_cmpint (record (msg, 0)->type, ==, MCP_IGMP_MODE_IS_INCLUDE);
  assert_address (record (msg, 0)->group, "232.1.1.1");
  assert_sources (record (msg, 0)->sources, "192.168.1.10", "192.168.1.11",
      NULL);
  g_assert_cmpint (record (msg, 1)->type, ==, MCP_IGMP_CHANGE_TO_EXCLUDE);
  assert_address (record (msg, 1)->group, "239.255.255.250");
  assert_sources (record (msg, 1)->sources, NULL);
  mcp_igmp_message_free (msg);

  msg = parse_ok (V4, igmp_v3_report_aux, sizeof (igmp_v3_report_aux));
  g_assert_cmpuint (msg->records->len, ==, 2);
  g_assert_cmpint (record (msg, 0)->type, ==, MCP_IGMP_ALLOW_NEW_SOURCES);
  assert_address (record (msg, 0)->group, "232.1.1.2");
  assert_sources (record (msg, 0)->sources, "10.1.1.1", NULL);
  g_assert_cmpint (record (msg, 1)->type, ==, MCP_IGMP_BLOCK_OLD_SOURCES);
  assert_address (record (msg, 1)->group, "232.1.1.2");
  assert_sources (record (msg, 1)->sources, "10.1.1.2", NULL);
  mcp_igmp_message_free (msg);
}

/* Every record type, and a report without records. */
static void
test_igmp_record_types (void)
{
  GByteArray *b = from_hex ("22 00 0000 0000 0006");
  McpIgmpMessage *msg;
  guint type;

  for (type = 1; type <= 6; type++) {
    guint8 rec[] = { type, 0, 0, 1, 0xe8, 0, 0, type, 10, 0, 0, type };

    g_byte_array_append (b, rec, sizeof (rec));
  }
  fix_checksum (b->data, b->len);
  msg = parse_ok (V4, b->data, b->len);
  g_assert_cmpuint (msg->records->len, ==, 6);
  for (type = 1; type <= 6; type++) {
    McpIgmpRecord *r = record (msg, type - 1);
    gchar *group = g_strdup_printf ("232.0.0.%u", type);
    gchar *source = g_strdup_printf ("10.0.0.%u", type);

    g_assert_cmpint (r->type, ==, type);
    assert_address (r->group, group);
    assert_sources (r->sources, source, NULL);
    g_free (group);
    g_free (source);
  }
  mcp_igmp_message_free (msg);

  g_assert_cmpstr (mcp_igmp_record_type_name (MCP_IGMP_MODE_IS_INCLUDE), ==,
      "MODE_IS_INCLUDE");
  g_assert_cmpstr (mcp_igmp_record_type_name (MCP_IGMP_BLOCK_OLD_SOURCES),
      ==, "BLOCK_OLD_SOURCES");
  g_assert_cmpstr (mcp_igmp_record_type_name (0), ==, "unknown");
  g_byte_array_unref (b);

  b = from_hex ("22 00 0000 0000 0000");
  fix_checksum (b->data, b->len);
  msg = parse_ok (V4, b->data, b->len);
  g_assert_cmpint (msg->kind, ==, MCP_IGMP_REPORT);
  g_assert_cmpuint (msg->records->len, ==, 0);
  mcp_igmp_message_free (msg);
  g_byte_array_unref (b);
}

typedef struct
{
  const gchar *hex;
  gint code;
  const gchar *message;
} ErrorCase;

static const ErrorCase igmp_errors[] = {
  {"", MCP_IGMP_ERROR_INVALID, "empty IGMP message"},
  /* DVMRP, mtrace: not ours */
  {"13 00 0000 00000000", MCP_IGMP_ERROR_UNKNOWN_TYPE,
      "IGMP type 0x13 is not a membership message"},
  {"1f", MCP_IGMP_ERROR_UNKNOWN_TYPE,
      "IGMP type 0x1f is not a membership message"},
  {"16 00 0000 ef0102", MCP_IGMP_ERROR_INVALID,
      "IGMP message too short: 7 bytes, at least 8"},
  {"22", MCP_IGMP_ERROR_INVALID,
      "IGMP message too short: 1 bytes, at least 8"},
  /* RFC 3376 7.1: neither 8 nor 12 bytes or more */
  {"11 64 0000 00000000 0000", MCP_IGMP_ERROR_INVALID,
      "IGMP query of 10 bytes: 8 for version 1 or 2, at least 12 for "
        "version 3"},
  {"11 0a 0000 e8010101 027d 0003 0a000001 0a000002",
        MCP_IGMP_ERROR_INVALID,
      "IGMPv3 query of 20 bytes too short for its 3 sources"},
  {"11 64 0000 00000000 027d 0001 0a000001", MCP_IGMP_ERROR_INVALID,
      "IGMPv3 query with sources but no group"},
  {"11 0a 0000 0a000001 027d 0000", MCP_IGMP_ERROR_INVALID,
      "IGMPv3 message for 10.0.0.1: not a multicast group"},
  {"11 0a 0000 e8010101 027d 0001 e0000001", MCP_IGMP_ERROR_INVALID,
      "IGMPv3 message with source 224.0.0.1: a multicast address"},
  {"11 0a 0000 0a000001", MCP_IGMP_ERROR_INVALID,
      "IGMPv2 message for 10.0.0.1: not a multicast group"},
  {"12 00 0000 c0a80101", MCP_IGMP_ERROR_INVALID,
      "IGMPv1 message for 192.168.1.1: not a multicast group"},
  {"16 00 0000 0a000001", MCP_IGMP_ERROR_INVALID,
      "IGMPv2 message for 10.0.0.1: not a multicast group"},
  {"17 00 0000 00000000", MCP_IGMP_ERROR_INVALID,
      "IGMPv2 message for 0.0.0.0: not a multicast group"},
  /* counts beyond the length */
  {"22 00 0000 0000 0002 01000000 e8010101", MCP_IGMP_ERROR_INVALID,
      "IGMPv3 report of 16 bytes too short for its 2 records"},
  {"22 00 0000 0000 ffff 01000000 e8010101", MCP_IGMP_ERROR_INVALID,
      "IGMPv3 report of 16 bytes too short for its 65535 records"},
  {"22 00 0000 0000 0001 01000002 e8010101 0a000001",
        MCP_IGMP_ERROR_INVALID,
      "IGMPv3 report record 1 of 1 beyond the message's 20 bytes"},
  {"22 00 0000 0000 0001 0100ffff e8010101", MCP_IGMP_ERROR_INVALID,
      "IGMPv3 report record 1 of 1 beyond the message's 16 bytes"},
  {"22 00 0000 0000 0001 01010000 e8010101 aabb", MCP_IGMP_ERROR_INVALID,
      "IGMPv3 report record 1 of 1 beyond the message's 18 bytes"},
  {"22 00 0000 0000 0002 02000000 e8010101 02000001 e8010102",
        MCP_IGMP_ERROR_INVALID,
      "IGMPv3 report record 2 of 2 beyond the message's 24 bytes"},
  /* an unknown record is skipped, but must lie within the message too */
  {"22 00 0000 0000 0002 09000005 e8010101 02000000 e8010102",
        MCP_IGMP_ERROR_INVALID,
      "IGMPv3 report record 1 of 2 beyond the message's 24 bytes"},
  {"22 00 0000 0000 0001 04000000 0a000001", MCP_IGMP_ERROR_INVALID,
      "IGMPv3 message for 10.0.0.1: not a multicast group"},
  {"22 00 0000 0000 0002 04000000 e8010101 01000001 e8010102 efffffff",
        MCP_IGMP_ERROR_INVALID,
      "IGMPv3 message with source 239.255.255.255: a multicast address"},
};

static void
test_igmp_errors (void)
{
  GByteArray *b;
  guint8 msg[8];
  guint i;

  for (i = 0; i < G_N_ELEMENTS (igmp_errors); i++) {
    b = from_hex (igmp_errors[i].hex);
    if (b->len >= 4)
      fix_checksum (b->data, b->len);
    assert_error (V4, b->data, b->len, igmp_errors[i].code,
        igmp_errors[i].message);
    g_byte_array_unref (b);
  }

  /* one bit off, or the checksum of another message */
  memcpy (msg, igmp_v2_report, 8);
  msg[7] ^= 0x10;
  assert_error (V4, msg, 8, MCP_IGMP_ERROR_INVALID,
      "IGMP checksum 0xf8fa wrong");
  memcpy (msg, igmp_v2_leave, 8);
  msg[0] = 0x16;
  assert_error (V4, msg, 8, MCP_IGMP_ERROR_INVALID,
      "IGMP checksum 0xf7fa wrong");
  /* the checksum covers octets beyond the fields */
  b = g_byte_array_new ();
  g_byte_array_append (b, igmp_v3_general_query, 12);
  g_byte_array_append (b, (const guint8 *) "x", 1);
  assert_error (V4, b->data, b->len, MCP_IGMP_ERROR_INVALID,
      "IGMP checksum 0xec1e wrong");

  /* more than an IP packet holds */
  g_byte_array_set_size (b, MCP_IGMP_MAX_MESSAGE + 1);
  memset (b->data, 0, b->len);
  memcpy (b->data, igmp_v2_report, 8);
  fix_checksum (b->data, b->len);
  assert_error (V4, b->data, b->len, MCP_IGMP_ERROR_INVALID,
      "IGMP message too long: 65536 bytes, at most 65535");
  g_byte_array_set_size (b, MCP_IGMP_MAX_MESSAGE);
  fix_checksum (b->data, b->len);
  assert_old_report (V4, b->data, b->len, MCP_IGMP_REPORT, 2, "239.1.2.3");
  g_byte_array_unref (b);
}

/* A report as long as an IP packet allows, full of sources: everything
 * the length allows is read, one more is refused. */
static void
test_igmp_many_sources (void)
{
  guint n = (MCP_IGMP_MAX_MESSAGE - 16) / 4, i;
  GByteArray *b = from_hex ("22 00 0000 0000 0001 0200");
  guint8 more[] = { n >> 8, n & 0xff, 0xe8, 0x01, 0x01, 0x01 };
  McpIgmpMessage *msg;

  g_byte_array_append (b, more, sizeof (more));
  for (i = 0; i < n; i++) {
    guint8 src[] = { 10, i >> 16, i >> 8, i };

    g_byte_array_append (b, src, 4);
  }
  fix_checksum (b->data, b->len);
  msg = parse_ok (V4, b->data, b->len);
  g_assert_cmpuint (record (msg, 0)->sources->len, ==, n);
  assert_address (g_ptr_array_index (record (msg, 0)->sources, n - 1),
      "10.0.63.250");
  mcp_igmp_message_free (msg);

  b->data[10] = (n + 1) >> 8;
  b->data[11] = (n + 1) & 0xff;
  fix_checksum (b->data, b->len);
  assert_error (V4, b->data, b->len, MCP_IGMP_ERROR_INVALID,
      "IGMPv3 report record 1 of 1 beyond the message's 65532 bytes");
  g_byte_array_unref (b);
}

/* ---- MLD messages ------------------------------------------------------- */

/* RFC 2710 3: type, code, checksum, max response delay (ms), reserved,
 * multicast address. */
#define MLD_V1_GENERAL_QUERY \
  "82 00 0000 2710 0000 00000000000000000000000000000000"
#define MLD_V1_REPORT "83 00 0000 0000 0000 ff3e0000000000000000000000001234"
#define MLD_V1_DONE "84 00 0000 0000 0000 ff3e0000000000000000000000001234"
/* RFC 3810 5.1: then Resv/S/QRV, QQIC, number of sources, sources; the
 * checksum is not ours to check. Max resp code 0x8400: 0x1400 << 3 ms. */
#define MLD_V2_SOURCE_QUERY \
  "82 00 1234 8400 0000 ff3e0000000000000000000080000001 0a 7d 0002" \
  " 20010db8000000000000000000000001 20010db8000000000000000000000002"
/* RFC 3810 5.2: a record with a source, one with aux data */
#define MLD_V2_REPORT \
  "8f 00 0000 0000 0003" \
  " 01 00 0001 ff3e0000000000000000000000000001" \
  " 20010db800000000000000000000000a" \
  " 06 01 0001 ff050000000000000000000000000002" \
  " fe800000000000000000000000000001 aabbccdd" \
  " 04 00 0000 ff150000000000000000000000001234"

static McpIgmpMessage *
parse_hex_ok (GSocketFamily family, const gchar * hex)
{
  GByteArray *b = from_hex (hex);
  McpIgmpMessage *msg = parse_ok (family, b->data, b->len);

  g_byte_array_unref (b);
  return msg;
}

static void
test_mld_queries (void)
{
  McpIgmpMessage *msg;

  msg = parse_hex_ok (V6, MLD_V1_GENERAL_QUERY);
  assert_query (msg, 1, NULL, 10000, FALSE, 0, 0);
  assert_sources (msg->sources, NULL);
  mcp_igmp_message_free (msg);

  msg = parse_hex_ok (V6,
      "82 00 0000 03e8 0000 ff020000000000000000000000000fb0");
  assert_query (msg, 1, "ff02::fb0", 1000, FALSE, 0, 0);
  mcp_igmp_message_free (msg);

  msg = parse_hex_ok (V6, MLD_V2_SOURCE_QUERY);
  assert_query (msg, 2, "ff3e::8000:1", 40960, TRUE, 2, 125);
  assert_sources (msg->sources, "2001:db8::1", "2001:db8::2", NULL);
  mcp_igmp_message_free (msg);

  /* a general MLDv2 query, with two octets beyond its fields */
  msg = parse_hex_ok (V6, "82 00 0000 2710 0000 "
      "00000000000000000000000000000000 07 ff 0000 abcd");
  assert_query (msg, 2, NULL, 10000, FALSE, 7, 31744);
  mcp_igmp_message_free (msg);
}

static void
test_mld_reports (void)
{
  McpIgmpMessage *msg;
  GByteArray *b;

  b = from_hex (MLD_V1_REPORT);
  assert_old_report (V6, b->data, b->len, MCP_IGMP_REPORT, 1, "ff3e::1234");
  g_byte_array_unref (b);
  b = from_hex (MLD_V1_DONE);
  assert_old_report (V6, b->data, b->len, MCP_IGMP_LEAVE, 1, "ff3e::1234");
  g_byte_array_unref (b);

  msg = parse_hex_ok (V6, MLD_V2_REPORT);
  g_assert_cmpint (msg->kind, ==, MCP_IGMP_REPORT);
  g_assert_cmpuint (msg->version, ==, 2);
  g_assert_cmpuint (msg->records->len, ==, 3);
  g_assert_cmpint (record (msg, 0)->type, ==, MCP_IGMP_MODE_IS_INCLUDE);
  assert_address (record (msg, 0)->group, "ff3e::1");
  assert_sources (record (msg, 0)->sources, "2001:db8::a", NULL);
  g_assert_cmpint (record (msg, 1)->type, ==, MCP_IGMP_BLOCK_OLD_SOURCES);
  assert_address (record (msg, 1)->group, "ff05::2");
  assert_sources (record (msg, 1)->sources, "fe80::1", NULL);
  g_assert_cmpint (record (msg, 2)->type, ==, MCP_IGMP_CHANGE_TO_EXCLUDE);
  assert_address (record (msg, 2)->group, "ff15::1234");
  assert_sources (record (msg, 2)->sources, NULL);
  mcp_igmp_message_free (msg);
}

#define G6 "ff3e0000000000000000000000000001"
#define S6 "20010db8000000000000000000000001"
#define ZERO6 "00000000000000000000000000000000"

static const ErrorCase mld_errors[] = {
  {"", MCP_IGMP_ERROR_INVALID, "empty MLD message"},
  /* echo request, router advertisement */
  {"80 00 0000 0001 0001", MCP_IGMP_ERROR_UNKNOWN_TYPE,
      "ICMPv6 type 128 is not an MLD message"},
  {"86", MCP_IGMP_ERROR_UNKNOWN_TYPE,
      "ICMPv6 type 134 is not an MLD message"},
  /* IGMP's types mean nothing here */
  {"11 64 0000 00000000", MCP_IGMP_ERROR_UNKNOWN_TYPE,
      "ICMPv6 type 17 is not an MLD message"},
  {"83 00 0000 0000 0000 ff3e00000000000000000000000012",
        MCP_IGMP_ERROR_INVALID,
      "MLD message too short: 23 bytes, at least 24"},
  {"8f 00 0000 0000 00", MCP_IGMP_ERROR_INVALID,
      "MLD message too short: 7 bytes, at least 8"},
  {"82 00 0000 2710 0000 " ZERO6 " 027d", MCP_IGMP_ERROR_INVALID,
      "MLD query of 26 bytes: 24 for MLDv1, at least 28 for MLDv2"},
  {"82 00 0000 2710 0000 " G6 " 027d 0002 " S6, MCP_IGMP_ERROR_INVALID,
      "MLDv2 query of 44 bytes too short for its 2 sources"},
  {"82 00 0000 2710 0000 " ZERO6 " 027d 0001 " S6, MCP_IGMP_ERROR_INVALID,
      "MLDv2 query with sources but no group"},
  {"82 00 0000 2710 0000 " S6 " 027d 0000", MCP_IGMP_ERROR_INVALID,
      "MLDv2 message for 2001:db8::1: not a multicast group"},
  {"82 00 0000 2710 0000 " G6 " 027d 0001 " G6, MCP_IGMP_ERROR_INVALID,
      "MLDv2 message with source ff3e::1: a multicast address"},
  {"82 00 0000 2710 0000 " S6, MCP_IGMP_ERROR_INVALID,
      "MLDv1 message for 2001:db8::1: not a multicast group"},
  {"83 00 0000 0000 0000 " S6, MCP_IGMP_ERROR_INVALID,
      "MLDv1 message for 2001:db8::1: not a multicast group"},
  {"84 00 0000 0000 0000 " ZERO6, MCP_IGMP_ERROR_INVALID,
      "MLDv1 message for ::: not a multicast group"},
  {"8f 00 0000 0000 0002 04000000 " G6, MCP_IGMP_ERROR_INVALID,
      "MLDv2 report of 28 bytes too short for its 2 records"},
  {"8f 00 0000 0000 0001 01000001 " G6, MCP_IGMP_ERROR_INVALID,
      "MLDv2 report record 1 of 1 beyond the message's 28 bytes"},
  {"8f 00 0000 0000 0001 01020000 " G6 " 00000000", MCP_IGMP_ERROR_INVALID,
      "MLDv2 report record 1 of 1 beyond the message's 32 bytes"},
  {"8f 00 0000 0000 0001 04000000 " S6, MCP_IGMP_ERROR_INVALID,
      "MLDv2 message for 2001:db8::1: not a multicast group"},
  {"8f 00 0000 0000 0001 01000001 " G6 " " G6, MCP_IGMP_ERROR_INVALID,
      "MLDv2 message with source ff3e::1: a multicast address"},
};

static void
test_mld_errors (void)
{
  GByteArray *b;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (mld_errors); i++) {
    b = from_hex (mld_errors[i].hex);
    assert_error (V6, b->data, b->len, mld_errors[i].code,
        mld_errors[i].message);
    g_byte_array_unref (b);
  }

  b = from_hex (MLD_V1_REPORT);
  g_byte_array_set_size (b, MCP_IGMP_MAX_MESSAGE + 1);
  assert_error (V6, b->data, b->len, MCP_IGMP_ERROR_INVALID,
      "MLD message too long: 65536 bytes, at most 65535");
  g_byte_array_unref (b);
}

/* ---- the exponential codes ---------------------------------------------- */

static void
test_code8 (void)
{
  guint code, value, prev = 0;

  /* RFC 3376 4.1.1's bounds */
  g_assert_cmpuint (mcp_igmp_code8_decode (0x7f), ==, 127);
  g_assert_cmpuint (mcp_igmp_code8_decode (0x80), ==, 128);
  g_assert_cmpuint (mcp_igmp_code8_decode (0xff), ==, MCP_IGMP_CODE8_MAX);
  g_assert_cmpuint (mcp_igmp_code8_decode (0x8a), ==, 208);

  /* every code decodes to a value that encodes to it, in order */
  for (code = 0; code <= 0xff; code++) {
    value = mcp_igmp_code8_decode (code);
    g_assert_cmpuint (mcp_igmp_code8_encode (value), ==, code);
    if (code > 0)
      g_assert_cmpuint (value, >, prev);
    prev = value;
  }
  /* every value encodes to the largest code not above it */
  for (value = 0; value <= MCP_IGMP_CODE8_MAX + 1000; value++) {
    code = mcp_igmp_code8_encode (value);
    if (value > MCP_IGMP_CODE8_MAX) {
      g_assert_cmpuint (code, ==, 0xff);
      continue;
    }
    g_assert_cmpuint (mcp_igmp_code8_decode (code), <=, value);
    if (code < 0xff)
      g_assert_cmpuint (mcp_igmp_code8_decode (code + 1), >, value);
  }
  g_assert_cmpuint (mcp_igmp_code8_encode (G_MAXUINT), ==, 0xff);
}

static void
test_code16 (void)
{
  guint code, value, prev = 0;

  /* RFC 3810 5.1.3's bounds */
  g_assert_cmpuint (mcp_igmp_code16_decode (0x7fff), ==, 32767);
  g_assert_cmpuint (mcp_igmp_code16_decode (0x8000), ==, 32768);
  g_assert_cmpuint (mcp_igmp_code16_decode (0xffff), ==, MCP_IGMP_CODE16_MAX);
  g_assert_cmpuint (mcp_igmp_code16_decode (0x8400), ==, 40960);

  for (code = 0; code <= 0xffff; code++) {
    value = mcp_igmp_code16_decode (code);
    g_assert_cmpuint (mcp_igmp_code16_encode (value), ==, code);
    if (code > 0)
      g_assert_cmpuint (value, >, prev);
    prev = value;
  }
  for (value = 0; value <= MCP_IGMP_CODE16_MAX + 1000; value++) {
    code = mcp_igmp_code16_encode (value);
    if (value > MCP_IGMP_CODE16_MAX) {
      g_assert_cmpuint (code, ==, 0xffff);
      continue;
    }
    /* by hand: g_assert_cmpuint costs too much over 8 million values */
    if (mcp_igmp_code16_decode (code) > value ||
        (code < 0xffff && mcp_igmp_code16_decode (code + 1) <= value))
      g_error ("value %u encodes to 0x%04x", value, code);
  }
  g_assert_cmpuint (mcp_igmp_code16_encode (G_MAXUINT), ==, 0xffff);
}

/* ---- building queries --------------------------------------------------- */

static GBytes *
build_ok (const McpIgmpMessage * query)
{
  GError *err = NULL;
  GBytes *bytes = mcp_igmp_build_query (query, &err);

  g_assert_no_error (err);
  g_assert_nonnull (bytes);
  return bytes;
}

static void
assert_bytes (GBytes * bytes, const guint8 * expected, gsize len)
{
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
      expected, len);
}

static void
assert_bytes_hex (GBytes * bytes, const gchar * hex)
{
  GByteArray *b = from_hex (hex);

  assert_bytes (bytes, b->data, b->len);
  g_byte_array_unref (b);
}

static void
add_source (McpIgmpMessage * query, const gchar * text)
{
  GInetAddress *addr = g_inet_address_new_from_string (text);

  g_assert_nonnull (addr);
  g_ptr_array_add (query->sources, addr);
}

static McpIgmpMessage *
query_new (GSocketFamily family, guint version, const gchar * group)
{
  GInetAddress *addr = group ? g_inet_address_new_from_string (group) : NULL;
  McpIgmpMessage *query = mcp_igmp_query_new (family, version, addr);

  g_clear_object (&addr);
  return query;
}

/* query built and parsed again is the same query, as *out_bytes. */
static void
assert_round_trip (const McpIgmpMessage * query, guint max_resp_ms,
    guint qrv, guint qqi, GBytes ** out_bytes)
{
  GBytes *bytes = build_ok (query);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  McpIgmpMessage *msg = parse_ok (query->family, data, len);
  guint i;

  g_assert_cmpint (msg->kind, ==, MCP_IGMP_QUERY);
  g_assert_cmpuint (msg->version, ==, query->version);
  if (query->group)
    g_assert_true (g_inet_address_equal (msg->group, query->group));
  else
    g_assert_null (msg->group);
  g_assert_cmpuint (msg->max_resp_ms, ==, max_resp_ms);
  g_assert_cmpint (msg->s_flag, ==, query->s_flag);
  g_assert_cmpuint (msg->qrv, ==, qrv);
  g_assert_cmpuint (msg->qqi, ==, qqi);
  g_assert_cmpuint (msg->sources->len, ==, query->sources->len);
  for (i = 0; i < msg->sources->len; i++)
    g_assert_true (g_inet_address_equal (g_ptr_array_index (msg->sources, i),
            g_ptr_array_index (query->sources, i)));
  g_assert_cmpuint (msg->records->len, ==, 0);
  mcp_igmp_message_free (msg);
  if (out_bytes)
    *out_bytes = bytes;
  else
    g_bytes_unref (bytes);
}

static void
test_build_igmp (void)
{
  McpIgmpMessage *q;
  GBytes *bytes;
  guint code;

  /* the defaults make RFC 3376 8's queries */
  q = query_new (V4, 2, NULL);
  assert_round_trip (q, 10000, 0, 0, &bytes);
  assert_bytes (bytes, igmp_v2_general_query, 8);
  g_bytes_unref (bytes);
  mcp_igmp_message_free (q);

  q = query_new (V4, 2, "239.1.2.3");
  assert_round_trip (q, 1000, 0, 0, &bytes);
  assert_bytes (bytes, igmp_v2_group_query, 8);
  g_bytes_unref (bytes);
  /* every code IGMPv2 has, rounded down to tenths of a second */
  for (code = 1; code <= 0xff; code++) {
    q->max_resp_ms = code * 100 + 99;
    assert_round_trip (q, code * 100, 0, 0, NULL);
  }
  mcp_igmp_message_free (q);

  q = query_new (V4, 3, NULL);
  g_assert_cmpuint (q->qrv, ==, 2);
  g_assert_cmpuint (q->qqi, ==, 125);
  assert_round_trip (q, 10000, 2, 125, &bytes);
  assert_bytes (bytes, igmp_v3_general_query, 12);
  g_bytes_unref (bytes);
  mcp_igmp_message_free (q);

  q = query_new (V4, 3, "232.1.1.1");
  q->max_resp_ms = 20800;
  q->s_flag = TRUE;
  q->qqi = 224;
  add_source (q, "10.0.0.1");
  add_source (q, "10.0.0.2");
  assert_round_trip (q, 20800, 2, 224, &bytes);
  assert_bytes (bytes, igmp_v3_source_query, sizeof (igmp_v3_source_query));
  g_bytes_unref (bytes);

  /* every code, for both fields; a robustness above 7 goes as 0 */
  q->qrv = 7;
  for (code = 0; code <= 0xff; code++) {
    q->max_resp_ms = mcp_igmp_code8_decode (code) * 100;
    q->qqi = mcp_igmp_code8_decode (0xff - code);
    assert_round_trip (q, q->max_resp_ms, 7, q->qqi, &bytes);
    g_assert_cmphex (((const guint8 *) g_bytes_get_data (bytes, NULL))[1],
        ==, code);
    g_assert_cmphex (((const guint8 *) g_bytes_get_data (bytes, NULL))[9],
        ==, 0xff - code);
    g_bytes_unref (bytes);
  }
  q->qrv = 8;
  q->max_resp_ms = 13599;
  q->qqi = 131;
  assert_round_trip (q, 12800, 0, 128, NULL);
  mcp_igmp_message_free (q);
}

static void
test_build_mld (void)
{
  McpIgmpMessage *q;
  GBytes *bytes;
  guint code;

  q = query_new (V6, 1, NULL);
  g_assert_cmpuint (q->qrv, ==, 0);
  assert_round_trip (q, 10000, 0, 0, &bytes);
  assert_bytes_hex (bytes, MLD_V1_GENERAL_QUERY);
  g_bytes_unref (bytes);
  mcp_igmp_message_free (q);

  q = query_new (V6, 1, "ff3e::1234");
  q->max_resp_ms = 65535;
  assert_round_trip (q, 65535, 0, 0, &bytes);
  assert_bytes_hex (bytes,
      "82 00 0000 ffff 0000 ff3e0000000000000000000000001234");
  g_bytes_unref (bytes);
  mcp_igmp_message_free (q);

  q = query_new (V6, 2, "ff3e::8000:1");
  q->max_resp_ms = 40960;
  q->s_flag = TRUE;
  add_source (q, "2001:db8::1");
  add_source (q, "2001:db8::2");
  assert_round_trip (q, 40960, 2, 125, &bytes);
  /* as MLD_V2_SOURCE_QUERY, with the checksum left to the kernel */
  assert_bytes_hex (bytes, "82 00 0000 8400 0000 "
      "ff3e0000000000000000000080000001 0a 7d 0002"
      " 20010db8000000000000000000000001 20010db8000000000000000000000002");
  g_bytes_unref (bytes);

  for (code = 0; code <= 0xffff; code++) {
    q->max_resp_ms = mcp_igmp_code16_decode (code);
    assert_round_trip (q, q->max_resp_ms, 2, 125, &bytes);
    g_assert_cmphex (((const guint8 *) g_bytes_get_data (bytes, NULL))[4] << 8
        | ((const guint8 *) g_bytes_get_data (bytes, NULL))[5], ==, code);
    g_bytes_unref (bytes);
  }
  /* rounded down to what the code can say */
  q->max_resp_ms = 40967;
  assert_round_trip (q, 40960, 2, 125, NULL);
  mcp_igmp_message_free (q);

  q = query_new (V6, 2, NULL);
  assert_round_trip (q, 10000, 2, 125, &bytes);
  assert_bytes_hex (bytes, "82 00 0000 2710 0000 " ZERO6 " 02 7d 0000");
  g_bytes_unref (bytes);
  mcp_igmp_message_free (q);
}

static void
assert_build_error (McpIgmpMessage * q, const gchar * message)
{
  GError *err = NULL;

  g_assert_null (mcp_igmp_build_query (q, &err));
  g_assert_error (err, MCP_IGMP_ERROR, MCP_IGMP_ERROR_INVALID);
  g_assert_cmpstr (err->message, ==, message);
  g_error_free (err);
  mcp_igmp_message_free (q);
}

static void
test_build_errors (void)
{
  McpIgmpMessage *q;
  guint i;

  assert_build_error (query_new (V4, 1, NULL),
      "IGMPv1 queries are not built: version 2 or 3");
  assert_build_error (query_new (V6, 3, NULL),
      "MLD queries are not built: version 1 or 2");
  assert_build_error (query_new (V4, 2, "10.0.0.1"),
      "IGMPv2 query for 10.0.0.1: not a multicast group");
  assert_build_error (query_new (V4, 3, "ff3e::1"),
      "IGMPv3 query with group ff3e::1: another address family");
  assert_build_error (query_new (V6, 2, "2001:db8::1"),
      "MLDv2 query for 2001:db8::1: not a multicast group");

  q = query_new (V4, 2, "232.1.1.1");
  add_source (q, "10.0.0.1");
  assert_build_error (q, "IGMPv2 queries have no sources");
  q = query_new (V6, 1, "ff3e::1");
  add_source (q, "2001:db8::1");
  assert_build_error (q, "MLDv1 queries have no sources");
  q = query_new (V4, 3, NULL);
  add_source (q, "10.0.0.1");
  assert_build_error (q, "IGMPv3 query with sources but no group");
  q = query_new (V4, 3, "232.1.1.1");
  add_source (q, "10.0.0.1");
  add_source (q, "232.0.0.1");
  assert_build_error (q, "IGMPv3 query with source 232.0.0.1: a multicast "
      "address");
  q = query_new (V6, 2, "ff3e::1");
  add_source (q, "10.0.0.1");
  assert_build_error (q, "MLDv2 query with source 10.0.0.1: another address "
      "family");
  q = query_new (V6, 2, "ff3e::1");
  for (i = 0; i < 4095; i++)
    add_source (q, "2001:db8::1");
  assert_build_error (q, "MLDv2 query with 4095 sources: at most 4094 fit");

  q = query_new (V4, 2, NULL);
  q->max_resp_ms = 99;
  assert_build_error (q, "IGMPv2 max response time 99 ms: 100 ms to 25.5 s");
  q = query_new (V4, 2, NULL);
  q->max_resp_ms = 25600;
  assert_build_error (q, "IGMPv2 max response time 25600 ms: 100 ms to "
      "25.5 s");
  q = query_new (V4, 3, NULL);
  q->max_resp_ms = 3174500;
  assert_build_error (q, "IGMPv3 max response time 3174500 ms: at most "
      "3174400");
  q = query_new (V6, 1, NULL);
  q->max_resp_ms = 65536;
  assert_build_error (q, "MLDv1 max response time 65536 ms: at most 65535");
  q = query_new (V6, 2, NULL);
  q->max_resp_ms = MCP_IGMP_CODE16_MAX + 1;
  assert_build_error (q, "MLDv2 max response time 8387585 ms: at most "
      "8387584");
  q = query_new (V4, 3, NULL);
  q->qqi = 31745;
  assert_build_error (q, "IGMPv3 query interval 31745 s: at most 31744");
}

/* The most sources that fit, and their count where the parser reads it. */
static void
test_build_many_sources (void)
{
  McpIgmpMessage *q = query_new (V4, 3, "232.1.1.1");
  guint n = (MCP_IGMP_MAX_MESSAGE - 12) / 4, i;
  GBytes *bytes;

  for (i = 0; i < n; i++) {
    gchar *text = g_strdup_printf ("10.%u.%u.%u", i >> 16, (i >> 8) & 0xff,
        i & 0xff);

    add_source (q, text);
    g_free (text);
  }
  assert_round_trip (q, 1000, 2, 125, &bytes);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 12 + 4 * n);
  g_bytes_unref (bytes);
  add_source (q, "10.0.0.1");
  assert_build_error (q, "IGMPv3 query with 16381 sources: at most 16380 fit");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/igmp/checksum", test_checksum);
  g_test_add_func ("/igmp/queries", test_igmp_queries);
  g_test_add_func ("/igmp/query-extras", test_igmp_query_extras);
  g_test_add_func ("/igmp/old-reports", test_igmp_old_reports);
  g_test_add_func ("/igmp/v3-report", test_igmp_v3_report);
  g_test_add_func ("/igmp/record-types", test_igmp_record_types);
  g_test_add_func ("/igmp/errors", test_igmp_errors);
  g_test_add_func ("/igmp/many-sources", test_igmp_many_sources);
  g_test_add_func ("/mld/queries", test_mld_queries);
  g_test_add_func ("/mld/reports", test_mld_reports);
  g_test_add_func ("/mld/errors", test_mld_errors);
  g_test_add_func ("/igmp/code8", test_code8);
  g_test_add_func ("/igmp/code16", test_code16);
  g_test_add_func ("/igmp/build-igmp", test_build_igmp);
  g_test_add_func ("/igmp/build-mld", test_build_mld);
  g_test_add_func ("/igmp/build-errors", test_build_errors);
  g_test_add_func ("/igmp/build-many-sources", test_build_many_sources);

  return g_test_run ();
}
