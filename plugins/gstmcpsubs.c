/* mcastproxy — subscriptions inside a pipeline (see gstmcpsubs.h).
 *
 * The structure of both the event and the query: name GST_MCP_SUBS_NAME,
 * "peer-ids" an array of guint64 and "sets" an array of strings (the text
 * form of mcp-subscription.h), one per peer; the query's answer also sets
 * "answered" to TRUE.
 */
#include "config.h"

#include "gstmcpsubs.h"

static void
peer_clear (gpointer p)
{
  GstMcpSubsPeer *peer = p;

  mcp_sub_set_free (peer->set);
}

GArray *
gst_mcp_subs_peers_new (void)
{
  GArray *peers = g_array_new (FALSE, TRUE, sizeof (GstMcpSubsPeer));

  g_array_set_clear_func (peers, peer_clear);
  return peers;
}

void
gst_mcp_subs_peers_add (GArray * peers, guint64 peer_id, const McpSubSet * set)
{
  GstMcpSubsPeer peer;
  guint i;

  for (i = 0; i < peers->len; i++) {
    GstMcpSubsPeer *p = &g_array_index (peers, GstMcpSubsPeer, i);

    if (p->peer_id == peer_id) {
      mcp_sub_set_add_all (p->set, set);
      return;
    }
  }
  peer.peer_id = peer_id;
  peer.set = mcp_sub_set_copy (set);
  g_array_append_val (peers, peer);
}

static void
fill (GstStructure * s, const GArray * peers)
{
  GValue ids = G_VALUE_INIT, sets = G_VALUE_INIT;
  guint i;

  gst_value_array_init (&ids, peers->len);
  gst_value_array_init (&sets, peers->len);
  for (i = 0; i < peers->len; i++) {
    const GstMcpSubsPeer *p = &g_array_index (peers, GstMcpSubsPeer, i);
    GValue v = G_VALUE_INIT;

    g_value_init (&v, G_TYPE_UINT64);
    g_value_set_uint64 (&v, p->peer_id);
    gst_value_array_append_and_take_value (&ids, &v);
    g_value_init (&v, G_TYPE_STRING);
    g_value_take_string (&v, mcp_sub_set_to_string (p->set));
    gst_value_array_append_and_take_value (&sets, &v);
  }
  gst_structure_take_value (s, "peer-ids", &ids);
  gst_structure_take_value (s, "sets", &sets);
}

static GArray *
parse (const GstStructure * s)
{
  const GValue *ids, *sets;
  GArray *peers;
  guint i, n;

  if (!s || !gst_structure_has_name (s, GST_MCP_SUBS_NAME))
    return NULL;
  ids = gst_structure_get_value (s, "peer-ids");
  sets = gst_structure_get_value (s, "sets");
  if (!ids || !sets || !GST_VALUE_HOLDS_ARRAY (ids)
      || !GST_VALUE_HOLDS_ARRAY (sets))
    return NULL;
  n = MIN (gst_value_array_get_size (ids), gst_value_array_get_size (sets));
  peers = gst_mcp_subs_peers_new ();
  for (i = 0; i < n; i++) {
    const GValue *id = gst_value_array_get_value (ids, i);
    const GValue *text = gst_value_array_get_value (sets, i);
    McpSubSet *set;

    if (!G_VALUE_HOLDS_UINT64 (id) || !G_VALUE_HOLDS_STRING (text))
      continue;
    /* written by mcp_sub_set_to_string: it parses */
    set = mcp_sub_set_parse (g_value_get_string (text), NULL);
    if (!set)
      continue;
    gst_mcp_subs_peers_add (peers, g_value_get_uint64 (id), set);
    mcp_sub_set_free (set);
  }
  return peers;
}

GstEvent *
gst_mcp_subs_event_new (const GArray * peers)
{
  GstStructure *s = gst_structure_new_empty (GST_MCP_SUBS_NAME);

  fill (s, peers);
  return gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM, s);
}

GstQuery *
gst_mcp_subs_query_new (void)
{
  return gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty (GST_MCP_SUBS_NAME));
}

gboolean
gst_mcp_subs_query_is (GstQuery * query)
{
  return GST_QUERY_TYPE (query) == GST_QUERY_CUSTOM
      && gst_structure_has_name (gst_query_get_structure (query),
      GST_MCP_SUBS_NAME);
}

void
gst_mcp_subs_query_set (GstQuery * query, const GArray * peers)
{
  GstStructure *s = gst_query_writable_structure (query);

  fill (s, peers);
  gst_structure_set (s, "answered", G_TYPE_BOOLEAN, TRUE, NULL);
}

GArray *
gst_mcp_subs_event_parse (GstEvent * event)
{
  if (GST_EVENT_TYPE (event) != GST_EVENT_CUSTOM_UPSTREAM)
    return NULL;
  return parse (gst_event_get_structure (event));
}

GArray *
gst_mcp_subs_query_parse (GstQuery * query)
{
  const GstStructure *s;
  gboolean answered = FALSE;

  if (!gst_mcp_subs_query_is (query))
    return NULL;
  s = gst_query_get_structure (query);
  if (!gst_structure_get_boolean (s, "answered", &answered) || !answered)
    return NULL;
  return parse (s);
}

GArray *
gst_mcp_subs_ask_downstream (GstPad * srcpad)
{
  GstQuery *query = gst_mcp_subs_query_new ();
  GArray *peers = NULL;

  if (gst_pad_peer_query (srcpad, query))
    peers = gst_mcp_subs_query_parse (query);
  gst_query_unref (query);
  return peers;
}

McpSubSet *
gst_mcp_subs_union (const GArray * peers, guint64 except_peer_id)
{
  McpSubSet *set = mcp_sub_set_new ();
  guint i;

  for (i = 0; i < peers->len; i++) {
    const GstMcpSubsPeer *p = &g_array_index (peers, GstMcpSubsPeer, i);

    if (except_peer_id == 0 || p->peer_id != except_peer_id)
      mcp_sub_set_add_all (set, p->set);
  }
  return set;
}
