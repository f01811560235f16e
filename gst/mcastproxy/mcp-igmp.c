/* mcastproxy — IGMP and MLD messages: parsing and building queries. */
#include "config.h"

#include "mcp-igmp.h"
#include "mcp-bytes.h"

#include <string.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (mcp-igmp-error-quark, mcp_igmp_error);
/* *INDENT-ON* */

#define IGMP_QUERY 0x11
#define IGMP_V1_REPORT 0x12
#define IGMP_V2_REPORT 0x16
#define IGMP_V2_LEAVE 0x17
#define IGMP_V3_REPORT 0x22

#define MLD_QUERY 130
#define MLD_V1_REPORT 131
#define MLD_V1_DONE 132
#define MLD_V2_REPORT 143

/* type, code, checksum, group: IGMPv1/v2, and the start of IGMPv3 */
#define IGMP_LEN 8
#define IGMP_V3_QUERY_LEN 12
/* type, code, checksum, max response, reserved, group */
#define MLD_LEN 24
#define MLD_V2_QUERY_LEN 28
/* IGMPv3 and MLDv2 reports: type, reserved, checksum, reserved, count */
#define REPORT_HEADER_LEN 8
/* record type, aux data length, number of sources, then the group */
#define RECORD_HEADER_LEN 4

/* RFC 2236 4: an IGMPv1 querier's code 0 means 10 s */
#define IGMP_V1_MAX_RESP_MS 10000

/* The defaults of RFC 3376 8 and RFC 3810 9. */
#define DEFAULT_QUERY_RESPONSE_MS 10000
#define DEFAULT_LAST_MEMBER_MS 1000
#define DEFAULT_QRV 2
#define DEFAULT_QQI 125

/* *INDENT-OFF* */
static gpointer igmp_error (GError ** error, gint code,
    const gchar * format, ...) G_GNUC_PRINTF (3, 4);
/* *INDENT-ON* */

/* Sets error and returns NULL, so that parsers can return it. */
static gpointer
igmp_error (GError ** error, gint code, const gchar * format, ...)
{
  va_list args;
  gchar *msg;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, MCP_IGMP_ERROR, code, msg);
  g_free (msg);
  return NULL;
}

static gsize
address_len (GSocketFamily family)
{
  return family == G_SOCKET_FAMILY_IPV4 ? 4 : 16;
}

/* "IGMPv3", "MLDv1": error messages name the message they are about. */
static const gchar *
protocol_name (GSocketFamily family, guint version)
{
  static const gchar *const igmp[] = { "IGMP", "IGMPv1", "IGMPv2", "IGMPv3" };
  static const gchar *const mld[] = { "MLD", "MLDv1", "MLDv2" };

  if (family == G_SOCKET_FAMILY_IPV4)
    return version < G_N_ELEMENTS (igmp) ? igmp[version] : "IGMP";
  return version < G_N_ELEMENTS (mld) ? mld[version] : "MLD";
}

