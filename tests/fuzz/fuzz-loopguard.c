/* mcastproxy fuzzing — loop safety (mcp-loopguard): random sequences of
 * connections joining and leaving the election and of datagrams through
 * the guard, against a plain model, with the invariants an element relies
 * on:
 *   - at most one active connection per nonzero peer id, and every one
 *     standing by has an active twin (as the caller sees it, from what the
 *     calls returned);
 *   - the heir of a leaving active connection is the oldest standing by;
 *   - a datagram is let through at most once per (origin, group, port,
 *     sequence number) while its stream is remembered, never beyond the
 *     hop limit;
 *   - the counters add up to the datagrams offered.
 *
 * Input: byte 0 the hop limit (0: none), byte 1 bit 0: dedup on; then
 * events of 4 bytes, byte 0 bits 0-1 the kind:
 *   0 join:  bits 2-4 connection (8), bits 5-6 its peer id (0-3)
 *   1 leave: bits 2-4 connection; bits 5-6 0: under its own peer id, else
 *            under another one (nothing must change)
 *   2 datagram of this node, 3 one received over a link: bits 2-4 the
 *            stream (origin, group, port), bit 5: a start (dedup: bit 6)
 *            instead; byte 1 the sequence number, byte 2 the hop count,
 *            byte 3 time passing before it (x 1 ms).
 */
#include "config.h"

#include "mcp-loopguard.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define N_CONNS 8
#define N_PEERS 4
#define N_STREAMS 8

typedef enum
{
  ABSENT,
  ACTIVE,
  STANDBY,
} ConnState;

typedef struct
{
  /* the caller's view: only from what the calls returned */
  ConnState state;
  guint64 peer_id;              /* joined with */
} Conn;

typedef struct
{
  Conn conns[N_CONNS];
  /* the model: members of each peer id in joining order */
  GQueue members[N_PEERS];

  guint max_hops;
  gboolean dedup;
  GHashTable *seen[N_STREAMS];  /* sequence numbers let through */
  gint64 last_seen[N_STREAMS];  /* when the window last looked at it */
  guint64 offered, passed, hops_exceeded, duplicates;
} Model;

static void
check_election (McpElection * e, Model * m)
{
  guint64 p;
  guint i;

  for (p = 0; p < N_PEERS; p++) {
    GQueue *q = &m->members[p];
    guint active = 0, standby = 0;

    for (i = 0; i < N_CONNS; i++) {
      if (m->conns[i].state == ABSENT || m->conns[i].peer_id != p)
        continue;
      if (m->conns[i].state == ACTIVE)
        active++;
      else
        standby++;
    }
    if (p == 0) {
      /* no peer id: all active, none recorded */
      g_assert_cmpuint (standby, ==, 0);
      g_assert_null (mcp_election_get_active (e, 0));
      g_assert_cmpuint (mcp_election_get_n_standby (e, 0), ==, 0);
      continue;
    }
    g_assert_cmpuint (active, <=, 1);
    if (standby > 0)
      g_assert_cmpuint (active, ==, 1);
    g_assert_cmpuint (active + standby, ==, g_queue_get_length (q));
    g_assert_true (mcp_election_get_active (e, p) == g_queue_peek_head (q));
    g_assert_cmpuint (mcp_election_get_n_standby (e, p), ==,
        active + standby ? active + standby - 1 : 0);
    if (active)
      g_assert_true (((Conn *) g_queue_peek_head (q))->state == ACTIVE);
  }
}

static void
do_join (McpElection * e, Model * m, guint c, guint64 peer_id)
{
  Conn *conn = &m->conns[c];
  gboolean want, got;

  if (conn->state != ABSENT)
    return;                     /* a connection joins once */
  want = peer_id == 0 || g_queue_is_empty (&m->members[peer_id]);
  got = mcp_election_join (e, peer_id, conn);
  g_assert_cmpint (got, ==, want);
  conn->state = got ? ACTIVE : STANDBY;
  conn->peer_id = peer_id;
  if (peer_id != 0)
    g_queue_push_tail (&m->members[peer_id], conn);
}

static void
do_leave (McpElection * e, Model * m, guint c, guint other)
{
  Conn *conn = &m->conns[c];
  guint64 peer_id = (conn->peer_id + other) % N_PEERS;
  gpointer want = NULL, got;
  GQueue *q = &m->members[peer_id];

  if (peer_id != 0 && g_queue_find (q, conn)) {
    gboolean was_head = g_queue_peek_head (q) == conn;

    g_queue_remove (q, conn);
    if (was_head)
      want = g_queue_peek_head (q);
  }
  got = mcp_election_leave (e, peer_id, conn);
  g_assert_true (got == want);
  if (other == 0 && conn->state != ABSENT) {
    conn->state = ABSENT;
    if (got) {
      /* the heir stood by for the same peer id */
      g_assert_cmpint (((Conn *) got)->state, ==, STANDBY);
      g_assert_cmpuint (((Conn *) got)->peer_id, ==, peer_id);
      ((Conn *) got)->state = ACTIVE;
    }
  }
}

