/* mcastproxy — subscriptions: which groups a peer wants, and a scope. */
#include "mcp-subscription.h"

#include <string.h>
#include <gio/gio.h>

struct _McpSubSet
{
  GPtrArray *entries;           /* McpSubEntry*, canonical order, distinct */
};

/* *INDENT-OFF* */
G_DEFINE_QUARK (mcp-sub-error-quark, mcp_sub_error);
/* *INDENT-ON* */

static guint
addr_len (guint8 family)
{
  return family == 4 ? 4 : 16;
}

static guint
max_prefix (guint8 family)
{
  return family == 4 ? 32 : 128;
}

static void
entry_free (gpointer p)
{
  McpSubEntry *e = p;

  if (!e)
    return;
  g_free (e->sources);
  g_free (e);
}

static McpSubEntry *
entry_copy (const McpSubEntry * e)
{
  McpSubEntry *c = g_memdup2 (e, sizeof (*e));

  c->sources = e->n_sources ? g_memdup2 (e->sources, 16 * e->n_sources) : NULL;
  return c;
}

static gint
entry_compare (const McpSubEntry * a, const McpSubEntry * b)
{
  gint r;

  if (a->family != b->family)
    return a->family < b->family ? -1 : 1;
  if ((r = memcmp (a->group, b->group, 16)) != 0)
    return r;
  if (a->prefix_len != b->prefix_len)
    return a->prefix_len < b->prefix_len ? -1 : 1;
  if (a->port_lo != b->port_lo)
    return a->port_lo < b->port_lo ? -1 : 1;
  if (a->port_hi != b->port_hi)
    return a->port_hi < b->port_hi ? -1 : 1;
  if (a->mode != b->mode)
    return a->mode < b->mode ? -1 : 1;
  if (a->n_sources != b->n_sources)
    return a->n_sources < b->n_sources ? -1 : 1;
  return a->n_sources ? memcmp (a->sources, b->sources, 16 * a->n_sources) : 0;
}

static gint
source_compare (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, 16);
}

/* Whether addr (family's length) lies in prefix/len. */
static gboolean
prefix_holds (const guint8 * prefix, guint len, const guint8 * addr)
{
  guint bytes = len / 8, bits = len % 8;

  if (memcmp (prefix, addr, bytes) != 0)
    return FALSE;
  if (bits == 0)
    return TRUE;
  return ((prefix[bytes] ^ addr[bytes]) & (0xff << (8 - bits)) & 0xff) == 0;
}

static gboolean
is_multicast (guint8 family, const guint8 * a)
{
  return family == 4 ? (a[0] & 0xf0) == 0xe0 : a[0] == 0xff;
}

/* Checks e: NULL when it is valid (then its sources are sorted and
 * distinct), else why not. */
static const gchar *
entry_check (McpSubEntry * e)
{
  guint i, n;
  const gchar *why = NULL;

  if (e->family != 4 && e->family != 6)
    why = "the address family is neither 4 nor 6";
  else if (e->prefix_len > max_prefix (e->family))
    why = "the prefix is longer than an address";
  else if (e->mode > MCP_SUB_EXCLUDE)
    why = "unknown source filter mode";
  else if (e->port_lo == 0 || e->port_lo > e->port_hi)
    why = "the ports are not a range within 1-65535";
  else if (e->n_sources > MCP_SUB_MAX_SOURCES)
    why = "more than " G_STRINGIFY (MCP_SUB_MAX_SOURCES) " sources";
  else if (e->mode == MCP_SUB_ANY && e->n_sources)
    why = "sources given for any source";
  else if (e->mode != MCP_SUB_ANY && e->n_sources == 0)
    why = "a source filter without sources";
  else if (e->mode != MCP_SUB_ANY && e->prefix_len != max_prefix (e->family))
    why = "a source filter on a prefix (one group only)";
  else if (e->prefix_len == max_prefix (e->family)
      && !is_multicast (e->family, e->group))
    why = "the group is not a multicast address";
  if (!why) {
    guint8 masked[16];

    memcpy (masked, e->group, 16);
    for (i = e->prefix_len; i < 128; i++)
      masked[i / 8] &= ~(0x80 >> (i % 8));
    if (memcmp (masked, e->group, 16) != 0)
      why = "host bits set beyond the prefix";
  }
  if (why)
    return why;
  if (e->n_sources > 1) {
    qsort (e->sources, e->n_sources, 16, source_compare);
    for (i = 1, n = 1; i < e->n_sources; i++)
      if (memcmp (e->sources[i], e->sources[n - 1], 16) != 0)
        memmove (e->sources[n++], e->sources[i], 16);
    e->n_sources = n;
  }
  return NULL;
}