guint16
mcp_igmp_checksum (const guint8 * data, gsize len)
{
  guint64 sum = 0;
  gsize i;

  g_return_val_if_fail (data != NULL || len == 0, 0);

  /* a 64-bit sum cannot overflow for any length we could be given */
  for (i = 0; i + 1 < len; i += 2)
    sum += mcp_get_u16 (data + i);
  if (len & 1)
    sum += data[len - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

guint
mcp_igmp_code8_decode (guint8 code)
{
  if (code < 0x80)
    return code;
  return ((code & 0x0f) | 0x10) << (((code >> 4) & 0x07) + 3);
}

guint8
mcp_igmp_code8_encode (guint value)
{
  guint mant = value >> 3, exp = 0;

  if (value < 0x80)
    return value;
  if (value > MCP_IGMP_CODE8_MAX)
    return 0xff;
  /* the mantissa's top bit is implied: shift until only it is left above
   * the four stored bits, dropping the low bits (rounding down) */
  while (mant > 0x1f) {
    mant >>= 1;
    exp++;
  }
  return 0x80 | (exp << 4) | (mant & 0x0f);
}

guint
mcp_igmp_code16_decode (guint16 code)
{
  if (code < 0x8000)
    return code;
  return ((code & 0x0fff) | 0x1000) << (((code >> 12) & 0x07) + 3);
}

guint16
mcp_igmp_code16_encode (guint value)
{
  guint mant = value >> 3, exp = 0;

  if (value < 0x8000)
    return value;
  if (value > MCP_IGMP_CODE16_MAX)
    return 0xffff;
  while (mant > 0x1fff) {
    mant >>= 1;
    exp++;
  }
  return 0x8000 | (exp << 12) | (mant & 0x0fff);
}

const gchar *
mcp_igmp_record_type_name (McpIgmpRecordType type)
{
  switch (type) {
    case MCP_IGMP_MODE_IS_INCLUDE:
      return "MODE_IS_INCLUDE";
    case MCP_IGMP_MODE_IS_EXCLUDE:
      return "MODE_IS_EXCLUDE";
    case MCP_IGMP_CHANGE_TO_INCLUDE:
      return "CHANGE_TO_INCLUDE";
    case MCP_IGMP_CHANGE_TO_EXCLUDE:
      return "CHANGE_TO_EXCLUDE";
    case MCP_IGMP_ALLOW_NEW_SOURCES:
      return "ALLOW_NEW_SOURCES";
    case MCP_IGMP_BLOCK_OLD_SOURCES:
      return "BLOCK_OLD_SOURCES";
    default:
      return "unknown";
  }
}

/* ---- the model ------------------------------------------------------- */

static void
record_clear (gpointer data)
{
  McpIgmpRecord *rec = data;

  g_clear_object (&rec->group);
  g_clear_pointer (&rec->sources, g_ptr_array_unref);
}

static McpIgmpMessage *
message_new (GSocketFamily family, McpIgmpKind kind, guint version)
{
  McpIgmpMessage *msg = g_new0 (McpIgmpMessage, 1);

  msg->family = family;
  msg->kind = kind;
  msg->version = version;
  msg->sources = g_ptr_array_new_with_free_func (g_object_unref);
  msg->records = g_array_new (FALSE, TRUE, sizeof (McpIgmpRecord));
  g_array_set_clear_func (msg->records, record_clear);
  return msg;
}

void
mcp_igmp_message_free (McpIgmpMessage * msg)
{
  if (msg == NULL)
    return;
  g_clear_object (&msg->group);
  g_ptr_array_unref (msg->sources);
  g_array_unref (msg->records);
  g_free (msg);
}

static McpIgmpRecord *
add_record (McpIgmpMessage * msg, McpIgmpRecordType type, GInetAddress * group)
{
  McpIgmpRecord rec = { 0, };

  rec.type = type;
  rec.group = group;
  rec.sources = g_ptr_array_new_with_free_func (g_object_unref);
  g_array_append_val (msg->records, rec);
  return &g_array_index (msg->records, McpIgmpRecord, msg->records->len - 1);
}

static gboolean
is_zero (const guint8 * p, gsize len)
{
  gsize i;

  for (i = 0; i < len; i++)
    if (p[i] != 0)
      return FALSE;
  return TRUE;
}

/* The group at p into *group: NULL when general is allowed and the field
 * is all zero (a general query), else a multicast address. FALSE with
 * error when it is not multicast. */
static gboolean
read_group (const guint8 * p, GSocketFamily family, guint version,
    gboolean general, GInetAddress ** group, GError ** error)
{
  GInetAddress *addr;
  gchar *text;

  *group = NULL;
  if (general && is_zero (p, address_len (family)))
    return TRUE;
  addr = g_inet_address_new_from_bytes (p, family);
  if (g_inet_address_get_is_multicast (addr)) {
    *group = addr;
    return TRUE;
  }
  text = g_inet_address_to_string (addr);
  igmp_error (error, MCP_IGMP_ERROR_INVALID,
      "%s message for %s: not a multicast group",
      protocol_name (family, version), text);
  g_free (text);
  g_object_unref (addr);
  return FALSE;
}

/* n sources at p, known to lie within the message, appended to out. A
 * multicast source cannot send, and would make a caller's join fail. */
static gboolean
read_sources (const guint8 * p, guint n, GSocketFamily family,
    guint version, GPtrArray * out, GError ** error)
{
  gsize alen = address_len (family);
  guint i;

  for (i = 0; i < n; i++) {
    GInetAddress *addr = g_inet_address_new_from_bytes (p + i * alen, family);

    if (g_inet_address_get_is_multicast (addr)) {
      gchar *text = g_inet_address_to_string (addr);

      igmp_error (error, MCP_IGMP_ERROR_INVALID,
          "%s message with source %s: a multicast address",
          protocol_name (family, version), text);
      g_free (text);
      g_object_unref (addr);
      return FALSE;
    }
    g_ptr_array_add (out, addr);
  }
  return TRUE;
}

/* An IGMPv1/v2 report or leave, an MLDv1 report or done, as the one record
 * an IGMPv3 or MLDv2 report would hold for it. */
static McpIgmpMessage *
parse_old_report (const guint8 * group_field, GSocketFamily family,
    McpIgmpKind kind, guint version, GError ** error)
{
  McpIgmpMessage *msg;
  GInetAddress *group;

  if (!read_group (group_field, family, version, FALSE, &group, error))
    return NULL;
  msg = message_new (family, kind, version);
  add_record (msg, kind == MCP_IGMP_LEAVE ? MCP_IGMP_CHANGE_TO_INCLUDE :
      MCP_IGMP_MODE_IS_EXCLUDE, group);
  return msg;
}

/* An IGMPv1/v2 or MLDv1 query: the group only (group_field NULL: none). */
static McpIgmpMessage *
parse_old_query (const guint8 * group_field, GSocketFamily family,
    guint version, guint max_resp_ms, GError ** error)
{
  McpIgmpMessage *msg;
  GInetAddress *group = NULL;

  if (group_field &&
      !read_group (group_field, family, version, TRUE, &group, error))
    return NULL;
  msg = message_new (family, MCP_IGMP_QUERY, version);
  msg->group = group;
  msg->max_resp_ms = max_resp_ms;
  return msg;
}

/* The part IGMPv3 and MLDv2 queries share: the group at data[group_off],
 * then S and QRV, QQIC, the number of sources and the sources. */
static McpIgmpMessage *
parse_new_query (const guint8 * data, gsize len, gsize group_off,
    GSocketFamily family, guint version, guint max_resp_ms, GError ** error)
{
  gsize alen = address_len (family), off = group_off + alen;
  McpIgmpMessage *msg;
  GInetAddress *group;
  guint n;

  n = mcp_get_u16 (data + off + 2);
  if (n > (len - off - 4) / alen)
    return igmp_error (error, MCP_IGMP_ERROR_INVALID,
        "%s query of %" G_GSIZE_FORMAT " bytes too short for its %u sources",
        protocol_name (family, version), len, n);
  if (!read_group (data + group_off, family, version, TRUE, &group, error))
    return NULL;
  /* RFC 3376 4.1.9, RFC 3810 5.1.10: a general query names no source */
  if (group == NULL && n > 0)
    return igmp_error (error, MCP_IGMP_ERROR_INVALID,
        "%s query with sources but no group", protocol_name (family, version));

  msg = message_new (family, MCP_IGMP_QUERY, version);
  msg->group = group;
  msg->max_resp_ms = max_resp_ms;
  msg->s_flag = (data[off] & 0x08) != 0;
  msg->qrv = data[off] & 0x07;
  msg->qqi = mcp_igmp_code8_decode (data[off + 1]);
  if (!read_sources (data + off + 4, n, family, version, msg->sources, error)) {
    mcp_igmp_message_free (msg);
    return NULL;
  }
  return msg;
}

/* The report IGMPv3 and MLDv2 share, but for the address length. */
static McpIgmpMessage *
parse_new_report (const guint8 * data, gsize len, GSocketFamily family,
    guint version, GError ** error)
{
  gsize alen = address_len (family), off = REPORT_HEADER_LEN;
  const gchar *name = protocol_name (family, version);
  guint n_records = mcp_get_u16 (data + 6), i;
  McpIgmpMessage *msg;

  /* checked before any allocation: a record is at least this long */
  if (n_records > (len - off) / (RECORD_HEADER_LEN + alen))
    return igmp_error (error, MCP_IGMP_ERROR_INVALID,
        "%s report of %" G_GSIZE_FORMAT " bytes too short for its %u records",
        name, len, n_records);

  msg = message_new (family, MCP_IGMP_REPORT, version);
  for (i = 0; i < n_records; i++) {
    guint type, n_sources;
    gsize aux, size;
    GInetAddress *group;
    McpIgmpRecord *rec;

    if (len - off < RECORD_HEADER_LEN + alen)
      goto beyond;
    type = data[off];
    aux = data[off + 1] * 4;
    n_sources = mcp_get_u16 (data + off + 2);
    size = RECORD_HEADER_LEN + alen + n_sources * alen + aux;
    if (size > len - off)
      goto beyond;

    if (type < MCP_IGMP_MODE_IS_INCLUDE || type > MCP_IGMP_BLOCK_OLD_SOURCES) {
      off += size;
      continue;
    }
    if (!read_group (data + off + RECORD_HEADER_LEN, family, version, FALSE,
            &group, error))
      goto fail;
    rec = add_record (msg, type, group);
    if (!read_sources (data + off + RECORD_HEADER_LEN + alen, n_sources,
            family, version, rec->sources, error))
      goto fail;
    off += size;
  }
  return msg;

beyond:
  igmp_error (error, MCP_IGMP_ERROR_INVALID,
      "%s report record %u of %u beyond the message's %" G_GSIZE_FORMAT
      " bytes", name, i + 1, n_records, len);
fail:
  mcp_igmp_message_free (msg);
  return NULL;
}

static gboolean
check_length (gsize len, gsize min, const gchar * name, GError ** error)
{
  if (len < min) {
    igmp_error (error, MCP_IGMP_ERROR_INVALID,
        "%s message too short: %" G_GSIZE_FORMAT " bytes, at least %"
        G_GSIZE_FORMAT, name, len, min);
    return FALSE;
  }
  if (len > MCP_IGMP_MAX_MESSAGE) {
    igmp_error (error, MCP_IGMP_ERROR_INVALID,
        "%s message too long: %" G_GSIZE_FORMAT " bytes, at most %u",
        name, len, MCP_IGMP_MAX_MESSAGE);
    return FALSE;
  }
  return TRUE;
}

McpIgmpMessage *
mcp_igmp_parse (const guint8 * data, gsize len, GError ** error)
{
  const GSocketFamily v4 = G_SOCKET_FAMILY_IPV4;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len == 0)
    return igmp_error (error, MCP_IGMP_ERROR_INVALID, "empty IGMP message");
  /* the type first: what is not ours is ignored, not reported as broken */
  switch (data[0]) {
    case IGMP_QUERY:
    case IGMP_V1_REPORT:
    case IGMP_V2_REPORT:
    case IGMP_V2_LEAVE:
    case IGMP_V3_REPORT:
      break;
    default:
      return igmp_error (error, MCP_IGMP_ERROR_UNKNOWN_TYPE,
          "IGMP type 0x%02x is not a membership message", data[0]);
  }
  if (!check_length (len, IGMP_LEN, "IGMP", error))
    return NULL;
  /* over the whole message, octets beyond the fields included */
  if (mcp_igmp_checksum (data, len) != 0)
    return igmp_error (error, MCP_IGMP_ERROR_INVALID,
        "IGMP checksum 0x%04x wrong", mcp_get_u16 (data + 2));

  switch (data[0]) {
    case IGMP_QUERY:
      if (len >= IGMP_V3_QUERY_LEN)
        return parse_new_query (data, len, 4, v4, 3,
            mcp_igmp_code8_decode (data[1]) * 100, error);
      if (len != IGMP_LEN)
        return igmp_error (error, MCP_IGMP_ERROR_INVALID,
            "IGMP query of %" G_GSIZE_FORMAT " bytes: 8 for version 1 or 2, "
            "at least 12 for version 3", len);
      /* RFC 1112: an IGMPv1 query's group is zero when sent, ignored when
       * received */
      if (data[1] == 0)
        return parse_old_query (NULL, v4, 1, IGMP_V1_MAX_RESP_MS, error);
      return parse_old_query (data + 4, v4, 2, data[1] * 100, error);
    case IGMP_V1_REPORT:
      return parse_old_report (data + 4, v4, MCP_IGMP_REPORT, 1, error);
    case IGMP_V2_REPORT:
      return parse_old_report (data + 4, v4, MCP_IGMP_REPORT, 2, error);
    case IGMP_V2_LEAVE:
      return parse_old_report (data + 4, v4, MCP_IGMP_LEAVE, 2, error);
    default:
      return parse_new_report (data, len, v4, 3, error);
  }
}

McpIgmpMessage *
mcp_mld_parse (const guint8 * data, gsize len, GError ** error)
{
  const GSocketFamily v6 = G_SOCKET_FAMILY_IPV6;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len == 0)
    return igmp_error (error, MCP_IGMP_ERROR_INVALID, "empty MLD message");
  switch (data[0]) {
    case MLD_QUERY:
    case MLD_V1_REPORT:
    case MLD_V1_DONE:
      if (!check_length (len, MLD_LEN, "MLD", error))
        return NULL;
      break;
    case MLD_V2_REPORT:
      if (!check_length (len, REPORT_HEADER_LEN, "MLD", error))
        return NULL;
      break;
    default:
      return igmp_error (error, MCP_IGMP_ERROR_UNKNOWN_TYPE,
          "ICMPv6 type %u is not an MLD message", data[0]);
  }
  /* No checksum check: it covers the IPv6 pseudo-header, which we do not
   * see, and the kernel has verified it on the raw ICMPv6 socket. */

  switch (data[0]) {
    case MLD_QUERY:
      if (len >= MLD_V2_QUERY_LEN)
        return parse_new_query (data, len, 8, v6, 2,
            mcp_igmp_code16_decode (mcp_get_u16 (data + 4)), error);
      if (len != MLD_LEN)
        return igmp_error (error, MCP_IGMP_ERROR_INVALID,
            "MLD query of %" G_GSIZE_FORMAT " bytes: 24 for MLDv1, "
            "at least 28 for MLDv2", len);
      return parse_old_query (data + 8, v6, 1, mcp_get_u16 (data + 4), error);
    case MLD_V1_REPORT:
      return parse_old_report (data + 8, v6, MCP_IGMP_REPORT, 1, error);
    case MLD_V1_DONE:
      return parse_old_report (data + 8, v6, MCP_IGMP_LEAVE, 1, error);
    default:
      return parse_new_report (data, len, v6, 2, error);
  }
}

