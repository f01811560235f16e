/* mcastproxy — subscriptions: which groups a peer wants, and a scope.
 *
 * A subscription entry names a group (or a prefix of groups), a port range
 * and, for one group, a source filter (any source, INCLUDE {S...} or
 * EXCLUDE {S...}, as IGMPv3/MLDv2 say it). A set of entries is what one
 * peer wants; a datagram is wanted when some entry matches its group and
 * port. The same type serves as a scope: the groups and ports a gateway
 * may carry at all ("239.10.0.0/16:5004 ff3e::/96:5004").
 *
 * Text form, entries separated by spaces:
 *   239.1.1.1:5000            one group, one port
 *   239.10.0.0/16:5004        every group of a prefix
 *   232.1.1.0/24:5000-5010    a port range
 *   [ff3e::1]:5004  ff3e::/96:5004  [ff3e::]/96:5004   IPv6
 *   10.0.0.1+10.0.0.2@232.1.1.1:5000   INCLUDE these sources
 *   !10.0.0.9@239.1.1.1:5000            EXCLUDE these sources
 *   *                          everything (0.0.0.0/0 and ::/0, ports 1-65535)
 * Sources are written IPv4 as is, IPv6 in brackets.
 *
 * Wire form (the payload of mpx SUBSCRIBE and UNSUBSCRIBE, docs/protocol.md):
 * entries one after the other, each 28 bytes plus 16 per source:
 *   0 family (4, 6)   1 prefix length   2 mode (0 any, 1 include, 2 exclude)
 *   3 reserved        4 port low (BE16) 6 port high (BE16)
 *   8 source count (BE16)   10 reserved (2)   12 group (16)   28 sources
 *
 * Pure code: no sockets, no GStreamer. Not thread-safe: one owner per set.
 */
#ifndef __MCP_SUBSCRIPTION_H__
#define __MCP_SUBSCRIPTION_H__

#include <glib.h>

G_BEGIN_DECLS

#define MCP_SUB_ENTRY_LEN 28
/* sources per entry, as a group record of IGMPv3/MLDv2 can carry many but
 * a gateway has no use for more */
#define MCP_SUB_MAX_SOURCES 64
/* entries a set taken from a peer may hold (bounded memory per peer) */
#define MCP_SUB_MAX_ENTRIES 4096

typedef enum
{
  MCP_SUB_ANY = 0,              /* every source */
  MCP_SUB_INCLUDE = 1,          /* only the sources listed (at least one) */
  MCP_SUB_EXCLUDE = 2,          /* every source but those listed */
} McpSubMode;

typedef struct
{
  guint8 family;                /* 4 or 6 */
  guint8 prefix_len;            /* 32 (IPv4) or 128 (IPv6): one group */
  McpSubMode mode;              /* ANY for a prefix shorter than a group */
  guint16 port_lo, port_hi;     /* 1 <= port_lo <= port_hi */
  guint8 group[16];             /* host bits zero; IPv4 in the first 4 */
  guint n_sources;              /* 0 for ANY */
  guint8 (*sources)[16];        /* sorted, distinct; IPv4 in the first 4 */
} McpSubEntry;

typedef struct _McpSubSet McpSubSet;

#define MCP_SUB_ERROR (mcp_sub_error_quark ())
GQuark mcp_sub_error_quark (void);

typedef enum
{
  MCP_SUB_ERROR_INVALID,        /* text or bytes that are not an entry */
  MCP_SUB_ERROR_TOO_MANY,       /* more than MCP_SUB_MAX_ENTRIES */
} McpSubError;

McpSubSet *mcp_sub_set_new (void);
void mcp_sub_set_free (McpSubSet * set);
McpSubSet *mcp_sub_set_copy (const McpSubSet * set);
gboolean mcp_sub_set_equal (const McpSubSet * a, const McpSubSet * b);
guint mcp_sub_set_size (const McpSubSet * set);
gboolean mcp_sub_set_is_empty (const McpSubSet * set);
/* The i-th entry in canonical order (family, group, prefix, ports, mode,
 * sources). Valid until the set changes. */
const McpSubEntry *mcp_sub_set_get (const McpSubSet * set, guint i);
void mcp_sub_set_clear (McpSubSet * set);

/* Adds a copy of entry (checked as the parser checks; FALSE with error when
 * it is not valid). An entry equal to one present is not added twice. */
gboolean mcp_sub_set_add (McpSubSet * set, const McpSubEntry * entry,
    GError ** error);
/* Removes the entry equal to entry; FALSE when there was none. */
gboolean mcp_sub_set_remove (McpSubSet * set, const McpSubEntry * entry);
/* Adds every entry of other. */
void mcp_sub_set_add_all (McpSubSet * set, const McpSubSet * other);
/* Adds "*": every group of both families on every port. */
void mcp_sub_set_add_everything (McpSubSet * set);
/* Entries of a and not of b, and of b and not of a (both may be NULL). */
void mcp_sub_set_diff (const McpSubSet * a, const McpSubSet * b,
    McpSubSet * only_a, McpSubSet * only_b);

/* Whether some entry wants a datagram to group:port (family 4: the first 4
 * bytes of group count) from source (NULL: not known; then an INCLUDE or
 * EXCLUDE entry of the group matches, since it may be wanted). */
gboolean mcp_sub_set_matches (const McpSubSet * set, guint8 family,
    const guint8 * group, guint16 port, const guint8 * source);
/* Whether some entry covers the whole group (any source) on port: what a
 * scope asks before a group is joined. */
gboolean mcp_sub_set_covers (const McpSubSet * set, guint8 family,
    const guint8 * group, guint16 port);

/* Adds to out what want asks for inside scope: for every entry of scope
 * whose prefix holds want's group (want is one group), want's group and
 * sources on that scope entry's ports intersected with want's ports. */
void mcp_sub_set_restrict (const McpSubSet * scope, const McpSubEntry * want,
    McpSubSet * out);

/* Text form (see above); parse fails on the first bad entry with a message
 * naming it. An empty string is the empty set. */
McpSubSet *mcp_sub_set_parse (const gchar * text, GError ** error);
gchar *mcp_sub_set_to_string (const McpSubSet * set);
gchar *mcp_sub_entry_to_string (const McpSubEntry * entry);

/* Wire form. Appends the entries from index first on, as many as fit in
 * max_len bytes; returns the index after the last one written. */
guint mcp_sub_set_encode (const McpSubSet * set, guint first,
    GByteArray * out, gsize max_len);
/* Adds (remove: removes) the entries of a wire payload to set; FALSE with
 * error when the payload is not a whole number of valid entries or the
 * set would exceed MCP_SUB_MAX_ENTRIES (set is then unchanged). */
gboolean mcp_sub_set_apply_wire (McpSubSet * set, const guint8 * data,
    gsize len, gboolean remove, GError ** error);

G_END_DECLS

#endif /* __MCP_SUBSCRIPTION_H__ */