static void
do_start (McpLoopGuard * g, Model * m, gboolean dedup)
{
  guint i;

  mcp_loop_guard_start (g, dedup);
  m->dedup = dedup;
  m->offered = m->passed = m->hops_exceeded = m->duplicates = 0;
  for (i = 0; i < N_STREAMS; i++)
    g_hash_table_remove_all (m->seen[i]);
}

static void
stream_meta (McpFrameMeta * meta, guint stream, guint64 seq, guint8 hops)
{
  memset (meta, 0, sizeof (*meta));
  /* the streams differ in one field each: origin, group, port */
  meta->origin_id = stream & 1 ? G_GUINT64_CONSTANT (0xfedcba9876543210) : 3;
  meta->family = 4;
  meta->group[0] = 239;
  meta->group[3] = stream & 2 ? 2 : 1;
  meta->port = stream & 4 ? 5006 : 5004;
  meta->seq = seq;
  meta->hops = hops;
}

static void
do_datagram (McpLoopGuard * g, Model * m, guint stream, guint64 seq,
    guint8 hops, gboolean received, gint64 now)
{
  McpFrameMeta meta;
  McpLoopGuardVerdict want, got;
  guint8 hops_after = received && hops < 255 ? hops + 1 : hops;

  /* sequence numbers 0-255: always within the window, never a restart;
   * what the window forgets is a stream idle for longer than its expiry */
  if (m->dedup && now - m->last_seen[stream] > MCP_LOOP_GUARD_EXPIRY_US)
    g_hash_table_remove_all (m->seen[stream]);

  if (m->max_hops && hops_after > m->max_hops) {
    want = MCP_LOOP_GUARD_HOPS_EXCEEDED;
  } else {
    if (m->dedup && g_hash_table_contains (m->seen[stream],
            GSIZE_TO_POINTER (seq + 1)))
      want = MCP_LOOP_GUARD_DUPLICATE;
    else
      want = MCP_LOOP_GUARD_PASS;
    if (m->dedup) {
      m->last_seen[stream] = now;
      g_hash_table_add (m->seen[stream], GSIZE_TO_POINTER (seq + 1));
    }
  }

  stream_meta (&meta, stream, seq, hops);
  got = received ? mcp_loop_guard_admit_received (g, &meta, now) :
      mcp_loop_guard_admit (g, &meta, now);
  g_assert_cmpint (got, ==, want);
  g_assert_cmpuint (meta.hops, ==, hops_after);

  m->offered++;
  if (got == MCP_LOOP_GUARD_PASS)
    m->passed++;
  else if (got == MCP_LOOP_GUARD_HOPS_EXCEEDED)
    m->hops_exceeded++;
  else
    m->duplicates++;
  g_assert_cmpuint (mcp_loop_guard_get_passed (g), ==, m->passed);
  g_assert_cmpuint (mcp_loop_guard_get_hops_exceeded (g), ==, m->hops_exceeded);
  g_assert_cmpuint (mcp_loop_guard_get_duplicates (g), ==, m->duplicates);
  g_assert_cmpuint (mcp_loop_guard_get_passed (g) +
      mcp_loop_guard_get_hops_exceeded (g) +
      mcp_loop_guard_get_duplicates (g), ==, m->offered);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  Model m;
  McpLoopGuard *g;
  McpElection *e;
  gint64 now = 0;
  gsize off;
  guint i;

  if (size < 2)
    return 0;
  memset (&m, 0, sizeof (m));
  for (i = 0; i < N_PEERS; i++)
    g_queue_init (&m.members[i]);
  for (i = 0; i < N_STREAMS; i++)
    m.seen[i] = g_hash_table_new (NULL, NULL);
  m.max_hops = data[0];
  g = mcp_loop_guard_new ();
  e = mcp_election_new ();
  mcp_loop_guard_set_max_hops (g, m.max_hops);
  do_start (g, &m, data[1] & 1);

  for (off = 2; off + 4 <= size; off += 4) {
    const guint8 *ev = data + off;
    guint kind = ev[0] & 3, which = (ev[0] >> 2) & 7, arg = (ev[0] >> 5) & 3;

    switch (kind) {
      case 0:
        do_join (e, &m, which, arg);
        break;
      case 1:
        do_leave (e, &m, which, arg);
        break;
      default:
        now += ev[3] * 1000;
        if (arg & 1)
          do_start (g, &m, (arg & 2) != 0);
        else
          do_datagram (g, &m, which, ev[1], ev[2], kind == 3, now);
        break;
    }
    check_election (e, &m);
  }

  mcp_loop_guard_stop (g);
  /* the counters stay after a stop */
  g_assert_cmpuint (mcp_loop_guard_get_passed (g), ==, m.passed);
  mcp_loop_guard_free (g);
  mcp_election_free (e);
  for (i = 0; i < N_PEERS; i++)
    g_queue_clear (&m.members[i]);
  for (i = 0; i < N_STREAMS; i++)
    g_hash_table_unref (m.seen[i]);
  return 0;
}