/* ---- queries --------------------------------------------------------- */

McpIgmpMessage *
mcp_igmp_query_new (GSocketFamily family, guint version, GInetAddress * group)
{
  McpIgmpMessage *msg;

  g_return_val_if_fail (family == G_SOCKET_FAMILY_IPV4 ||
      family == G_SOCKET_FAMILY_IPV6, NULL);
  g_return_val_if_fail (group == NULL || G_IS_INET_ADDRESS (group), NULL);

  msg = message_new (family, MCP_IGMP_QUERY, version);
  msg->group = group ? g_object_ref (group) : NULL;
  msg->max_resp_ms = group ? DEFAULT_LAST_MEMBER_MS : DEFAULT_QUERY_RESPONSE_MS;
  if ((family == G_SOCKET_FAMILY_IPV4 && version == 3) ||
      (family == G_SOCKET_FAMILY_IPV6 && version == 2)) {
    msg->qrv = DEFAULT_QRV;
    msg->qqi = DEFAULT_QQI;
  }
  return msg;
}

/* Whether addr is of family and, as a group, multicast, or as a source,
 * not. FALSE with error. */
static gboolean
check_address (GInetAddress * addr, GSocketFamily family, gboolean is_group,
    const gchar * name, const gchar * what, GError ** error)
{
  gchar *text;

  if (g_inet_address_get_family (addr) == family &&
      g_inet_address_get_is_multicast (addr) == is_group)
    return TRUE;
  text = g_inet_address_to_string (addr);
  if (g_inet_address_get_family (addr) != family)
    igmp_error (error, MCP_IGMP_ERROR_INVALID, "%s %s with %s %s: "
        "another address family", name, what, is_group ? "group" : "source",
        text);
  else if (is_group)
    igmp_error (error, MCP_IGMP_ERROR_INVALID,
        "%s %s for %s: not a multicast group", name, what, text);
  else
    igmp_error (error, MCP_IGMP_ERROR_INVALID,
        "%s %s with source %s: a multicast address", name, what, text);
  g_free (text);
  return FALSE;
}

