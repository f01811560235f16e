/* mcastproxy — loop safety of forwarded datagrams (see mcp-loopguard.h). */
#include "config.h"

#include "mcp-loopguard.h"

#include "mcp-dedup.h"

struct _McpLoopGuard
{
  guint max_hops;
  McpDedup *dedup;              /* NULL: no window */
  guint64 passed;
  guint64 hops_exceeded;
  guint64 duplicates;
};

McpLoopGuard *
mcp_loop_guard_new (void)
{
  McpLoopGuard *guard = g_new0 (McpLoopGuard, 1);

  guard->max_hops = MCP_LOOP_GUARD_DEFAULT_MAX_HOPS;
  return guard;
}

void
mcp_loop_guard_free (McpLoopGuard * guard)
{
  if (guard == NULL)
    return;
  mcp_dedup_free (guard->dedup);
  g_free (guard);
}

void
mcp_loop_guard_set_max_hops (McpLoopGuard * guard, guint max_hops)
{
  g_return_if_fail (max_hops <= MCP_LOOP_GUARD_MAX_HOPS);
  guard->max_hops = max_hops;
}

guint
mcp_loop_guard_get_max_hops (McpLoopGuard * guard)
{
  return guard->max_hops;
}

void
mcp_loop_guard_start (McpLoopGuard * guard, gboolean dedup)
{
  mcp_loop_guard_stop (guard);
  if (dedup)
    guard->dedup = mcp_dedup_new (MCP_LOOP_GUARD_WINDOW,
        MCP_LOOP_GUARD_MAX_STREAMS, MCP_LOOP_GUARD_EXPIRY_US);
  guard->passed = guard->hops_exceeded = guard->duplicates = 0;
}

void
mcp_loop_guard_stop (McpLoopGuard * guard)
{
  g_clear_pointer (&guard->dedup, mcp_dedup_free);
}

void
mcp_loop_guard_cross_link (McpFrameMeta * meta)
{
  if (meta->hops < MCP_LOOP_GUARD_MAX_HOPS)
    meta->hops++;
}

McpLoopGuardVerdict
mcp_loop_guard_admit (McpLoopGuard * guard, const McpFrameMeta * meta,
    gint64 now_us)
{
  /* the hop limit first: a datagram dropped for it is not remembered, so
   * that a copy over a shorter path still gets through */
  if (guard->max_hops && meta->hops > guard->max_hops) {
    guard->hops_exceeded++;
    return MCP_LOOP_GUARD_HOPS_EXCEEDED;
  }
  if (guard->dedup && mcp_dedup_check (guard->dedup, meta, now_us)
      != MCP_DEDUP_NEW) {
    guard->duplicates++;
    return MCP_LOOP_GUARD_DUPLICATE;
  }
  guard->passed++;
  return MCP_LOOP_GUARD_PASS;
}

McpLoopGuardVerdict
mcp_loop_guard_admit_received (McpLoopGuard * guard, McpFrameMeta * meta,
    gint64 now_us)
{
  mcp_loop_guard_cross_link (meta);
  return mcp_loop_guard_admit (guard, meta, now_us);
}

guint64
mcp_loop_guard_get_passed (McpLoopGuard * guard)
{
  return guard->passed;
}

guint64
mcp_loop_guard_get_hops_exceeded (McpLoopGuard * guard)
{
  return guard->hops_exceeded;
}

guint64
mcp_loop_guard_get_duplicates (McpLoopGuard * guard)
{
  return guard->duplicates;
}

/* ---- one active connection per peer id --------------------------------- */

/* peer id -> GQueue of members in the order they joined: the head is the
 * active one, the rest stand by. Only peer ids with members have a queue. */
struct _McpElection
{
  GHashTable *peers;
};

McpElection *
mcp_election_new (void)
{
  McpElection *election = g_new0 (McpElection, 1);

  election->peers = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      g_free, (GDestroyNotify) g_queue_free);
  return election;
}

void
mcp_election_free (McpElection * election)
{
  if (election == NULL)
    return;
  g_hash_table_destroy (election->peers);
  g_free (election);
}

gboolean
mcp_election_join (McpElection * election, guint64 peer_id, gpointer member)
{
  GQueue *members;

  g_return_val_if_fail (member != NULL, TRUE);
  if (peer_id == 0)
    return TRUE;
  members = g_hash_table_lookup (election->peers, &peer_id);
  if (members == NULL) {
    members = g_queue_new ();
    g_hash_table_insert (election->peers, g_memdup2 (&peer_id,
            sizeof (peer_id)), members);
  }
  g_return_val_if_fail (g_queue_find (members, member) == NULL,
      g_queue_peek_head (members) == member);
  g_queue_push_tail (members, member);
  return g_queue_peek_head (members) == member;
}

gpointer
mcp_election_leave (McpElection * election, guint64 peer_id, gpointer member)
{
  GQueue *members;
  gboolean was_active;

  if (peer_id == 0)
    return NULL;
  members = g_hash_table_lookup (election->peers, &peer_id);
  if (members == NULL || !g_queue_find (members, member))
    return NULL;
  was_active = g_queue_peek_head (members) == member;
  g_queue_remove (members, member);
  if (g_queue_is_empty (members)) {
    g_hash_table_remove (election->peers, &peer_id);
    return NULL;
  }
  return was_active ? g_queue_peek_head (members) : NULL;
}

gpointer
mcp_election_get_active (McpElection * election, guint64 peer_id)
{
  GQueue *members = g_hash_table_lookup (election->peers, &peer_id);

  return members ? g_queue_peek_head (members) : NULL;
}

guint
mcp_election_get_n_standby (McpElection * election, guint64 peer_id)
{
  GQueue *members = g_hash_table_lookup (election->peers, &peer_id);

  return members ? g_queue_get_length (members) - 1 : 0;
}