McpSubSet *
mcp_sub_set_new (void)
{
  McpSubSet *set = g_new0 (McpSubSet, 1);

  set->entries = g_ptr_array_new_with_free_func (entry_free);
  return set;
}

void
mcp_sub_set_free (McpSubSet * set)
{
  if (!set)
    return;
  g_ptr_array_unref (set->entries);
  g_free (set);
}

McpSubSet *
mcp_sub_set_copy (const McpSubSet * set)
{
  McpSubSet *c = mcp_sub_set_new ();
  guint i;

  for (i = 0; i < set->entries->len; i++)
    g_ptr_array_add (c->entries, entry_copy (set->entries->pdata[i]));
  return c;
}

gboolean
mcp_sub_set_equal (const McpSubSet * a, const McpSubSet * b)
{
  guint i;

  if (a->entries->len != b->entries->len)
    return FALSE;
  for (i = 0; i < a->entries->len; i++)
    if (entry_compare (a->entries->pdata[i], b->entries->pdata[i]) != 0)
      return FALSE;
  return TRUE;
}

guint
mcp_sub_set_size (const McpSubSet * set)
{
  return set->entries->len;
}

gboolean
mcp_sub_set_is_empty (const McpSubSet * set)
{
  return set->entries->len == 0;
}

const McpSubEntry *
mcp_sub_set_get (const McpSubSet * set, guint i)
{
  g_return_val_if_fail (i < set->entries->len, NULL);
  return set->entries->pdata[i];
}

void
mcp_sub_set_clear (McpSubSet * set)
{
  g_ptr_array_set_size (set->entries, 0);
}