GBytes *
mcp_igmp_build_query (const McpIgmpMessage * query, GError ** error)
{
  gboolean v4, extended;
  gsize alen, group_off, head, len;
  const gchar *name;
  guint max_code, i;
  guint8 *buf;

  g_return_val_if_fail (query != NULL, NULL);
  g_return_val_if_fail (query->kind == MCP_IGMP_QUERY, NULL);
  g_return_val_if_fail (query->family == G_SOCKET_FAMILY_IPV4 ||
      query->family == G_SOCKET_FAMILY_IPV6, NULL);
  g_return_val_if_fail (query->sources != NULL, NULL);

  v4 = query->family == G_SOCKET_FAMILY_IPV4;
  name = protocol_name (query->family, query->version);
  if (v4 ? query->version != 2 && query->version != 3 :
      query->version != 1 && query->version != 2)
    return igmp_error (error, MCP_IGMP_ERROR_INVALID,
        "%s queries are not built: %s", name,
        v4 ? "version 2 or 3" : "version 1 or 2");
  extended = query->version == (v4 ? 3 : 2);
  alen = address_len (query->family);
  group_off = v4 ? 4 : 8;
  head = extended ? group_off + alen + 4 : group_off + alen;

  if (query->group &&
      !check_address (query->group, query->family, TRUE, name, "query", error))
    return NULL;
  if (query->sources->len > 0) {
    if (!extended)
      return igmp_error (error, MCP_IGMP_ERROR_INVALID,
          "%s queries have no sources", name);
    if (query->group == NULL)
      return igmp_error (error, MCP_IGMP_ERROR_INVALID,
          "%s query with sources but no group", name);
    if (query->sources->len > (MCP_IGMP_MAX_MESSAGE - head) / alen)
      return igmp_error (error, MCP_IGMP_ERROR_INVALID,
          "%s query with %u sources: at most %" G_GSIZE_FORMAT " fit",
          name, query->sources->len, (MCP_IGMP_MAX_MESSAGE - head) / alen);
  }
  for (i = 0; i < query->sources->len; i++)
    if (!check_address (g_ptr_array_index (query->sources, i),
            query->family, FALSE, name, "query", error))
      return NULL;

  /* the max response code, and the largest time it can say */
  if (v4 && !extended) {
    max_code = query->max_resp_ms / 100;
    /* 0 would make it an IGMPv1 query */
    if (max_code == 0 || max_code > 0xff)
      return igmp_error (error, MCP_IGMP_ERROR_INVALID,
          "IGMPv2 max response time %u ms: 100 ms to 25.5 s",
          query->max_resp_ms);
  } else if (v4) {
    if (query->max_resp_ms / 100 > MCP_IGMP_CODE8_MAX)
      return igmp_error (error, MCP_IGMP_ERROR_INVALID,
          "IGMPv3 max response time %u ms: at most %u", query->max_resp_ms,
          MCP_IGMP_CODE8_MAX * 100);
    max_code = mcp_igmp_code8_encode (query->max_resp_ms / 100);
  } else if (!extended) {
    if (query->max_resp_ms > G_MAXUINT16)
      return igmp_error (error, MCP_IGMP_ERROR_INVALID,
          "MLDv1 max response time %u ms: at most %u", query->max_resp_ms,
          G_MAXUINT16);
    max_code = query->max_resp_ms;
  } else {
    if (query->max_resp_ms > MCP_IGMP_CODE16_MAX)
      return igmp_error (error, MCP_IGMP_ERROR_INVALID,
          "MLDv2 max response time %u ms: at most %u", query->max_resp_ms,
          MCP_IGMP_CODE16_MAX);
    max_code = mcp_igmp_code16_encode (query->max_resp_ms);
  }
  if (extended && query->qqi > MCP_IGMP_CODE8_MAX)
    return igmp_error (error, MCP_IGMP_ERROR_INVALID,
        "%s query interval %u s: at most %u", name, query->qqi,
        MCP_IGMP_CODE8_MAX);

  len = head + query->sources->len * alen;
  buf = g_malloc0 (len);
  buf[0] = v4 ? IGMP_QUERY : MLD_QUERY;
  if (v4)
    buf[1] = max_code;
  else
    mcp_put_u16 (buf + 4, max_code);
  if (query->group) {
    gconstpointer bytes = g_inet_address_to_bytes (query->group);

    memcpy (buf + group_off, bytes, alen);
  }
  if (extended) {
    gsize off = group_off + alen;

    /* RFC 3376 4.1.6: a robustness above 7 is sent as 0 */
    buf[off] = (query->s_flag ? 0x08 : 0) | (query->qrv <= 7 ? query->qrv : 0);
    buf[off + 1] = mcp_igmp_code8_encode (query->qqi);
    mcp_put_u16 (buf + off + 2, query->sources->len);
    for (i = 0; i < query->sources->len; i++)
      memcpy (buf + head + i * alen,
          g_inet_address_to_bytes (g_ptr_array_index (query->sources, i)),
          alen);
  }
  /* MLD's stays 0 for the kernel (IPV6_CHECKSUM) */
  if (v4)
    mcp_put_u16 (buf + 2, mcp_igmp_checksum (buf, len));
  return g_bytes_new_take (buf, len);
}