/* Where e is or would go: TRUE when an equal entry is at *index. */
static gboolean
find (const McpSubSet * set, const McpSubEntry * e, guint * index)
{
  guint lo = 0, hi = set->entries->len;

  while (lo < hi) {
    guint mid = (lo + hi) / 2;
    gint r = entry_compare (set->entries->pdata[mid], e);

    if (r == 0) {
      *index = mid;
      return TRUE;
    }
    if (r < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *index = lo;
  return FALSE;
}

/* Takes e (checked). */
static void
insert (McpSubSet * set, McpSubEntry * e)
{
  guint at;

  if (find (set, e, &at))
    entry_free (e);
  else
    g_ptr_array_insert (set->entries, at, e);
}

gboolean
mcp_sub_set_add (McpSubSet * set, const McpSubEntry * entry, GError ** error)
{
  McpSubEntry *e = entry_copy (entry);
  const gchar *why = entry_check (e);

  if (why) {
    g_set_error (error, MCP_SUB_ERROR, MCP_SUB_ERROR_INVALID,
        "bad subscription: %s", why);
    entry_free (e);
    return FALSE;
  }
  insert (set, e);
  return TRUE;
}

gboolean
mcp_sub_set_remove (McpSubSet * set, const McpSubEntry * entry)
{
  McpSubEntry *e = entry_copy (entry);
  guint at;
  gboolean found;

  /* compared in canonical form */
  found = !entry_check (e) && find (set, e, &at);
  entry_free (e);
  if (found)
    g_ptr_array_remove_index (set->entries, at);
  return found;
}

void
mcp_sub_set_add_all (McpSubSet * set, const McpSubSet * other)
{
  guint i;

  for (i = 0; i < other->entries->len; i++)
    insert (set, entry_copy (other->entries->pdata[i]));
}

void
mcp_sub_set_add_everything (McpSubSet * set)
{
  McpSubEntry e = { 4, 0, MCP_SUB_ANY, 1, 65535, {0}, 0, NULL };

  insert (set, entry_copy (&e));
  e.family = 6;
  insert (set, entry_copy (&e));
}

void
mcp_sub_set_diff (const McpSubSet * a, const McpSubSet * b,
    McpSubSet * only_a, McpSubSet * only_b)
{
  guint i = 0, j = 0;
  guint na = a ? a->entries->len : 0, nb = b ? b->entries->len : 0;

  while (i < na || j < nb) {
    gint r = i == na ? 1 : j == nb ? -1 :
        entry_compare (a->entries->pdata[i], b->entries->pdata[j]);

    if (r == 0) {
      i++;
      j++;
    } else if (r < 0) {
      if (only_a)
        insert (only_a, entry_copy (a->entries->pdata[i]));
      i++;
    } else {
      if (only_b)
        insert (only_b, entry_copy (b->entries->pdata[j]));
      j++;
    }
  }
}

static gboolean
has_source (const McpSubEntry * e, const guint8 * source)
{
  guint8 s[16] = { 0 };

  memcpy (s, source, addr_len (e->family));
  return bsearch (s, e->sources, e->n_sources, 16, source_compare) != NULL;
}

gboolean
mcp_sub_set_matches (const McpSubSet * set, guint8 family,
    const guint8 * group, guint16 port, const guint8 * source)
{
  guint i;

  for (i = 0; i < set->entries->len; i++) {
    const McpSubEntry *e = set->entries->pdata[i];

    if (e->family != family || port < e->port_lo || port > e->port_hi
        || !prefix_holds (e->group, e->prefix_len, group))
      continue;
    if (e->mode == MCP_SUB_ANY || !source)
      return TRUE;
    if (has_source (e, source) == (e->mode == MCP_SUB_INCLUDE))
      return TRUE;
  }
  return FALSE;
}

gboolean
mcp_sub_set_covers (const McpSubSet * set, guint8 family,
    const guint8 * group, guint16 port)
{
  guint i;

  for (i = 0; i < set->entries->len; i++) {
    const McpSubEntry *e = set->entries->pdata[i];

    if (e->family == family && e->mode == MCP_SUB_ANY && port >= e->port_lo
        && port <= e->port_hi && prefix_holds (e->group, e->prefix_len, group))
      return TRUE;
  }
  return FALSE;
}

void
mcp_sub_set_restrict (const McpSubSet * scope, const McpSubEntry * want,
    McpSubSet * out)
{
  guint i;

  for (i = 0; i < scope->entries->len; i++) {
    const McpSubEntry *s = scope->entries->pdata[i];
    McpSubEntry e;

    if (s->family != want->family
        || !prefix_holds (s->group, s->prefix_len, want->group)
        || want->prefix_len < s->prefix_len)
      continue;
    e = *want;
    e.port_lo = MAX (want->port_lo, s->port_lo);
    e.port_hi = MIN (want->port_hi, s->port_hi);
    if (e.port_lo > e.port_hi)
      continue;
    insert (out, entry_copy (&e));
  }
}

/* ---- text ---- */

static gboolean
parse_address (const gchar * text, guint8 * family, guint8 * out)
{
  GInetAddress *a = g_inet_address_new_from_string (text);

  if (!a)
    return FALSE;
  *family = g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV4 ? 4 : 6;
  memset (out, 0, 16);
  memcpy (out, g_inet_address_to_bytes (a), addr_len (*family));
  g_object_unref (a);
  return TRUE;
}

static gboolean
parse_port (const gchar * text, guint16 * port)
{
  gchar *end;
  guint64 v;

  if (!g_ascii_isdigit (*text))
    return FALSE;
  v = g_ascii_strtoull (text, &end, 10);
  if (*end || v < 1 || v > 65535)
    return FALSE;
  *port = v;
  return TRUE;
}

/* Splits "GROUP[/LEN]:PORT[-PORT]" (IPv6 GROUP in brackets, or bare
 * before a /LEN) and fills e's group, prefix and ports. */
static const gchar *
parse_group_ports (gchar * text, McpSubEntry * e)
{
  gchar *group = text, *after, *len_text = NULL, *ports, *dash;
  guint8 family;

  if (*text == '[') {
    gchar *close = strchr (text, ']');

    if (!close)
      return "no ] after [GROUP";
    *close = 0;
    group = text + 1;
    after = close + 1;
    if (*after == '/') {
      len_text = after + 1;
      ports = strchr (len_text, ':');
    } else {
      ports = *after == ':' ? after : NULL;
    }
  } else if ((after = strchr (text, '/'))) {
    *after = 0;
    len_text = after + 1;
    ports = strchr (len_text, ':');
  } else {
    ports = strrchr (text, ':');
    if (ports && strchr (text, ':') != ports)
      return "write an IPv6 group as [GROUP]:PORT or PREFIX/LEN:PORT";
  }
  if (!ports)
    return "no :PORT after the group";
  *ports++ = 0;
  if (!parse_address (group, &family, e->group))
    return "the group is not a numeric address";
  e->family = family;
  e->prefix_len = max_prefix (family);
  if (len_text) {
    gchar *end;
    guint64 len = g_ascii_strtoull (len_text, &end, 10);

    if (!g_ascii_isdigit (*len_text) || *end || len > max_prefix (family))
      return "the prefix length is not a number within the address";
    e->prefix_len = len;
  }
  dash = strchr (ports, '-');
  if (dash)
    *dash++ = 0;
  if (!parse_port (ports, &e->port_lo)
      || !parse_port (dash ? dash : ports, &e->port_hi))
    return "the port is not a number within 1-65535";
  return NULL;
}

/* One word of the text form into e (family 0 for "*"); the caller frees
 * e->sources. */
static gboolean
parse_entry (const gchar * word, McpSubEntry * e, GError ** error)
{
  const gchar *at = strchr (word, '@'), *why = NULL;
  gchar *text;
  guint8 *families = NULL;
  guint i;

  memset (e, 0, sizeof (*e));
  if (strcmp (word, "*") == 0)
    return TRUE;
  if (at) {
    gchar *list = g_strndup (word, at - word), *p = list, **parts;

    e->mode = MCP_SUB_INCLUDE;
    if (*p == '!') {
      e->mode = MCP_SUB_EXCLUDE;
      p++;
    }
    parts = *p ? g_strsplit (p, "+", -1) : g_new0 (gchar *, 1);
    e->n_sources = g_strv_length (parts);
    e->sources = g_malloc0 (16 * MAX (e->n_sources, 1));
    families = g_new0 (guint8, MAX (e->n_sources, 1));
    for (i = 0; i < e->n_sources && !why; i++) {
      gchar *s = parts[i];
      gsize l = strlen (s);

      if (l > 2 && s[0] == '[' && s[l - 1] == ']') {
        s[l - 1] = 0;
        s++;
      }
      if (!parse_address (s, &families[i], e->sources[i]))
        why = "a source is not a numeric address";
    }
    g_strfreev (parts);
    g_free (list);
    if (e->n_sources == 0 && !why)
      why = "no source before @";
  }
  if (!why) {
    text = g_strdup (at ? at + 1 : word);
    why = parse_group_ports (text, e);
    g_free (text);
  }
  for (i = 0; i < e->n_sources && !why; i++)
    if (families[i] != e->family)
      why = "a source of the other address family than the group";
  g_free (families);
  if (!why && e->family)
    why = entry_check (e);
  if (why)
    g_set_error (error, MCP_SUB_ERROR, MCP_SUB_ERROR_INVALID,
        "bad group \"%s\": %s", word, why);
  return why == NULL;
}

McpSubSet *
mcp_sub_set_parse (const gchar * text, GError ** error)
{
  McpSubSet *set = mcp_sub_set_new ();
  gchar **words = g_strsplit_set (text ? text : "", " \t\n", -1);
  guint i;

  for (i = 0; words[i]; i++) {
    McpSubEntry e;

    if (!*words[i])
      continue;
    if (!parse_entry (words[i], &e, error)) {
      g_free (e.sources);
      goto fail;
    }
    if (e.family == 0)
      mcp_sub_set_add_everything (set);
    else
      insert (set, entry_copy (&e));
    g_free (e.sources);
    if (set->entries->len > MCP_SUB_MAX_ENTRIES) {
      g_set_error (error, MCP_SUB_ERROR, MCP_SUB_ERROR_TOO_MANY,
          "more than %u groups", MCP_SUB_MAX_ENTRIES);
      goto fail;
    }
  }
  g_strfreev (words);
  return set;
fail:
  g_strfreev (words);
  mcp_sub_set_free (set);
  return NULL;
}

static void
append_address (GString * s, guint8 family, const guint8 * a, gboolean bracket)
{
  GInetAddress *ia = g_inet_address_new_from_bytes (a, family == 4 ?
      G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6);
  gchar *t = g_inet_address_to_string (ia);

  if (bracket && family == 6)
    g_string_append_printf (s, "[%s]", t);
  else
    g_string_append (s, t);
  g_free (t);
  g_object_unref (ia);
}

static void
append_entry (GString * s, const McpSubEntry * e)
{
  guint i;

  if (e->mode != MCP_SUB_ANY) {
    if (e->mode == MCP_SUB_EXCLUDE)
      g_string_append_c (s, '!');
    for (i = 0; i < e->n_sources; i++) {
      if (i)
        g_string_append_c (s, '+');
      append_address (s, e->family, e->sources[i], TRUE);
    }
    g_string_append_c (s, '@');
  }
  append_address (s, e->family, e->group, TRUE);
  if (e->prefix_len != max_prefix (e->family))
    g_string_append_printf (s, "/%u", e->prefix_len);
  g_string_append_printf (s, ":%u", e->port_lo);
  if (e->port_hi != e->port_lo)
    g_string_append_printf (s, "-%u", e->port_hi);
}

gchar *
mcp_sub_entry_to_string (const McpSubEntry * entry)
{
  GString *s = g_string_new (NULL);

  append_entry (s, entry);
  return g_string_free (s, FALSE);
}

gchar *
mcp_sub_set_to_string (const McpSubSet * set)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < set->entries->len; i++) {
    if (i)
      g_string_append_c (s, ' ');
    append_entry (s, set->entries->pdata[i]);
  }
  return g_string_free (s, FALSE);
}

/* ---- wire ---- */

guint
mcp_sub_set_encode (const McpSubSet * set, guint first, GByteArray * out,
    gsize max_len)
{
  gsize used = 0;
  guint i;

  for (i = first; i < set->entries->len; i++) {
    const McpSubEntry *e = set->entries->pdata[i];
    gsize len = MCP_SUB_ENTRY_LEN + 16 * e->n_sources;
    guint8 h[MCP_SUB_ENTRY_LEN] = { 0 };

    if (used + len > max_len)
      break;
    h[0] = e->family;
    h[1] = e->prefix_len;
    h[2] = e->mode;
    h[4] = e->port_lo >> 8;
    h[5] = e->port_lo & 0xff;
    h[6] = e->port_hi >> 8;
    h[7] = e->port_hi & 0xff;
    h[8] = e->n_sources >> 8;
    h[9] = e->n_sources & 0xff;
    memcpy (h + 12, e->group, 16);
    g_byte_array_append (out, h, sizeof (h));
    if (e->n_sources)
      g_byte_array_append (out, (const guint8 *) e->sources, 16 * e->n_sources);
    used += len;
  }
  return i;
}

gboolean
mcp_sub_set_apply_wire (McpSubSet * set, const guint8 * data, gsize len,
    gboolean remove, GError ** error)
{
  GPtrArray *parsed = g_ptr_array_new_with_free_func (entry_free);
  const gchar *why;
  gsize off = 0;
  guint i, added = 0;

  while (off < len) {
    McpSubEntry *e;
    guint n;

    if (len - off < MCP_SUB_ENTRY_LEN) {
      g_set_error (error, MCP_SUB_ERROR, MCP_SUB_ERROR_INVALID,
          "bad subscription: %" G_GSIZE_FORMAT " bytes left over after "
          "the last entry", len - off);
      goto fail;
    }
    n = data[off + 8] << 8 | data[off + 9];
    if (n > MCP_SUB_MAX_SOURCES) {
      g_set_error (error, MCP_SUB_ERROR, MCP_SUB_ERROR_INVALID,
          "bad subscription: %u sources (at most %u)", n, MCP_SUB_MAX_SOURCES);
      goto fail;
    }
    if (len - off - MCP_SUB_ENTRY_LEN < 16 * (gsize) n) {
      g_set_error (error, MCP_SUB_ERROR, MCP_SUB_ERROR_INVALID,
          "bad subscription: %u sources announced, fewer sent", n);
      goto fail;
    }
    e = g_new0 (McpSubEntry, 1);
    e->family = data[off];
    e->prefix_len = data[off + 1];
    e->mode = data[off + 2] > MCP_SUB_EXCLUDE ? 99 : data[off + 2];
    e->port_lo = data[off + 4] << 8 | data[off + 5];
    e->port_hi = data[off + 6] << 8 | data[off + 7];
    memcpy (e->group, data + off + 12, 16);
    e->n_sources = n;
    if (n)
      e->sources = g_memdup2 (data + off + MCP_SUB_ENTRY_LEN, 16 * n);
    off += MCP_SUB_ENTRY_LEN + 16 * n;
    g_ptr_array_add (parsed, e);
    if ((why = entry_check (e))) {
      g_set_error (error, MCP_SUB_ERROR, MCP_SUB_ERROR_INVALID,
          "bad subscription: %s", why);
      goto fail;
    }
    if (e->family == 4) {
      for (i = 0; i < n; i++)
        if (memcmp (e->sources[i] + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12)) {
          g_set_error (error, MCP_SUB_ERROR, MCP_SUB_ERROR_INVALID,
              "bad subscription: an IPv4 source with bytes past its 4");
          goto fail;
        }
      if (memcmp (e->group + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12)) {
        g_set_error (error, MCP_SUB_ERROR, MCP_SUB_ERROR_INVALID,
            "bad subscription: an IPv4 group with bytes past its 4");
        goto fail;
      }
    }
  }
  if (!remove) {
    guint at;

    for (i = 0; i < parsed->len; i++)
      if (!find (set, parsed->pdata[i], &at))
        added++;
    if (set->entries->len + added > MCP_SUB_MAX_ENTRIES) {
      g_set_error (error, MCP_SUB_ERROR, MCP_SUB_ERROR_TOO_MANY,
          "too many subscriptions: more than %u", MCP_SUB_MAX_ENTRIES);
      goto fail;
    }
  }
  for (i = 0; i < parsed->len; i++) {
    if (remove)
      mcp_sub_set_remove (set, parsed->pdata[i]);
    else
      insert (set, g_steal_pointer (&parsed->pdata[i]));
  }
  g_ptr_array_unref (parsed);
  return TRUE;
fail:
  g_ptr_array_unref (parsed);
  return FALSE;
}