GBytes *
mcp_igmp_build_report (GSocketFamily family, const GArray * records,
    GError ** error)
{
  gboolean v4 = family == G_SOCKET_FAMILY_IPV4;
  const gchar *name = v4 ? "IGMPv3" : "MLDv2";
  gsize alen = v4 ? 4 : 16, len = REPORT_HEADER_LEN, off;
  guint i, j;
  guint8 *buf;

  g_return_val_if_fail (family == G_SOCKET_FAMILY_IPV4 ||
      family == G_SOCKET_FAMILY_IPV6, NULL);
  g_return_val_if_fail (records != NULL, NULL);

  if (records->len > G_MAXUINT16)
    return igmp_error (error, MCP_IGMP_ERROR_INVALID,
        "%s report with %u records: at most %u", name, records->len,
        G_MAXUINT16);
  for (i = 0; i < records->len; i++) {
    const McpIgmpRecord *r = &g_array_index (records, McpIgmpRecord, i);

    if (r->type < MCP_IGMP_MODE_IS_INCLUDE ||
        r->type > MCP_IGMP_BLOCK_OLD_SOURCES)
      return igmp_error (error, MCP_IGMP_ERROR_INVALID,
          "%s report with record type %d", name, (gint) r->type);
    if (!check_address (r->group, family, TRUE, name, "report", error))
      return NULL;
    if (r->sources->len > G_MAXUINT16)
      return igmp_error (error, MCP_IGMP_ERROR_INVALID,
          "%s report record with %u sources: at most %u", name,
          r->sources->len, G_MAXUINT16);
    for (j = 0; j < r->sources->len; j++)
      if (!check_address (g_ptr_array_index (r->sources, j), family, FALSE,
              name, "report", error))
        return NULL;
    len += RECORD_HEADER_LEN + alen + r->sources->len * alen;
    if (len > MCP_IGMP_MAX_MESSAGE)
      return igmp_error (error, MCP_IGMP_ERROR_INVALID,
          "%s report of more than %u bytes", name, MCP_IGMP_MAX_MESSAGE);
  }

  buf = g_malloc0 (len);
  buf[0] = v4 ? IGMP_V3_REPORT : MLD_V2_REPORT;
  mcp_put_u16 (buf + 6, records->len);
  off = REPORT_HEADER_LEN;
  for (i = 0; i < records->len; i++) {
    const McpIgmpRecord *r = &g_array_index (records, McpIgmpRecord, i);

    buf[off] = r->type;
    mcp_put_u16 (buf + off + 2, r->sources->len);
    memcpy (buf + off + RECORD_HEADER_LEN,
        g_inet_address_to_bytes (r->group), alen);
    off += RECORD_HEADER_LEN + alen;
    for (j = 0; j < r->sources->len; j++, off += alen)
      memcpy (buf + off,
          g_inet_address_to_bytes (g_ptr_array_index (r->sources, j)), alen);
  }
  /* MLD's needs the IPv6 pseudo-header: the caller's (or the kernel's) */
  if (v4)
    mcp_put_u16 (buf + 2, mcp_igmp_checksum (buf, len));
  return g_bytes_new_take (buf, len);
}
